"""How a wrong claim is wrong: the words after `the claim ... is wrong:`.

`claimcheck` calls `diagnose` with the claimed and the true values (same
shape, the claim's index order). Each explanation is a function returning
`None` when it does not apply, tried in order: a transpose, a constant factor
(a sign, a missing or extra sum over a dim), a broadcast.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from shapecheck.check.program import CheckedProgram

Array = Any


def _close(a: Array, b: Array) -> bool:
    scale = max(float(np.max(np.abs(b))) if np.size(b) else 0.0, 1e-300)
    return bool(np.all(np.abs(a - b) <= 1e-6 * scale + 1e-12))


def diagnose(
    claimed: Array, truth: Array, indices: tuple[str, ...], program: CheckedProgram
) -> str | None:
    """Say how a claim differs from the truth, where one of these explains it."""
    return (
        _transposed(claimed, truth, indices)
        or _scaled(claimed, truth, program)
        or _broadcast(claimed, truth, indices)
    )


def _transposed(claimed: Array, truth: Array, indices: tuple[str, ...]) -> str | None:
    """The claim's axes are the truth's in another order."""
    if truth.ndim < 2:
        return None
    for order in itertools.permutations(range(truth.ndim)):
        if order == tuple(range(truth.ndim)):
            continue
        if (
            all(claimed.shape[k] == truth.shape[k] for k in range(truth.ndim))
            and np.shape(np.transpose(claimed, order)) == truth.shape
            and _close(np.transpose(claimed, order), truth)
        ):
            right = [indices[k] for k in np.argsort(order)]
            return (
                "it is the transpose of the true derivative: its indices are in the wrong "
                f"order (the claim's [{','.join(indices)}] should be read as "
                f"[{','.join(right)}])"
            )
    return None


def _scaled(claimed: Array, truth: Array, program: CheckedProgram) -> str | None:
    """The claim is the truth times a constant: -1, a dim's size or its inverse, or other."""
    norm = float(np.sum(truth * truth))
    if norm <= 0:
        return None
    factor = float(np.sum(claimed * truth)) / norm
    if abs(factor - 1) <= 1e-6 or not _close(claimed, factor * truth):
        return None
    if abs(factor + 1) < 1e-6:
        return "it has the wrong sign: it is minus the true derivative"
    return (
        _dim_factor(factor, program) or f"it is the true derivative times a constant, {factor:.6g}"
    )


def _dim_factor(factor: float, program: CheckedProgram) -> str | None:
    """A factor that is a dim's size (a sum too many) or its inverse (a sum missing)."""
    sizes = {d.value: d.name for d in program.dims if d.value}
    for size, name in sizes.items():
        if size > 1 and abs(factor * size - 1) < 1e-6:
            return (
                f"it is the true derivative divided by {size} (= {name}): "
                f"is a sum over an index of size {name} missing?"
            )
        if size > 1 and abs(factor - size) < 1e-6:
            return (
                f"it is the true derivative times {size} (= {name}): "
                f"is there a sum over an index of size {name} too many?"
            )
    return None


def _broadcast(claimed: Array, truth: Array, indices: tuple[str, ...]) -> str | None:
    """The claim is constant along one axis (broadcast over it) and agrees with
    the truth only once summed over it. A claim that merely sums to the same
    along an axis (an error that cancels) is not a broadcast: saying so would
    mislead."""
    for axis in range(truth.ndim):
        if truth.shape[axis] < 2:
            continue
        constant = _close(
            claimed, np.broadcast_to(claimed.mean(axis=axis, keepdims=True), claimed.shape)
        )
        if (
            constant
            and _close(claimed.sum(axis=axis), truth.sum(axis=axis))
            and not _close(claimed, truth)
        ):
            return (
                f"it agrees with the true derivative only once summed over `{indices[axis]}`: "
                f"right only up to a broadcast over `{indices[axis]}`"
            )
    return None
