"""How a wrong claim is wrong: the words after `the claim ... is wrong:`.

`claimcheck` calls `diagnose` with the claimed and the true values (same
shape, the signature's order). Every explanation is a fixed claim that must
equal the true derivative, within a tight tolerance, at the check's values
and again at a second, independent draw of every drawn array: a diagnosis is
certain or not given (spec 10), and never read from a coincidence of sizes.
Tried in order (language reference 13.5): the whole claim's sign, its
transpose, a missing factor of the derivation, an extra factor of its own, a
constant factor (a fact, the same at both draws), then the other fixes of
`symbolic/diagnosis.py` (a transposed array, a wrong time step, one term's
sign or presence, a wrong factor), a missing chain-rule path (the truth less
the paths through one array), a missing term, a broadcast. A constant factor
that reads a size another dim shares is never named.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from shapecheck.check.program import CheckedClaim
from shapecheck.numeric import differences
from shapecheck.numeric.evaluate import EvaluationError, Evaluator, align
from shapecheck.symbolic import diagnosis as structure
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import (
    Derivation,
    DerivationTooLarge,
    SecondDerivativeOfLoss,
    reference_target,
)
from shapecheck.symbolic.formula import formula
from shapecheck.symbolic.simplify import SimplifyLimit

if TYPE_CHECKING:
    from shapecheck.numeric.verify import Verifier

Array = Any

# The second draw's streams: apart from the redraws of `kinks` (1..MAX_REDRAWS).
SECOND_DRAW = 1000
# Largest chain-rule contribution (entries of dY/dV and dV/dX) evaluated.
MAX_PATH_ENTRIES = 1_000_000
# Nodes of fixed claims evaluated in one diagnosis, over every explanation
# tried and both draws; past it no diagnosis is given (never a guess). The
# most a shipped mistake or a diagnosis test needs is under 700; a fuzzed
# claim of 500 factors tried 826 fixes of 1,000 nodes each (90 s).
MAX_DIAGNOSIS_NODES = 10_000


class _OutOfBudget(Exception):
    """The diagnosis has evaluated MAX_DIAGNOSIS_NODES nodes."""


class _Budget:
    """Nodes left to evaluate in one diagnosis, shared by its two draws."""

    def __init__(self, nodes: int) -> None:
        self.left = nodes

    def spend(self, term: t.Term) -> None:
        self.left -= t.size_count(term, self.left + 1)
        if self.left < 0:
            raise _OutOfBudget


def _close(a: Array, b: Array) -> bool:
    if np.shape(a) != np.shape(b):
        return False
    scale = max(float(np.max(np.abs(b))) if np.size(b) else 0.0, 1e-300)
    with np.errstate(all="ignore"):
        return bool(np.all(np.abs(a - b) <= 1e-8 * scale + 1e-12))


@dataclass(frozen=True)
class _Draw:
    """One set of values: the claim and the truth evaluated on it."""

    verifier: Verifier
    truth: Array
    budget: _Budget

    def value(self, derivation: Derivation, term: t.Term) -> Array | None:
        """`term` (in the derivation's names) on these values, signature order;
        None where it cannot be evaluated or is not finite."""
        self.budget.spend(term)
        values, _ = self.verifier.derived.adjoints(derivation)
        try:
            for node in _references(term):
                if node.name not in values:
                    referenced = self.verifier.deriver.derive(*reference_target(node.name))
                    values[node.name] = self.verifier.derived.signature_value(referenced)
            with np.errstate(all="ignore"):
                value = Evaluator(values).value(term)
        except (EvaluationError, ValueError, KeyError, IndexError):
            return None
        if not np.all(np.isfinite(value)):
            return None
        return align(value, t.names(term.free), derivation.signature)


def _references(term: t.Term) -> list[t.Tensor]:
    found: list[t.Tensor] = []
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor) and node.kind == t.REFERENCE:
            found.append(node)
        stack.extend(t.children(node))
    return found


def _second_draw(verifier: Verifier, derivation: Derivation, budget: _Budget) -> _Draw | None:
    """The same program on an independent draw of its drawn arrays; None when
    no array the derivative depends on is drawn (nothing would be independent)."""
    from shapecheck.numeric.values import draw_values
    from shapecheck.numeric.verify import Verifier as Fresh

    program = verifier.program
    values = draw_values(program, verifier.settings.seed, None, SECOND_DRAW)
    leaves = verifier.deriver.graph.upstream_of(derivation.of)
    moved = [
        a.name
        for a in program.arrays
        if a.is_leaf and a.value is None and (a.name in leaves or a.name == derivation.wrt)
    ]
    if not moved:
        return None
    with np.errstate(all="ignore"):
        fresh = Fresh(program, verifier.deriver, values, verifier.settings)
        truth = fresh.derived.signature_value(derivation)
    if not np.all(np.isfinite(truth)):
        return None
    return _Draw(fresh, truth, budget)


# A test of one explanation on one draw: the claim's value there, the truth's.
Test = Callable[[_Draw, Array], bool]


def diagnose(
    verifier: Verifier,
    derivation: Derivation,
    claim: CheckedClaim,
    claimed: Array,
    truth: Array,
) -> str | None:
    """Say how a claim differs from the truth, where that is certain."""
    if not np.all(np.isfinite(claimed)) or not np.all(np.isfinite(truth)):
        return None
    from shapecheck.symbolic.fold import folder_of

    # In the file's names, as `derive` prints it: a missing factor is quoted
    # `1 - s[i,j]`, not the re-expanded `1 - sigmoid(x[i,j])` (spec 10).
    derivation = folder_of(verifier.deriver).derivation(derivation)
    in_names = structure.claim_in_derivation_names(verifier.deriver, claim, derivation)
    budget = _Budget(MAX_DIAGNOSIS_NODES)
    try:
        return _explained(verifier, derivation, claim, in_names, claimed, truth, budget)
    except _OutOfBudget:
        return None


def _explained(
    verifier: Verifier,
    derivation: Derivation,
    claim: CheckedClaim,
    in_names: structure.ClaimInNames,
    claimed: Array,
    truth: Array,
    budget: _Budget,
) -> str | None:
    """The first explanation that holds at both draws, within the budget."""
    second = _second_draw(verifier, derivation, budget)
    claimed_second = None if second is None else second.value(derivation, in_names.term)
    if second is None or claimed_second is None:
        return None
    draws = ((_Draw(verifier, truth, budget), claimed), (second, claimed_second))

    def holds(test: Test) -> bool:
        return all(test(draw, value) for draw, value in draws)

    ranks = {a.name: len(a.shape) for a in verifier.program.arrays}
    missing = structure.missing_factors(in_names.term, derivation, _shared_sizes(verifier))
    return (
        _whole_sign(holds)
        or _transposed(claim.indices)(holds)
        or _factor(holds, derivation, in_names, missing)
        or _scaled(draws)
        or _first_true(
            holds, derivation, in_names, structure.other_fixes(in_names.term, derivation, ranks)
        )
        or _paths(draws, derivation)
        or _first_true(
            holds, derivation, in_names, structure.missing_terms(in_names.term, derivation)
        )
        or _broadcast(holds, claim.indices)
    )


def _shared_sizes(verifier: Verifier) -> frozenset[str]:
    """Dims whose size another dim has too (dims without a value are drawn
    distinct from every other size, spec 6)."""
    dims = verifier.program.dims
    values = [d.value for d in dims if d.value is not None]
    return frozenset(d.name for d in dims if d.value and values.count(d.value) > 1)


def _whole_sign(holds: Callable[[Test], bool]) -> str | None:
    if holds(lambda draw, value: _close(value, -draw.truth)):
        return "it has the wrong sign: it is minus the true derivative"
    return None


def _reads_as(draw: _Draw, value: Array, order: tuple[int, ...]) -> bool:
    return _close(np.transpose(value, order), draw.truth)


def _transposed(indices: tuple[str, ...]) -> Callable[[Callable[[Test], bool]], str | None]:
    """The claim's axes are the truth's in another order (same sizes)."""

    def explain(holds: Callable[[Test], bool]) -> str | None:
        rank = len(indices)
        for order in itertools.permutations(range(rank)):
            if rank < 2 or order == tuple(range(rank)):
                continue
            if holds(partial(_reads_as, order=order)):
                right = [indices[k] for k in np.argsort(order)]
                return (
                    "it is the transpose of the true derivative: its indices are in the "
                    f"wrong order (the claim's [{','.join(indices)}] should be read as "
                    f"[{','.join(right)}])"
                )
        return None

    return explain


def _first_true(
    holds: Callable[[Test], bool],
    derivation: Derivation,
    in_names: structure.ClaimInNames,
    fixes: list[structure.Fix],
) -> str | None:
    """The words of the first fix that makes the claim the true derivative."""
    for fix in fixes:
        if holds(_fixes(derivation, fix)):
            return _words(fix.words, in_names.back)
    return None


def _factor(
    holds: Callable[[Test], bool],
    derivation: Derivation,
    in_names: structure.ClaimInNames,
    missing: list[structure.Fix],
) -> str | None:
    """A missing factor, else an extra one. A factor that is a number (`1 / n`,
    `2`) is named only where no other number fixes the claim as well: at n = 2,
    `1 / n` missing and `2` too many are one number, and naming either would
    be a guess from a coincidence of sizes (the constant is then said as a fact)."""
    extra = structure.extra_factors(in_names.term)
    numbers = [f for f in (*missing, *extra) if structure.a_number(f, in_names.term)]
    fixing = {f.words for f in numbers if holds(_fixes(derivation, f))}
    if len(fixing) > 1:
        missing = [f for f in missing if f not in numbers]
        extra = [f for f in extra if f not in numbers]
    return _first_true(holds, derivation, in_names, missing) or _first_true(
        holds, derivation, in_names, extra
    )


def _fixes(derivation: Derivation, fix: structure.Fix) -> Test:
    """The test that the claim with `fix` applied is the true derivative."""

    def fixed_is_true(draw: _Draw, _: Array) -> bool:
        value = draw.value(derivation, fix.term)
        return value is not None and _close(value, draw.truth)

    return fixed_is_true


def _words(words: structure.Words, back: Mapping[str, t.Index]) -> str:
    """The words, each quoted term printed in the claim's own index names."""
    return "".join(
        part if isinstance(part, str) else formula(t.rename(part, dict(back))) for part in words
    )


def _paths(draws: tuple[tuple[_Draw, Array], ...], derivation: Derivation) -> str | None:
    """The claim is the truth less (or plus, or with the sign turned of) the
    terms of the chain-rule paths through one array: `no term through var`."""
    verifier = draws[0][0].verifier
    for name in structure.branches(verifier.deriver, derivation):
        for words, times in (
            (f"it has no term through `{name}` (a chain-rule path is missing)", -1),
            (f"its term through `{name}` has the wrong sign", -2),
            (f"it counts the terms through `{name}` twice", 1),
        ):
            if all(_through(draw, derivation, name, value, times) for draw, value in draws):
                return words
    return None


def _through(draw: _Draw, derivation: Derivation, name: str, value: Array, times: int) -> bool:
    """Whether `value` is the truth plus `times` the paths through `name`,
    where those paths are neither nothing nor everything."""
    part = _contribution(draw.verifier, derivation, name)
    if part is None or _close(part, 0 * part) or _close(part, draw.truth):
        return False
    return _close(value, draw.truth + times * part)


def _contribution(verifier: Verifier, derivation: Derivation, name: str) -> Array | None:
    """Σ_v dA/dV[…, v] dV/dB[v, …] in the signature's order: the paths through V."""
    deriver = verifier.deriver
    try:
        outer = deriver.derive(derivation.of, name, 1)
        inner = deriver.derive(name, derivation.wrt, 1)
    except (DerivationTooLarge, SimplifyLimit, SecondDerivativeOfLoss):
        return None  # no diagnosis from a path that cannot be derived
    rank = len(inner.of_indices)
    entries = sum(int(np.prod([i.size.value or 1 for i in d.indices])) for d in (outer, inner))
    if entries > MAX_PATH_ENTRIES:
        return None
    with np.errstate(all="ignore"):
        part = np.tensordot(verifier.derived.value(outer), verifier.derived.value(inner), rank)
    if not np.all(np.isfinite(part)):
        return None
    return np.transpose(part, differences.signature_permutation(derivation))


def _scaled(draws: tuple[tuple[_Draw, Array], ...]) -> str | None:
    """The claim is the truth times one constant, the same at both draws."""
    factors = []
    for draw, value in draws:
        norm = float(np.sum(draw.truth * draw.truth))
        if norm <= 0:
            return None
        factor = float(np.sum(value * draw.truth)) / norm
        if not _close(value, factor * draw.truth):
            return None
        factors.append(factor)
    if abs(factors[0] - factors[1]) > 1e-9 * max(abs(factors[0]), 1.0):
        return None
    if factors[0] == 0.0:
        return "it is zero where the true derivative is not"
    return f"it is the true derivative times a constant, {factors[0]:.6g}"


def _broadcast(holds: Callable[[Test], bool], indices: tuple[str, ...]) -> str | None:
    """The claim is constant along one axis (broadcast over it) and agrees with
    the truth only once summed over it. A claim that merely sums to the same
    along an axis (an error that cancels) is not a broadcast: saying so would
    mislead."""
    for axis, name in enumerate(indices):

        def broadcast(draw: _Draw, value: Array, axis: int = axis) -> bool:
            if draw.truth.shape[axis] < 2:
                return False
            mean = np.broadcast_to(value.mean(axis=axis, keepdims=True), value.shape)
            return (
                _close(value, mean)
                and _close(value.sum(axis=axis), draw.truth.sum(axis=axis))
                and not _close(value, draw.truth)
            )

        if holds(broadcast):
            return (
                f"it agrees with the true derivative only once summed over `{name}`: "
                f"right only up to a broadcast over `{name}`"
            )
    return None
