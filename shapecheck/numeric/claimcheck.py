"""A claim's value against the true derivative.

The truth is the derived derivative, itself checked against finite
differences first (`verify`): a claim is compared only with a verified truth,
entry by entry in the file's layout, and a wrong claim is explained by
`diagnose`. Derivative references in the claim (`dL/dY[i, k]`) take the
derived values. Rounding in how either side is written (a claim with heavy
cancellation) is bounded (`rounding`) and carried as the truth's error
estimate: a right claim is never wrong for it, and where the bound swamps the
tolerance the entry is undecidable. Entries where the truth's central
differences would straddle a kink are left out (`Verifier.kinked_entries`):
no derivative exists there, so neither side can be judged.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from shapecheck.check.program import CheckedClaim
from shapecheck.numeric import ties
from shapecheck.numeric.comparison import NONFINITE, ROUNDING_HELP, Comparison
from shapecheck.numeric.diagnose import diagnose
from shapecheck.numeric.evaluate import align
from shapecheck.numeric.rounding import Magnitudes, rounding_error
from shapecheck.numeric.verdicts import (
    Check,
    ClaimCheck,
    ClaimVerdict,
    Mode,
    Verdict,
    Worst,
    nobodys_fault,
)
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Derivation, reference_target
from shapecheck.symbolic.lower import lower_claim

if TYPE_CHECKING:
    from shapecheck.numeric.verify import Verifier

Array = Any


def check_claim(
    verifier: Verifier,
    derivation: Derivation,
    claim: CheckedClaim,
    truth_ok: bool,
    truth_reason: str | None = None,
    truth_hints: tuple[str, ...] = (),
) -> ClaimCheck:
    """The claim against `derivation`, whose own check passed when `truth_ok`
    (else failed or was inconclusive for `truth_reason`, with `truth_hints`)."""
    # The truth, the claim, and the comparison's temporaries.
    if not verifier.jacobian_fits(derivation, copies=6):
        too_large = verifier.too_large(derivation)
        return ClaimCheck(ClaimVerdict.INCONCLUSIVE, too_large, "too large to evaluate")
    if not truth_ok:
        # Every entry at a kink leaves nothing to compare the claim with either.
        # An ill-conditioned matrix too: the reason names it and its condition number.
        reason = "the true derivative could not be verified" + (
            f" ({truth_reason})" if truth_reason else ""
        )
        reason = truth_reason if nobodys_fault(truth_reason) and truth_reason else reason
        return ClaimCheck(
            ClaimVerdict.INCONCLUSIVE,
            Check(Verdict.INCONCLUSIVE, Mode.FULL, reason=reason, hints=truth_hints),
        )
    with np.errstate(all="ignore"):
        truth = verifier.derived.signature_value(derivation)
        lowered = _lowered(verifier, claim)
        claimed, spread = _claim_value(lowered)
        # Rounding in either formula's evaluation is no evidence against the claim.
        rounding = rounding_error(spread + verifier.derived.magnitude(derivation))
    comparison = _comparison(verifier)

    def where(flat: int) -> Worst:
        index = np.unravel_index(flat, truth.shape) if truth.shape else ()
        return Worst(
            tuple(int(k) + 1 for k in index),
            None,
            float(np.ravel(claimed)[flat]),
            float(np.ravel(truth)[flat]),
        )

    try:
        at_kink = verifier.kinked_entries(derivation)
    except MemoryError:
        too_large = verifier.too_large(derivation)
        return ClaimCheck(ClaimVerdict.INCONCLUSIVE, too_large, "too large to evaluate")
    comparison.add(claimed, truth, rounding, where, at_kink)
    check = comparison.result(Mode.FULL)
    if check.verdict == Verdict.INCONCLUSIVE:
        hints = verifier.nonfinite_hints() if check.reason == NONFINITE else check.hints
        return ClaimCheck(
            ClaimVerdict.INCONCLUSIVE,
            Check(
                Verdict.INCONCLUSIVE,
                Mode.FULL,
                reason=check.reason,
                hints=hints,
                at_kink=check.at_kink,
            ),
        )
    if check.verdict == Verdict.OK:
        if _selects(derivation) and check.at_kink:
            check = replace(check, hints=(*check.hints, TIE_CONVENTION))
        return ClaimCheck(ClaimVerdict.OK, check)
    with np.errstate(all="ignore"):
        known = _tie_known(verifier, lowered)
        tied = _tied(verifier, derivation, lowered, known)
    if tied is not None:
        # The disagreement proves something only away from what the tie reaches.
        away = _comparison(verifier)
        with np.errstate(all="ignore"):
            reached = _tied_entries(verifier, derivation, lowered, known, truth.shape)
        away.add(claimed, truth, rounding, where, at_kink, at_tie=reached)
        narrowed = away.result(Mode.FULL)
        if narrowed.verdict != Verdict.FAILED:
            hints = (*check.hints, ties.tie_hint(tied))
            return ClaimCheck(
                ClaimVerdict.INCONCLUSIVE,
                replace(check, verdict=Verdict.INCONCLUSIVE, reason=ties.NEAR_TIE, hints=hints),
            )
        check = replace(narrowed, hints=(*narrowed.hints, ties.left_out_hint(tied)))
    diagnosis = diagnose(verifier, derivation, claim, claimed, truth)
    return ClaimCheck(ClaimVerdict.WRONG, check, diagnosis)


def _comparison(verifier: Verifier) -> Comparison:
    """The claim's comparison with the truth: rounding is its error estimate."""
    return Comparison(
        verifier.settings,
        estimated="the rounding error of evaluating the claim and the true derivative",
        help=ROUNDING_HELP,
    )


# Spec 9.2: a claim that writes the selection of `max[j]` as an indicator
# differs from the derivation only at ties, which the check leaves out.
TIE_CONVENTION = (
    "max[j] and min[j] pass their derivative to the first position that attains "
    "them (argmax[j], argmin[j]); a claim that differs only at ties (an indicator "
    "such as `(X[i,q] == mx[i])` selects every tied position) is confirmed away from them"
)


def _selects(derivation: Derivation) -> bool:
    """Whether the derivation selects a position with `argmax[j]` or `argmin[j]`."""
    terms = [derivation.formula, *(a.formula for a in derivation.adjoints)]
    stack: list[t.Term] = terms
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor | t.Delta | t.Matrix) and t.selections(node.indices):
            return True
        stack.extend(t.children(node))
    return False


@dataclass(frozen=True)
class _Lowered:
    """A claim as terms, with the values it reads: the forward pass and every
    derivative it refers to, with the rounding magnitudes of those (`known`)."""

    lhs: tuple[t.Idx, ...]
    rhs: t.Term
    values: dict[str, Array]
    known: dict[str, Array]
    # The derivations it refers to, by the name it reads them as (`dL/dY`).
    referenced: dict[str, Derivation]


def _lowered(verifier: Verifier, claim: CheckedClaim) -> _Lowered:
    lhs, rhs = lower_claim(claim)
    values: dict[str, Array] = dict(verifier.forward)
    known: dict[str, Array] = {}
    referenced: dict[str, Derivation] = {}
    stack = [rhs]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor) and node.kind == t.REFERENCE and node.name not in values:
            derivation = verifier.deriver.derive(*reference_target(node.name))
            values[node.name] = verifier.derived.signature_value(derivation)
            known[node.name] = verifier.derived.magnitude(derivation)
            referenced[node.name] = derivation
        stack.extend(t.children(node))
    return _Lowered(lhs, rhs, values, known, referenced)


def _claim_value(claim: _Lowered) -> tuple[Array, Array]:
    """The claim's right-hand side on the forward values, in its own index order,
    and its rounding magnitudes (`rounding`)."""
    value, spread = Magnitudes(claim.values, claim.known).both(claim.rhs)
    names = t.names(claim.rhs.free)
    return align(value, names, claim.lhs), align(spread, names, claim.lhs)


def _tied_entries(
    verifier: Verifier,
    derivation: Derivation,
    claim: _Lowered,
    known: Mapping[str, Array],
    shape: tuple[int, ...],
) -> Array:
    """The entries of the comparison (the file's layout) that a tie decided by
    rounding reaches, in the claim or in the true derivative (`ties`)."""
    reached = np.zeros(shape, dtype=bool)
    # A derivative the claim refers to is read in the file's layout, as its value is.
    lines = {
        name: entries
        for name, derivation in claim.referenced.items()
        if (entries := verifier.derived.tied_entries(derivation)) is not None
    }
    magnitudes = Magnitudes(claim.values, known, per_operation=True)
    in_claim = ties.tied_entries(claim.rhs, lines, magnitudes)
    if in_claim is not None:
        reached |= align(in_claim, t.names(claim.rhs.free), claim.lhs)
    in_truth = verifier.derived.tied_entries(derivation)
    if in_truth is not None:
        reached |= in_truth
    return reached


def _tied(
    verifier: Verifier, derivation: Derivation, claim: _Lowered, known: Mapping[str, Array]
) -> t.Term | None:
    """A comparison or kink of the claim or of the true derivative within
    rounding of its tie at these values (`ties`): then a disagreement may be
    rounding taking two branches, and proves the claim nothing."""
    node = ties.tied_node([claim.rhs], claim.values, known)
    for behind in (*claim.referenced.values(), derivation):
        node = node if node is not None else verifier.derived.tied_node(behind)
    return node


def _tie_known(verifier: Verifier, claim: _Lowered) -> ChainMap[str, Array]:
    """The rounding magnitudes of the computed arrays a claim reads, as ties
    are looked at (`_tied`, `_tied_entries`): the derivatives it refers to and
    the forward pass's arrays."""
    derived = verifier.derived
    referenced = {name: derived.tie_magnitude(d) for name, d in claim.referenced.items()}
    return ChainMap(referenced, derived.computed())
