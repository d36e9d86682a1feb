"""A derivative's value at the point the file fixes (numeric stage, after the checks).

Where every array a derivative depends on has a literal value (or `--at`
gives it), the derivative has one value that the file determines, and the
report shows it beside the formula (the determinant sample's cofactor matrix
`[[-4, -6], [-2, 3]]`). Where anything is drawn, a value would only describe
the seed, so none is shown. `report` calls `point_value` for each derivative
whose check passed; the renderers print `Check.value`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shapecheck.check.program import CheckedProgram
from shapecheck.numeric.values import upstream_shapes
from shapecheck.numeric.verdicts import PointValue

# A larger value is left to `--save`: a table cell of more numbers is unreadable.
MAX_SHOWN_ENTRIES = 64


def fixed_by_file(program: CheckedProgram, given: Mapping[str, Any] | None, of: str) -> bool:
    """Whether every value `of` depends on is a literal or given by `--at`
    (including the upstream gradient `dloss/dA` of each `loss(A)` on the way)."""
    reached = _reached(program, of)
    for array in program.arrays:
        fixed = array.value is not None or (given is not None and array.name in given)
        if array.is_leaf and array.name in reached and not fixed:
            return False
    for upstream in upstream_shapes(program):
        if upstream.removeprefix("dloss/d") in reached and (given is None or upstream not in given):
            return False
    return True


def point_value(value: Any) -> PointValue | None:
    """The value as the report shows it, or None when too large to show."""
    array = np.asarray(value, dtype=float)
    if array.size > MAX_SHOWN_ENTRIES or not np.all(np.isfinite(array)):
        return None
    # + 0.0 turns -0.0 into 0.0: `-0` is never printed.
    entries = tuple(float(entry) + 0.0 for entry in array.ravel())
    return PointValue(tuple(int(n) for n in array.shape), entries)


def _reached(program: CheckedProgram, of: str) -> set[str]:
    """`of` and every name it reads, directly or through definitions."""
    uses = {d.name: d.depends_on for d in program.definitions}
    reached = {of}
    stack = [of]
    while stack:
        for name in uses.get(stack.pop(), ()):
            if name not in reached:
                reached.add(name)
                stack.append(name)
    return reached
