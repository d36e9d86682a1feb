"""Sizes for numeric checks of dims that have none.

A dim without a value gets a small size distinct from every other size in the
file (dims and literal shapes alike), so that a swapped index cannot pass,
and at least as large as any literal index used along it. No numpy here: a
run with nothing to verify never imports it.
"""

from __future__ import annotations

from shapecheck.check.program import CheckedProgram
from shapecheck.syntax import ast


def symbolic_sizes(program: CheckedProgram) -> dict[str, int]:
    """Sizes for the dims that have none: distinct small numbers."""
    symbolic = [d.name for d in program.dims if d.value is None]
    if not symbolic:
        return {}
    taken = {d.value for d in program.dims if d.value is not None}
    for array in program.arrays:
        taken |= {s.value for s in array.shape if s.name is None and s.value is not None}
    needed = _literal_needs(program)
    chosen: dict[str, int] = {}
    candidate = 2
    for name in symbolic:
        while candidate in taken or candidate < needed.get(name, 0):
            candidate += 1
        chosen[name] = candidate
        taken.add(candidate)
        candidate += 1
    return chosen


def _literal_needs(program: CheckedProgram) -> dict[str, int]:
    """The largest literal index used along each symbolic dim."""
    needs: dict[str, int] = {}
    expressions = [d.rhs for d in program.definitions] + [c.rhs for c in program.claims]
    for expression in expressions:
        for node in ast.walk(expression):
            if not isinstance(node, ast.ArrayRef):
                continue
            shape = program.array(node.name).shape
            for index, size in zip(node.indices, shape, strict=False):
                if isinstance(index, ast.IndexLiteral) and size.name and size.value is None:
                    needs[size.name] = max(needs.get(size.name, 0), index.value)
    return needs
