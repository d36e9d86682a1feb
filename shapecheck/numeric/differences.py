"""Finite differences of the file's own definitions, against a derived derivative.

Two ways, chosen by `verify` under the memory budget (see `budget`):

- **Full**: every Jacobian entry, by central differences with a step scaled to
  each value, h = ε^(1/3) · max(1, |x|).
- **Directions**: DIRECTIONS random pairs (u, v) compare vᵀ J u. The derived
  side contracts the formula with u and v symbolically before evaluating
  (deltas are eaten), so the Jacobian is never built.

Each estimate is taken at h and at 2h; their difference is the uncertainty the
`Comparison` allows. `rerun(x)` is the value of the numerator with the
denominator set to x (the rest of the forward pass unchanged).
"""

from __future__ import annotations

from collections.abc import Callable
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


def signature_permutation(derivation: Derivation) -> tuple[int, ...]:
    """Axis order taking a numerator-order array to signature (layout) order."""
    names = [i.name for i in derivation.indices]
    return tuple(names.index(i.name) for i in derivation.signature)


def full_check(
    derivation: Derivation, derived: Array, base: Array, rerun: Rerun, settings: Settings
) -> Check:
    """Every entry of `derived` (numerator order) against central differences."""
    out_rank = len(derivation.of_indices)
    comparison = Comparison(settings)
    signature_order = signature_permutation(derivation)
    for position in np.ndindex(base.shape) if base.shape else [()]:
        step = STEP * max(1.0, abs(float(base[position])))
        fd, fd_wide = (_column(base, position, h, rerun) for h in (step, 2 * step))
        mine = derived[(slice(None),) * out_rank + tuple(position)]

        def where(
            flat: int,
            position: tuple[int, ...] = position,
            mine: Array = mine,
            fd: Array = fd,
        ) -> Worst:
            out_index = np.unravel_index(flat, np.shape(fd)) if np.shape(fd) else ()
            numerator = tuple(int(k) for k in out_index) + tuple(position)
            ordered = tuple(numerator[k] + 1 for k in signature_order)
            return Worst(ordered, None, float(np.ravel(mine)[flat]), float(np.ravel(fd)[flat]))

        comparison.add(mine, fd, fd - fd_wide, where)
    return comparison.result(Mode.FULL)


def _column(base: Array, position: tuple[int, ...], h: float, rerun: Rerun) -> Array:
    """The central difference along one entry of the denominator."""
    plus, minus = base.copy(), base.copy()
    plus[position] += h
    minus[position] -= h
    return (rerun(plus) - rerun(minus)) / (2 * h)


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
) -> Check:
    """vᵀ J u from `along(u, v)` (the contracted term) against directional differences."""
    out_shape = tuple(int(i.size.value or 0) for i in derivation.of_indices)
    comparison = Comparison(settings)
    scale = max(1.0, float(np.max(np.abs(base))) if base.size else 1.0)
    for direction in range(DIRECTIONS):
        u = rng.standard_normal(base.shape)
        u /= max(float(np.linalg.norm(u)), 1e-300)
        v = rng.standard_normal(out_shape)
        derived = along(u, v)
        estimates = [
            float(np.sum(v * (rerun(base + h * u) - rerun(base - h * u)))) / (2 * h)
            for h in (STEP * scale, 2 * STEP * scale)
        ]

        def where(
            _: int,
            direction: int = direction,
            derived: Array = derived,
            estimate: float = estimates[0],
        ) -> Worst:
            return Worst(None, direction + 1, float(derived), estimate)

        comparison.add(derived, estimates[0], estimates[0] - estimates[1], where)
    return comparison.result(Mode.DIRECTIONS)
