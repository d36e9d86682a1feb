"""Small formatting helpers shared by every renderer."""

from __future__ import annotations

from collections.abc import Sequence

from shapecheck.check.program import Size


def _shape_names(shape: Sequence[Size]) -> str:
    return "×".join(str(s) for s in shape) if shape else "scalar"


def _shape_numbers(shape: Sequence[Size]) -> str:
    if not shape:
        return "scalar"
    return "×".join(str(s.value) if s.value is not None else str(s) for s in shape)


def shape_both(shape: Sequence[Size]) -> str:
    """`n×h = 8×5`, or just `8×5` when the names are the numbers."""
    names, numbers = _shape_names(shape), _shape_numbers(shape)
    return names if names == numbers else f"{names} = {numbers}"


def size_json(size: Size) -> dict[str, object]:
    return {"name": size.name, "value": size.value}


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
