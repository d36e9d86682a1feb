"""Numbers for numeric checks: sizes for symbolic dims, and values for arrays.

- Sizes for dims without a value are chosen in `sizes.py`.
- Values come from literals, from `--at FILE.npz`, or from a seeded generator:
  standard normal, and uniform on [0.5, 2] for `positive` arrays. Each array
  draws from its own stream, keyed by the seed and its name (PCG64 gives the
  same numbers on every machine), so adding an array never changes another's
  values.
- An integer array (`input y[n] in c`, spec 9.3) holds int64 labels, 1-based:
  drawn uniformly from `1..c` on its own stream, literal, or from `--at`
  (whole numbers in range, else a problem with the command that names the
  entry). `--save` writes them as int64.
- `loss(A)` is replaced by a random linear function Σ G[a] A[a]; G is drawn the
  same way under the name `dloss/dA`.
- Each `fn f` (spec 9.5) is replaced by a smooth stand-in whose coefficients
  are drawn the same way under the name `fn f` (`standins.py`); `--at` and
  `--save` leave them out.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from shapecheck.check.program import ArrayInfo, CheckedProgram
from shapecheck.numeric import standins
from shapecheck.syntax import ast

Array = Any


class AtProblem(Exception):
    """`--at` values that do not fit the file (a problem with the command)."""


def _stream(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def _literal_array(data: ast.LiteralData) -> Array:
    return np.asarray(data, dtype=np.float64)


def loss_arguments(program: CheckedProgram) -> list[str]:
    names: list[str] = []
    for definition in program.definitions:
        for node in ast.walk(definition.rhs):
            if isinstance(node, ast.Loss) and node.name not in names:
                names.append(node.name)
    return names


def draw_values(
    program: CheckedProgram,
    seed: int,
    given: Mapping[str, Array] | None = None,
    redraw: int = 0,
) -> dict[str, Array]:
    """Values of every declared array, and of the upstream gradient of each loss.

    `redraw` > 0 draws the drawn arrays again, from streams of their own (a
    check whose differences straddle a kink, `kinks`); literal and `--at`
    values stay.
    """
    values: dict[str, Array] = {
        array.name: _leaf_value(array, seed, given, redraw)
        for array in program.arrays
        if array.is_leaf
    }
    for name, shape in upstream_shapes(program).items():
        if given is not None and name in given:
            values[name] = np.asarray(given[name], dtype=np.float64)
        else:
            values[name] = _stream(seed, name).standard_normal(shape)
    for function in program.functions:
        values[standins.key(function)] = standins.coefficients(seed, function)
    return values


def upstream_shapes(program: CheckedProgram) -> dict[str, tuple[int, ...]]:
    """`dloss/dA` for each `loss(A)`, with A's shape: `--save` writes it and
    `--at` may give it (else it is drawn), so that a run can be repeated."""
    return {
        f"dloss/d{name}": tuple(int(s.value or 0) for s in program.array(name).shape)
        for name in loss_arguments(program)
    }


def is_drawn(array: ArrayInfo, given: Mapping[str, Array] | None) -> bool:
    """Whether the array's values are a seeded draw (no literal, not in `--at`)."""
    return array.value is None and not (given is not None and array.name in given)


def _leaf_value(
    array: ArrayInfo, seed: int, given: Mapping[str, Array] | None, redraw: int = 0
) -> Array:
    """A literal, else the `--at` value, else a seeded draw (uniform on [0.5, 2] if positive)."""
    labels = array.classes is not None
    if array.value is not None:
        literal = _literal_array(array.value)
        return literal.astype(np.int64) if labels else literal
    if given is not None and array.name in given:
        return np.asarray(given[array.name], dtype=np.int64 if labels else np.float64)
    shape = tuple(int(s.value or 0) for s in array.shape)
    stream = _stream(seed, array.name if not redraw else f"{array.name}#redraw{redraw}")
    if array.classes is not None:
        return stream.integers(1, int(array.classes.value or 1), shape, endpoint=True)
    if array.positive:
        return stream.uniform(0.5, 2.0, shape)
    return stream.standard_normal(shape)


def load_at(path: Path, program: CheckedProgram) -> dict[str, Array]:
    """Values from `--at FILE.npz`: every array without a literal value, no extras,
    each with its declared shape."""
    try:
        # Opened here, so that it is closed however numpy fails on it.
        with path.open("rb") as handle:
            loaded = np.load(handle, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                # A .npy file (one array) is not a set of named arrays.
                raise AtProblem(f"cannot read {path}: not an .npz archive of named arrays")
            with loaded as archive:
                given = {name: np.asarray(archive[name]) for name in archive.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as error:
        raise AtProblem(f"cannot read {path}: {error}") from error
    leaves = {a.name: a for a in program.arrays if a.is_leaf}
    upstream = upstream_shapes(program)
    problems = _name_problems(path, {k: v for k, v in given.items() if k not in upstream}, leaves)
    for name, value in given.items():
        if name in leaves and leaves[name].value is None:
            problems.extend(_value_problems(path, name, value, leaves[name]))
        elif name in upstream:
            problems.extend(_upstream_problems(path, name, value, upstream[name]))
    if problems:
        raise AtProblem("; ".join(problems))
    return given


def _upstream_problems(path: Path, name: str, value: Array, shape: tuple[int, ...]) -> list[str]:
    """A given `dloss/dA` of the wrong shape or not numeric."""
    if value.shape != shape:
        return [f"`{name}` in {path} has shape {value.shape}, but `loss`'s argument has {shape}"]
    if not np.issubdtype(value.dtype, np.number):
        return [f"`{name}` in {path} is not numeric"]
    return []


def _name_problems(
    path: Path, given: Mapping[str, Array], leaves: Mapping[str, ArrayInfo]
) -> list[str]:
    """Arrays the file does not declare, arrays without values, literals overridden."""
    problems = []
    extra = sorted(set(given) - set(leaves))
    if extra:
        problems.append(f"{path} has arrays the file does not declare: {', '.join(extra)}")
    missing = sorted(name for name, a in leaves.items() if a.value is None and name not in given)
    if missing:
        problems.append(f"{path} lacks values for: {', '.join(missing)}")
    fixed = sorted(name for name in given if name in leaves and leaves[name].value is not None)
    if fixed:
        problems.append(
            f"{', '.join(fixed)} {'has' if len(fixed) == 1 else 'have'} a literal value in the "
            f"file; leave {'it' if len(fixed) == 1 else 'them'} out of {path}"
        )
    return problems


def _value_problems(path: Path, name: str, value: Array, leaf: ArrayInfo) -> list[str]:
    """A given value of the wrong shape, not numeric, or not positive where declared so."""
    shape = tuple(int(s.value or 0) for s in leaf.shape)
    if value.shape != shape:
        return [f"`{name}` in {path} has shape {value.shape}, but the file declares {shape}"]
    if not np.issubdtype(value.dtype, np.number):
        return [f"`{name}` in {path} is not numeric"]
    if leaf.positive and np.any(value <= 0):
        return [f"`{name}` is declared positive but {path} gives it {value.min() + 0.0:g}"]
    if leaf.classes is not None:
        return _label_problems(path, name, value, leaf)
    return []


def _label_problems(path: Path, name: str, value: Array, leaf: ArrayInfo) -> list[str]:
    """Labels that are not whole numbers in `1..c`: the first such entry, 1-based."""
    assert leaf.classes is not None
    top = int(leaf.classes.value or 0)
    if not value.size:
        return []
    bad = ~(np.isfinite(value) & (value == np.round(value))) | (value < 1) | (value > top)
    if not np.any(bad):
        return []
    at = tuple(int(k) + 1 for k in np.argwhere(bad)[0])
    entry = value[tuple(k - 1 for k in at)]
    shown = f"{entry:g}" if not float(entry).is_integer() else str(int(entry))
    where = name + ("[" + ", ".join(str(k) for k in at) + "]" if at else "")
    problem = (
        f"{where} in {path} is {shown}, but `{name}` holds whole numbers in "
        f"1..{leaf.classes.describe()}"
    )
    if _zero_based(value, top):
        problem += " (the values look 0-based: labels are 1-based, as in the notes; add 1)"
    return [problem]


def _zero_based(value: Array, top: int) -> bool:
    """Whole numbers that hold a 0 and would all lie in `1..top` shifted by one."""
    flat = [float(v) for v in np.ravel(value)]
    return 0 in flat and all(v == round(v) and 0 <= v < top for v in flat)


def save(
    path: Path, arrays: Mapping[str, Array], labels: frozenset[str] | set[str] = frozenset()
) -> None:
    """`--save FILE.npz`: arrays by name, derivatives as `dA/dB`, scalars as 0-d;
    the integer arrays named in `labels` (spec 9.3) as int64, 1-based."""
    contents = {
        name: np.asarray(value, dtype=np.int64 if name in labels else np.float64)
        for name, value in arrays.items()
    }
    # Through a handle: given a path, numpy appends `.npz` to a name without it,
    # and `--save out.dat` must write exactly out.dat.
    with path.open("wb") as handle:
        # numpy's stubs type **kwargs like its keyword options; any name is an array.
        np.savez(handle, **contents)  # type: ignore[arg-type]
