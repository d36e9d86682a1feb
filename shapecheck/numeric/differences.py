"""Finite differences of the file's own definitions, with their own error, against
a derived derivative.

Two ways, chosen by `verify` under the memory budget (see `budget`):

- **Full**: every Jacobian entry, by central differences along each entry of
  the denominator, with a step scaled to its value, h = ε^(1/3) · max(1, |x|).
- **Directions**: DIRECTIONS random pairs (u, v) compare vᵀ J u. The derived
  side contracts the formula with u and v symbolically before evaluating
  (deltas are eaten), so the Jacobian is never built.

Each estimate is taken at h and at 2h, D(h) and D(2h). The reference is their
Richardson extrapolation (4 D(h) − D(2h)) / 3, whose truncation error is of
order h⁴; its error estimate is

    |D(h) − D(2h)|            truncation: about 3× D(h)'s own, far above R's
  + ROUNDOFF · ε · |f| / h     round-off: |f| the largest perturbed output

so that an output too large for a step to move (L ≈ 10³⁴ next to a change of
10⁻⁶) gives an estimate too large to decide anything, never a false 0.
`Comparison` turns the estimates into verdicts.

`rerun(stack)` evaluates the numerator for a stack of denominator values (a
leading batch axis), at most `chunk` at a time: every perturbed input of a
chunk goes through the definitions at once (`batched`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shapecheck.numeric.comparison import Comparison
from shapecheck.numeric.verdicts import Check, Mode, Settings, Worst
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Derivation
from shapecheck.symbolic.simplify import simplify

Array = Any
Rerun = Callable[[Array], Array]

DIRECTIONS = 2
_EPS = float(np.finfo(np.float64).eps)
STEP = _EPS ** (1 / 3)
# Ulps of rounding error allowed in each perturbed output: a few per operation
# along a modest chain; larger noise (long sums) shows in |D(h) − D(2h)| too.
ROUNDOFF = 16.0


@dataclass(frozen=True)
class Estimate:
    """Finite-difference derivatives and their error estimates, same shape."""

    value: Array
    error: Array


def signature_permutation(derivation: Derivation) -> tuple[int, ...]:
    """Axis order taking a numerator-order array to signature (layout) order."""
    names = [i.name for i in derivation.indices]
    return tuple(names.index(i.name) for i in derivation.signature)


def estimate(plus: Array, minus: Array, spacing: Array, weights: Array | None = None) -> Estimate:
    """Richardson-extrapolated central differences and their error estimate.

    `plus` and `minus` hold outputs at x ± h (index 0) and x ± 2h (index 1) on
    their first axis; `spacing` is the exact distance between the two points
    of each pair at h (broadcast against the outputs' remaining axes).
    `weights` (directions mode) sums the outputs against v first.
    """
    magnitude = np.maximum(np.abs(plus), np.abs(minus)).max(axis=0)
    if weights is not None:
        plus, minus = _weigh(plus, weights), _weigh(minus, weights)
        magnitude = _weigh(magnitude[None], np.abs(weights))[0]
    narrow = (plus[0] - minus[0]) / spacing
    wide = (plus[1] - minus[1]) / (2 * spacing)
    value = (4 * narrow - wide) / 3
    roundoff = ROUNDOFF * _EPS * magnitude / spacing
    return Estimate(value, np.abs(narrow - wide) + roundoff)


def _weigh(stack: Array, weights: Array) -> Array:
    """Σ_a v[a] f[..., a] over the output axes."""
    rank = np.ndim(weights)
    return np.sum(stack * weights, axis=tuple(range(-rank, 0))) if rank else stack * weights


def full_check(
    derivation: Derivation,
    derived: Array,
    base: Array,
    rerun: Rerun,
    settings: Settings,
    chunk: int,
) -> Check:
    """Every entry of `derived` (numerator order) against central differences,
    `chunk` perturbed inputs per evaluation."""
    out_rank = len(derivation.of_indices)
    out_shape = derived.shape[:out_rank]
    inputs = base.size
    columns = np.reshape(derived, (-1, inputs))
    flat = base.ravel()
    comparison = Comparison(settings)
    signature_order = signature_permutation(derivation)
    per_chunk = max(1, chunk // 4)
    for start in range(0, inputs, per_chunk):
        entries = np.arange(start, min(inputs, start + per_chunk))
        found = _columns(flat, base.shape, entries, rerun)
        mine = columns[:, entries].T

        def where(
            position: int, entries: Array = entries, mine: Array = mine, found: Estimate = found
        ) -> Worst:
            entry, out_flat = divmod(position, mine.shape[1])
            out_index = np.unravel_index(out_flat, out_shape) if out_shape else ()
            in_index = np.unravel_index(int(entries[entry]), base.shape) if base.shape else ()
            numerator = tuple(int(k) for k in (*out_index, *in_index))
            ordered = tuple(numerator[k] + 1 for k in signature_order)
            return Worst(
                ordered, None, float(mine.ravel()[position]), float(found.value.ravel()[position])
            )

        comparison.add(mine, found.value, found.error, where)
    return comparison.result(Mode.FULL)


def _columns(flat: Array, shape: tuple[int, ...], entries: Array, rerun: Rerun) -> Estimate:
    """Jacobian columns for some entries of the denominator: row r of the result
    is d(output)/d(entry r), outputs flattened."""
    k = len(entries)
    step = STEP * np.maximum(1.0, np.abs(flat[entries]))
    rows = np.arange(k)
    stack = np.broadcast_to(flat, (4, k, flat.size)).copy()
    for slot, factor in enumerate((1.0, -1.0, 2.0, -2.0)):
        stack[slot, rows, entries] += factor * step
    # The step actually taken, x + h and x − h being rounded: exact in float64.
    spacing = stack[0, rows, entries] - stack[1, rows, entries]
    outputs = np.reshape(rerun(np.reshape(stack, (4 * k, *shape))), (4, k, -1))
    return estimate(outputs[[0, 2]], outputs[[1, 3]], spacing[:, None])


def contracted(derivation: Derivation) -> t.Term:
    """vᵀ (dA/dB) u as a term: Σ v[a] F[a,b] u[b], simplified (deltas eaten),
    so that the Jacobian itself is never built."""
    u_indices = tuple(t.Idx(f"#u{k}", i.size) for k, i in enumerate(derivation.wrt_indices))
    v_indices = tuple(t.Idx(f"#v{k}", i.size) for k, i in enumerate(derivation.of_indices))
    mapping: dict[str, t.Index] = {
        i.name: j for i, j in zip(derivation.indices, v_indices + u_indices, strict=True)
    }
    formula = t.rename(derivation.formula, mapping)
    return simplify(
        t.Product(
            (t.Tensor("#v", v_indices), formula, t.Tensor("#u", u_indices)),
            v_indices + u_indices,
        )
    )


def directions_check(
    derivation: Derivation,
    along: Callable[[Array, Array], Array],
    base: Array,
    rerun: Rerun,
    settings: Settings,
    rng: np.random.Generator,
    chunk: int,
) -> Check:
    """vᵀ J u from `along(u, v)` (the contracted term) against directional differences."""
    out_shape = tuple(int(i.size.value or 0) for i in derivation.of_indices)
    comparison = Comparison(settings, unit=("direction", "directions"))
    scale = max(1.0, float(np.max(np.abs(base))) if base.size else 1.0)
    step = STEP * scale
    for direction in range(DIRECTIONS):
        u = rng.standard_normal(base.shape)
        u /= max(float(np.linalg.norm(u)), 1e-300)
        v = rng.standard_normal(out_shape)
        derived = along(u, v)
        points = [base + factor * step * u for factor in (1.0, -1.0, 2.0, -2.0)]
        outputs = _rerun_points(points, rerun, chunk)
        found = estimate(outputs[[0, 2]], outputs[[1, 3]], 2 * step, v)

        def where(
            _: int, direction: int = direction, derived: Array = derived, found: Estimate = found
        ) -> Worst:
            return Worst(None, direction + 1, float(derived), float(found.value))

        comparison.add(derived, found.value, found.error, where)
    return comparison.result(Mode.DIRECTIONS)


def _rerun_points(points: list[Array], rerun: Rerun, chunk: int) -> Array:
    """The numerator at each point, `chunk` points per evaluation."""
    outputs: list[Array] = []
    for start in range(0, len(points), max(1, chunk)):
        outputs.extend(rerun(np.stack(points[start : start + max(1, chunk)])))
    return np.stack(outputs)
