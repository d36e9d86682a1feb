"""The tolerance of numeric verification: running maxima over compared pairs.

Used by `differences` (derived against finite differences) and `claimcheck`
(claimed against true). Each reference value comes with an error estimate of
its own (for finite differences: truncation plus round-off, see
`differences`). With allowed = atol + rtol · max(|derived|, |reference|):

- an entry fails when |derived − reference| > allowed + error estimate, however
  large the estimate: a disagreement beyond what the numbers' own error can
  explain is decided;
- any other entry whose error estimate exceeds `allowed` is **undecidable**:
  the numbers cannot tell a right value from one off by the tolerance, so it
  is left out of the comparison and counted (an infinite or NaN estimate, a
  step outside the differences' asymptotic regime, is always undecidable).

When no entry could be decided the check is inconclusive, never a pass and
never a failure; a NaN or an Inf on either side makes it inconclusive too.

Entries whose finite differences straddle a kink (`kinks`) are left out
before anything else and counted apart (`at_kink`); when they are all there
is, the check is inconclusive with the reason `kinks.AT_KINK`. A claim's
entries that a tie decided by rounding reaches (`ties`) are left out the same
way (`at_tie`), with the reason `verdicts.NEAR_TIE` when nothing else is left.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shapecheck.numeric.kinks import AT_KINK
from shapecheck.numeric.verdicts import NEAR_TIE, Check, Mode, Settings, Verdict, Worst

Array = Any


# What a comparison with finite differences could not beat, by default.
OWN_ERROR = "the finite differences' own error (round-off or truncation)"


@dataclass
class Comparison:
    """Running maxima over compared pairs, and the worst one."""

    settings: Settings
    compared: int = 0
    undecidable: int = 0
    at_kink: int = 0
    at_tie: int = 0  # left out where a tie that rounding decides reaches (`ties`)
    max_abs: float = 0.0
    max_rel: float = 0.0
    # Whether any compared value was away from zero: where both values are
    # zero to within the absolute tolerance, a relative error is 0/0 and
    # means nothing, so such entries do not count towards `max_rel`.
    has_rel: bool = False
    worst_excess: float = -math.inf
    worst: Worst | None = None
    failed: bool = False
    nonfinite: bool = False
    unit: tuple[str, str] = ("entry", "entries")  # what is compared: one, several
    # What the reference's error estimate is, and what to do when it swamps all.
    estimated: str = OWN_ERROR
    help: str = ""

    def add(
        self,
        derived: Array,
        reference: Array,
        uncertainty: Array,
        where: Callable[[int], Worst],
        at_kink: Array | None = None,
        at_tie: Array | None = None,
    ) -> None:
        """Compare two arrays entry by entry; `uncertainty` is the reference's error
        estimate, `where` names the entry at a flat position; entries marked in
        `at_kink`, then in `at_tie` (each broadcast to the arrays' shape), are
        left out and counted."""
        reference = np.asarray(reference, dtype=np.float64)
        uncertainty = np.broadcast_to(np.asarray(uncertainty, dtype=np.float64), reference.shape)
        uncertainty = np.abs(uncertainty.ravel())
        kept = np.ones(reference.size, dtype=bool)
        if at_kink is not None:
            kept = ~np.broadcast_to(np.asarray(at_kink, dtype=bool), reference.shape).ravel()
            self.at_kink += int(kept.size - np.count_nonzero(kept))
        if at_tie is not None:
            tied = kept & np.broadcast_to(np.asarray(at_tie, dtype=bool), reference.shape).ravel()
            self.at_tie += int(np.count_nonzero(tied))
            kept = kept & ~tied
        derived = np.asarray(derived, dtype=np.float64).ravel()
        reference = reference.ravel()
        if not (np.all(np.isfinite(derived[kept])) and np.all(np.isfinite(reference[kept]))):
            self.nonfinite = True
            return
        if np.any(kept):
            self._update(derived, reference, uncertainty, where, kept)

    def _update(
        self,
        derived: Array,
        reference: Array,
        uncertainty: Array,
        where: Callable[[int], Worst],
        kept: Array,
    ) -> None:
        with np.errstate(invalid="ignore"):
            error = np.abs(derived - reference)
        scale = np.maximum(np.abs(derived), np.abs(reference))
        allowed = self.settings.atol + self.settings.rtol * scale
        # Decided: the estimate is within the tolerance, or the two disagree by
        # more than the estimate can explain. A NaN or infinite estimate decides
        # nothing (both comparisons are false). Entries at a kink are not kept.
        with np.errstate(invalid="ignore"):
            decided = kept & ((uncertainty <= allowed) | (error > allowed + uncertainty))
        self.undecidable += int(np.count_nonzero(kept) - np.count_nonzero(decided))
        self.compared += int(np.count_nonzero(decided))
        if not np.any(decided):
            return
        relative = np.where(scale > 0, error / np.maximum(scale, np.finfo(np.float64).tiny), 0.0)
        away_from_zero = decided & (scale > self.settings.atol)
        self.has_rel = self.has_rel or bool(np.any(away_from_zero))
        self.max_abs = max(self.max_abs, float(np.max(error, where=decided, initial=0.0)))
        self.max_rel = max(self.max_rel, float(np.max(relative, where=away_from_zero, initial=0.0)))
        excess = np.where(decided, error - allowed - uncertainty, -np.inf)
        position = int(np.argmax(excess))
        if excess[position] > self.worst_excess:
            self.worst_excess = float(excess[position])
            self.worst = where(position)
        if excess[position] > 0:
            self.failed = True

    def result(self, mode: Mode) -> Check:
        if self.nonfinite:
            return Check(
                Verdict.INCONCLUSIVE, mode, self.compared, reason=NONFINITE, at_kink=self.at_kink
            )
        if self.compared == 0 and self.undecidable == 0 and self.at_kink + self.at_tie > 0:
            return Check(
                Verdict.INCONCLUSIVE,
                mode,
                reason=NEAR_TIE if self.at_tie else AT_KINK,
                hints=self._left_out(),
                at_kink=self.at_kink,
            )
        if self.compared == 0 and self.undecidable > 0:
            return Check(
                Verdict.INCONCLUSIVE,
                mode,
                undecidable=self.undecidable,
                reason=f"none of its {self.undecidable} {self.unit[1]} could be resolved "
                f"numerically: {self.estimated} exceeds the tolerance",
                hints=(self.help or UNDECIDABLE_HELP,),
                at_kink=self.at_kink,
            )
        return Check(
            Verdict.FAILED if self.failed else Verdict.OK,
            mode,
            self.compared,
            self.max_abs,
            self.max_rel if self.has_rel else None,
            self.worst,
            undecidable=self.undecidable,
            hints=((self.unresolved(),) if self.undecidable else ()) + self._left_out(),
            at_kink=self.at_kink,
        )

    def _left_out(self) -> tuple[str, ...]:
        """What was left out before comparing: entries at a kink, then at a tie."""
        return ((self.left_at_kink(),) if self.at_kink else ()) + (
            (self.left_at_tie(),) if self.at_tie else ()
        )

    def left_at_kink(self) -> str:
        """`2 entries left out at a kink` (where a central difference would straddle one)."""
        unit = self.unit[0] if self.at_kink == 1 else self.unit[1]
        return (
            f"{self.at_kink} {unit} left out at a kink, where a central difference "
            f"would straddle a change of branch ({self.compared} compared)"
        )

    def left_at_tie(self) -> str:
        """`4 entries left out where a tie decided by rounding reaches`."""
        unit = self.unit[0] if self.at_tie == 1 else self.unit[1]
        return (
            f"{self.at_tie} {unit} left out where a comparison or kink within rounding "
            f"of its tie reaches ({self.compared} compared)"
        )

    def unresolved(self) -> str:
        """`3 entries could not be resolved numerically` and why."""
        unit = self.unit[0] if self.undecidable == 1 else self.unit[1]
        return (
            f"{self.undecidable} {unit} could not be resolved numerically "
            f"(left out; {self.compared} compared)"
        )


NONFINITE = "NaN or Inf in the comparison"

UNDECIDABLE_HELP = (
    "values of very different magnitudes make a change too small to see in float64 "
    "(round-off), or the function bends too fast for the step (truncation): "
    "check at other values (`--seed`, `--at`) or smaller magnitudes"
)

ROUNDING_HELP = (
    "the claim (or the true derivative) adds terms far larger than their sum, so "
    "float64 loses the digits that would decide it: write it without the cancelling "
    "terms, or check at other values (`--seed`, `--at`)"
)
