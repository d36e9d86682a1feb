"""Finite differences of the file's own definitions, with their own error, against
a derived derivative.

Two ways, chosen by `verify` under the memory budget (see `budget`):

- **Full**: every Jacobian entry, by central differences along each entry of
  the denominator, with a step scaled to its value, h = ε^(1/3) · max(1, |x|).
- **Directions**: DIRECTIONS random pairs (u, v) compare vᵀ J u. The derived
  side contracts the formula with u and v symbolically before evaluating
  (deltas are eaten), so the Jacobian is never built.

Each estimate is taken at h, 2h and 4h, D(h), D(2h), D(4h). The reference is
the Richardson extrapolation (4 D(h) − D(2h)) / 3, whose truncation error is of
order h⁴; its error estimate is

    |D(h) − D(2h)|            truncation: about 3× D(h)'s own, far above R's
  + ROUNDOFF · ε · |f| / h     round-off: |f| the largest perturbed output

so that an output too large for a step to move (L ≈ 10³⁴ next to a change of
10⁻⁶) gives an estimate too large to decide anything, never a false 0.

That estimate holds only where the differences are in their **asymptotic
regime**: where the step is small against the scale on which the function
bends. Far outside it (`cos` of an argument that moves by 10⁵ radians over one
step) D(h) and D(2h) are both garbage, and may agree by chance. So an entry
counts as measured only when the three steps behave as a smooth function's do
(`asymptotic`): the odd differences shrink by 4 from step to step,
(D(2h) − D(4h)) / (D(h) − D(2h)) ≈ 4, or agree already within the tolerance;
and so do the even ones, f(x + kh) + f(x − kh) − 2 f(x) ≈ k² h² f'', or they
are round-off. Where 4h |derived| exceeds every output (`resolved`), or the
step moves the argument of a sin or cos by more than a radian (`Bends`), the
samples cannot have resolved the function either. Otherwise its error
estimate is infinite: it is undecidable.
`Comparison` turns the estimates into verdicts.

`rerun(stack)` evaluates the numerator for a stack of denominator values (a
leading batch axis), at most `chunk` at a time: every perturbed input of a
chunk goes through the definitions at once (`batched`).

Where the points of a central difference straddle a kink (`kinks`), the rerun
says so per row (`Straddles`): a full check leaves those columns out, a check
along directions zeroes the direction on the coordinates that straddle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from shapecheck.numeric import budget
from shapecheck.numeric.comparison import OWN_ERROR, Comparison
from shapecheck.numeric.kinks import (
    AT_KINK,
    CLEARING_MAX_WORK,
    Straddles,
    clear_direction,
)
from shapecheck.numeric.verdicts import Check, Mode, Settings, Verdict, Worst
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
# Multiples of the step, each taken both ways: a row of perturbed inputs per
# factor, and one unperturbed row (the centre) per evaluation.
FACTORS = (1.0, -1.0, 2.0, -2.0, 4.0, -4.0)
POINTS = budget.POINTS
assert len(FACTORS) == POINTS
# How far the ratio of successive differences may stray from 4 (the h² law of
# central differences) before the step is taken to be outside the asymptotic
# regime. In the regime it strays by O(h²) (about 10⁻¹⁰); aliased garbage hits
# [3.6, 4.4] by chance only rarely, and must also pass the even test and the
# tolerance.
RATIO_SLACK = 0.1


@dataclass
class Bends:
    """How far the last `rerun` moved the arguments of sin and cos, per row of
    its stack, from their values at x (None: it has none, or does not say).

    A step that moves such an argument by more than BEND_LIMIT radians over
    x ± 4h does not resolve it: its samples alias, and a fast oscillation of
    small amplitude under a large smooth function (cos(10⁹ v) + 10¹³) leaves a
    derivative term of 10²² that the differences never see, while everything
    they do see looks asymptotic. Such entries are undecidable."""

    last: Array | None = None


# Radians an argument of sin or cos may move over x ± 4h (a quarter of that over
# x ± h: truncation of about 1 %, which the error estimate then measures).
BEND_LIMIT = 1.0


def _unresolved(found: Estimate, moved: Array | None, rows: int, points: int) -> Estimate:
    """`found` with rows whose perturbed points moved a sin or cos argument by
    more than BEND_LIMIT (`moved`: per point, `points` per row, row-major by
    point) left undecidable."""
    if moved is None:
        return found
    worst = np.reshape(np.asarray(moved)[: points * rows], (points, rows)).max(axis=0)
    rank = np.ndim(found.error)
    # One row per entry, broadcast over the outputs; a direction is a scalar.
    bent = np.reshape(worst > BEND_LIMIT, (rows,) + (1,) * (rank - 1) if rank else ())
    return Estimate(found.value, np.where(bent, np.inf, found.error), found.magnitude)


@dataclass(frozen=True)
class Estimate:
    """Finite-difference derivatives and their error estimates, same shape, and
    the largest output (|f| over the points) each was taken from."""

    value: Array
    error: Array
    magnitude: Array


def signature_permutation(derivation: Derivation) -> tuple[int, ...]:
    """Axis order taking a numerator-order array to signature (layout) order."""
    names = [i.name for i in derivation.indices]
    return tuple(names.index(i.name) for i in derivation.signature)


def estimate(
    plus: Array,
    minus: Array,
    spacing: Array,
    centre: Array,
    settings: Settings,
    weights: Array | None = None,
    scale: Array | None = None,
) -> Estimate:
    """Richardson-extrapolated central differences and their error estimate.

    `plus` and `minus` hold outputs at x ± h, x ± 2h and x ± 4h (indices 0, 1,
    2) on their first axis, `centre` the output at x; `spacing` is the exact
    distance between the two points of each pair at h (broadcast against the
    outputs' remaining axes). `weights` (directions mode) sums the outputs
    against v first. `scale` (the outputs' shape) is the outputs' rounding
    magnitude at x (`rounding`), when known: rounding inside the evaluation
    may exceed ε |f| by far. Entries outside the asymptotic regime get an
    infinite error estimate (see the module's docstring).
    """
    magnitude = np.maximum(np.abs(plus), np.abs(minus)).max(axis=0)
    magnitude = np.maximum(magnitude, np.abs(centre))
    noisy = magnitude if scale is None else np.maximum(magnitude, scale)
    if weights is not None:
        plus, minus = _weigh(plus, weights), _weigh(minus, weights)
        centre = _weigh(np.asarray(centre)[None], weights)[0]
        magnitude = _weigh(magnitude[None], np.abs(weights))[0]
        noisy = _weigh(noisy[None], np.abs(weights))[0]
    odd = [(plus[k] - minus[k]) / (2**k * spacing) for k in range(3)]
    even = [plus[k] + minus[k] - 2 * centre for k in range(3)]
    value = (4 * odd[0] - odd[1]) / 3
    # Rounding error of one output, and of D(h) (the two outputs over the spacing).
    ulps = ROUNDOFF * _EPS * noisy
    roundoff = ulps / spacing
    error = np.abs(odd[0] - odd[1]) + roundoff
    allowed = settings.atol + settings.rtol * np.abs(value)
    regular = asymptotic(odd, even, ulps, spacing, allowed)
    return Estimate(value, np.where(regular, error, np.inf), magnitude)


def asymptotic(
    odd: list[Array], even: list[Array], ulps: Array, spacing: Array, allowed: Array
) -> Array:
    """Whether differences at h, 2h, 4h behave as a smooth function's do.

    `odd` are D(h), D(2h), D(4h): their differences must shrink by 4 per
    halving of the step (to within RATIO_SLACK and round-off), or D(2h) and
    D(4h) agree already within the tolerance `allowed`. `even` are
    f(x + kh) + f(x − kh) − 2 f(x) ≈ k² h² f'': each must be about 4 times the
    one before, to within RATIO_SLACK, their round-off (`ulps` per output) or
    the tolerance times the spacing (bending too slight to matter).
    """
    roundoff = ulps / spacing
    near, far = odd[0] - odd[1], odd[1] - odd[2]
    regular = (np.abs(far - 4 * near) <= RATIO_SLACK * np.abs(far) + 8 * roundoff) | (
        np.abs(far) <= allowed + 2 * roundoff
    )
    for small, large in ((even[0], even[1]), (even[1], even[2])):
        gap = np.abs(large - 4 * small)
        regular &= gap <= RATIO_SLACK * np.abs(large) + 20 * ulps + allowed * spacing
    return regular


def _weigh(stack: Array, weights: Array) -> Array:
    """Σ_a v[a] f[..., a] over the output axes."""
    rank = np.ndim(weights)
    return np.sum(stack * weights, axis=tuple(range(-rank, 0))) if rank else stack * weights


# What a check that allows for the derived side's own rounding could not beat.
WITH_OWN = "the finite differences' own error with the rounding of evaluating the derived formula"


def _estimated(own_rounding: bool) -> str:
    """`Comparison`'s words for the error it could not beat: the differences'
    own, or with the derived side's rounding."""
    return WITH_OWN if own_rounding else OWN_ERROR


def full_check(
    derivation: Derivation,
    derived: Array,
    base: Array,
    rerun: Rerun,
    settings: Settings,
    chunk: int,
    scale: Array | None = None,
    bends: Bends | None = None,
    straddles: Straddles | None = None,
    derived_error: Array | None = None,
) -> Check:
    """Every entry of `derived` (numerator order) against central differences,
    `chunk` perturbed inputs per evaluation; `scale` is the numerator's rounding
    magnitude (`estimate`), `derived_error` the bound on `derived`'s own
    rounding, added to the differences' error where given. Columns whose
    points straddle a kink (`straddles`, filled by `rerun`) are left out, and
    noted in `straddles.columns`."""
    flat_scale = None if scale is None else np.ravel(scale)
    out_rank = len(derivation.of_indices)
    out_shape = derived.shape[:out_rank]
    inputs = base.size
    columns = np.reshape(derived, (-1, inputs))
    own = None if derived_error is None else np.reshape(derived_error, (-1, inputs))
    flat = base.ravel()
    comparison = Comparison(settings, estimated=_estimated(own is not None))
    signature_order = signature_permutation(derivation)
    # Each entry takes POINTS rows, and each evaluation one unperturbed row.
    per_chunk = max(1, (chunk - 1) // POINTS)
    for start in range(0, inputs, per_chunk):
        entries = np.arange(start, min(inputs, start + per_chunk))
        mine = columns[:, entries].T

        step = STEP * np.maximum(1.0, np.abs(flat[entries]))
        found = _columns(flat, base.shape, entries, rerun, settings, step, flat_scale)
        if bends is not None:
            found = _unresolved(found, bends.last, len(entries), POINTS)
        found = resolved(found, mine, step[:, None])
        at_kink = _straddling(straddles, len(entries))

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

        rows = np.reshape(at_kink, (-1,) + (1,) * (np.ndim(found.value) - 1))
        error = found.error if own is None else found.error + own[:, entries].T
        comparison.add(mine, found.value, error, where, rows)
    return comparison.result(Mode.FULL)


def kinked_columns(base: Array, rerun: Rerun, straddles: Straddles, chunk: int = 256) -> Array:
    """Per input entry (flattened), whether its points x ± kh straddle a kink:
    the full check's points, rerun without comparing anything."""
    flat = base.ravel()
    found = [np.zeros(0, dtype=bool)]
    per_chunk = max(1, (chunk - 1) // POINTS)
    for start in range(0, flat.size, per_chunk):
        entries = np.arange(start, min(flat.size, start + per_chunk))
        step = STEP * np.maximum(1.0, np.abs(flat[entries]))
        stack = np.broadcast_to(flat, (POINTS * len(entries) + 1, flat.size)).copy()
        perturbed = stack[:-1].reshape(POINTS, len(entries), flat.size)
        for slot, factor in enumerate(FACTORS):
            perturbed[slot, np.arange(len(entries)), entries] += factor * step
        straddles.rows = None
        rerun(np.reshape(stack, (len(stack), *base.shape)))
        found.append(_straddling(straddles, len(entries)))
    return np.concatenate(found)


def _straddling(straddles: Straddles | None, entries: int) -> Array:
    """Per entry of the last `_columns`, whether any of its points straddled a
    kink; appended to `straddles.columns` (in the order entries are checked)."""
    at_kink: Array = np.zeros(entries, dtype=bool)
    if straddles is not None:
        if straddles.rows is not None:
            rows = np.asarray(straddles.rows)[: POINTS * entries]
            at_kink = rows.reshape(POINTS, entries).any(axis=0)
        previous = straddles.columns if straddles.columns is not None else at_kink[:0]
        straddles.columns = np.concatenate([previous, at_kink])
    return at_kink


def resolved(found: Estimate, derived: Array, step: Array) -> Estimate:
    """`found`, left undecidable where the step cannot resolve the function as
    `derived` describes it.

    Over x ± 4h a function with derivative f' changes by about 8 h f', so one of
    its outputs there is at least 4 h |f'|. Where 4 h |derived| exceeds every
    output (`cos` of an argument that moves by 10⁵ radians over a step, whose
    samples may even alias to a smooth-looking curve that passes the ratio
    tests), either `derived` is wrong or the step is far too coarse, and the
    samples cannot say which. A finer step would need to be far below the usual
    one (h · |f| / (4 h |f'|) · STEP), where the computed function is no longer
    the mathematical one (an intermediate such as 10¹⁰ x moves in steps of its
    own ulp, a staircase whose slope is off by 10⁻⁵ and more, smoothly enough to
    pass the ratio tests): so such an entry is undecidable. `step` broadcasts
    against `derived`.
    """
    derived = np.abs(np.asarray(derived, dtype=np.float64))
    coarse = 4 * derived * step > found.magnitude
    if not np.any(coarse):
        return found
    return Estimate(found.value, np.where(coarse, np.inf, found.error), found.magnitude)


def _columns(
    flat: Array,
    shape: tuple[int, ...],
    entries: Array,
    rerun: Rerun,
    settings: Settings,
    step: Array,
    scale: Array | None = None,
) -> Estimate:
    """Jacobian columns for some entries of the denominator, at a step per entry:
    row r of the result is d(output)/d(entry r), outputs flattened."""
    k = len(entries)
    rows = np.arange(k)
    # POINTS perturbed copies per entry, then the unperturbed input (the centre).
    stack = np.broadcast_to(flat, (POINTS * k + 1, flat.size)).copy()
    perturbed = stack[: POINTS * k].reshape(POINTS, k, flat.size)
    for slot, factor in enumerate(FACTORS):
        perturbed[slot, rows, entries] += factor * step
    # The step actually taken, x + h and x − h being rounded: exact in float64.
    spacing = perturbed[0, rows, entries] - perturbed[1, rows, entries]
    results = np.reshape(rerun(np.reshape(stack, (POINTS * k + 1, *shape))), (POINTS * k + 1, -1))
    outputs = results[: POINTS * k].reshape(POINTS, k, -1)
    centre = results[POINTS * k]
    return estimate(outputs[0::2], outputs[1::2], spacing[:, None], centre, settings, scale=scale)


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
    scale: Array | None = None,
    bends: Bends | None = None,
    straddles: Straddles | None = None,
    along_error: Callable[[Array, Array], Array] | None = None,
) -> Check:
    """vᵀ J u from `along(u, v)` (the contracted term) against directional
    differences; `scale` is the numerator's rounding magnitude (`estimate`),
    `along_error(u, v)` the bound on `along`'s own rounding, added to the
    differences' error where given.
    With `straddles`, each u is zeroed on the coordinates whose differences
    would straddle a kink (`kinks.clear_direction`, its tests paid from
    `straddles.clearing`)."""
    out_shape = tuple(int(i.size.value or 0) for i in derivation.of_indices)
    units = ("direction", "directions")
    comparison = Comparison(settings, unit=units, estimated=_estimated(along_error is not None))
    # The step, and the round-off scale along a direction, follow the inputs'
    # magnitude. The numerator's running rounding magnitude (`scale` as given)
    # sums the rounding of every entry and, along a random direction, bounds
    # the round-off far too loosely to decide anything at large sizes; the
    # regime tests guard against what this scale misses (see the note in
    # docs/verification.md).
    scale = max(1.0, float(np.max(np.abs(base))) if base.size else 1.0)
    step = STEP * scale
    zeroed = dropped = 0
    for direction in range(DIRECTIONS):
        u = rng.standard_normal(base.shape)
        u /= max(float(np.linalg.norm(u)), 1e-300)
        v = rng.standard_normal(out_shape)
        if straddles is not None:
            test = _straddle_test(base, step, rerun, chunk, straddles)
            cleared = clear_direction(u, test, straddles.clearing)
            u, zeroed = cleared.direction, zeroed + cleared.zeroed
            dropped += cleared.dropped
            if not np.any(u):
                continue
        derived = along(u, v)
        points = [base + factor * step * u for factor in FACTORS] + [base]
        outputs, moved = _rerun_points(points, rerun, chunk, bends)
        found = estimate(
            outputs[0:-1:2], outputs[1:-1:2], 2 * step, outputs[-1], settings, v, scale
        )
        found = resolved(found, derived, step)
        found = _unresolved(found, None if moved is None else moved[:POINTS], 1, POINTS)

        def where(
            _: int, direction: int = direction, derived: Array = derived, found: Estimate = found
        ) -> Worst:
            return Worst(None, direction + 1, float(derived), float(found.value))

        error = found.error if along_error is None else found.error + along_error(u, v)
        comparison.add(derived, found.value, error, where)
    return _with_zeroed(comparison.result(Mode.DIRECTIONS), zeroed, comparison.compared, dropped)


def _straddle_test(
    base: Array, step: float, rerun: Rerun, chunk: int, straddles: Straddles
) -> Callable[[Array], bool]:
    """Whether the points x + k h w of a direction w straddle a kink."""

    def straddle(w: Array) -> bool:
        points = [base + factor * step * w for factor in FACTORS] + [base]
        for start in range(0, len(points), max(1, chunk)):
            rerun(np.stack(points[start : start + max(1, chunk)]))
            if straddles.rows is not None and np.any(straddles.rows):
                return True
        return False

    return straddle


def _with_zeroed(check: Check, zeroed: int, compared: int, dropped: int = 0) -> Check:
    """The directions' check, saying how many coordinates were zeroed at a kink
    (and how many directions were left out whole when the clearing budget ran
    out); with no direction left, inconclusive."""
    if not zeroed:
        return check
    hint = (
        f"{zeroed} {'coordinate' if zeroed == 1 else 'coordinates'} of the random directions "
        f"left out at a kink, where a central difference would straddle a change of branch "
        f"({compared} {'direction' if compared == 1 else 'directions'} compared)"
    )
    if dropped:
        hint += (
            f"; finding the coordinates near a kink reached its budget of "
            f"{CLEARING_MAX_WORK:,} multiply-adds, so "
            f"{dropped} {'direction was' if dropped == 1 else 'directions were'} left out whole"
            " (check at smaller sizes with --size)"
        )
    if compared == 0 and check.reason is None:
        return replace(
            check, verdict=Verdict.INCONCLUSIVE, reason=AT_KINK, hints=(hint,), at_kink=zeroed
        )
    return replace(check, hints=(*check.hints, hint), at_kink=zeroed)


def _rerun_points(
    points: list[Array], rerun: Rerun, chunk: int, bends: Bends | None = None
) -> tuple[Array, Array | None]:
    """The numerator at each point, `chunk` points per evaluation, and how far
    each point moved the arguments of sin and cos (None when nothing says)."""
    outputs: list[Array] = []
    moved: list[Array] = []
    for start in range(0, len(points), max(1, chunk)):
        batch = points[start : start + max(1, chunk)]
        outputs.extend(rerun(np.stack(batch)))
        if bends is not None and bends.last is not None:
            moved.extend(bends.last)
        else:
            moved.extend([0.0] * len(batch))
    return np.stack(outputs), np.asarray(moved) if bends is not None else None
