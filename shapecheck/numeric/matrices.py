"""The matrix functions in numbers (spec 9.5): values and conditioning.

`matrix_function` is what `det`, `inv` and `trace` evaluate to, over the last
two axes (a batch of perturbed matrices in front is computed in one call):
the determinant through `slogdet` (its sign times the exponential of its
log, which neither overflows nor underflows on the way for a large matrix),
the inverse through `inv`, and for a singular matrix the NaN that makes a
check inconclusive rather than a traceback. `conditioning` finds, for the
values of a check, the worst condition number among the matrices whose
determinant or inverse the derivative depends on; `report` redraws the drawn
arrays while it exceeds `MAX_CONDITION`, and words the verdict inconclusive
(W111, or E403 for a claim) where it stays above.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from shapecheck.numeric.verdicts import ILL_CONDITIONED
from shapecheck.symbolic import terms as t

Array = Any

# Above this condition number a matrix's inverse and determinant lose about
# six of float64's sixteen digits, and central differences through them lose
# more: a check there would fail or pass by accident.
MAX_CONDITION = 1e6


def inverse_name(array: str) -> str:
    """The name the evaluators give the inverse of `array` while reading it at
    its indices: with parentheses, so never an array's own name."""
    return f"inv({array})"


def matrix_function(name: str, matrix: Array) -> Array:
    """det, inv or trace over the last two axes of `matrix`."""
    matrix = np.asarray(matrix, dtype=np.float64)
    with np.errstate(all="ignore"):
        if name == "trace":
            return np.trace(matrix, axis1=-2, axis2=-1)
        if not np.all(np.isfinite(matrix)):
            # LAPACK's answer for a NaN is undefined: a NaN, which the check reads.
            shape = matrix.shape if name == "inv" else matrix.shape[:-2]
            return np.full(shape, np.nan)
        if name == "det":
            sign, log = np.linalg.slogdet(matrix)
            return sign * np.exp(log)
        return _inverse(matrix)


def _inverse(matrix: Array) -> Array:
    try:
        return np.linalg.inv(matrix)
    except np.linalg.LinAlgError:
        # One singular matrix of a stack fails the whole call: invert one by
        # one, NaN for each singular one.
        flat = matrix.reshape(-1, *matrix.shape[-2:])
        out = np.full(flat.shape, np.nan)
        for k, each in enumerate(flat):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[k] = np.linalg.inv(each)
        return out.reshape(matrix.shape)


def condition_number(matrix: Array) -> float:
    """The 2-norm condition number; infinite for a singular or non-finite matrix."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if not np.all(np.isfinite(matrix)):
        return float("inf")
    with np.errstate(all="ignore"):
        value = float(np.linalg.cond(matrix))
    return value if np.isfinite(value) else float("inf")


def conditioned_arrays(formulas: Iterable[t.Term]) -> list[str]:
    """The arrays whose determinant or inverse the formulas take (the trace
    is linear: no conditioning), in order of first appearance."""
    found: dict[str, None] = {}
    stack = list(formulas)
    while stack:
        node = stack.pop()
        if isinstance(node, t.Matrix) and node.name != "trace":
            found.setdefault(node.array, None)
        stack.extend(reversed(t.children(node)))
    return list(found)


def worst_condition(values: Mapping[str, Array], arrays: Iterable[str]) -> tuple[str, float] | None:
    """The array with the largest condition number among `arrays`, and that
    number, where it exceeds MAX_CONDITION; None where all are well conditioned."""
    worst: tuple[str, float] | None = None
    for name in arrays:
        number = condition_number(values[name])
        if number > MAX_CONDITION and (worst is None or number > worst[1]):
            worst = (name, number)
    return worst


def ill_conditioned_reason(name: str, number: float) -> str:
    """`ill-conditioned matrix: cond(K) = 3.1e+17 > 1e6`."""
    shown = "inf (singular)" if number == float("inf") else f"{number:.3g}"
    return f"{ILL_CONDITIONED}: cond({name}) = {shown} > {MAX_CONDITION:.0e}".replace("e+06", "e6")
