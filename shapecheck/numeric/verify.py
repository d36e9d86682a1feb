"""Numeric verification: every derivative against finite differences.

`Verifier` holds one program's values and forward pass and decides how each
derivative is checked (documented in docs/verification.md); the derived side,
each derivation's own value, is `derived`:

- **Full** when the Jacobian is small, **directions** otherwise; both are in
  `differences`, the tolerance in `comparison`.
- **Error estimates**: each finite difference carries its own (truncation and
  round-off, `differences`); entries it swamps are left out and counted, and
  a check with nothing decided is inconclusive (`comparison`).
- **Inconclusive, never a pass**, when a NaN or an Inf appears on either side.
- **Kinks** (`kinks`): entries whose central differences straddle a change
  of branch are left out (and counted); `kinked_entries` gives claims the same
  entries to leave out. Redrawing drawn values is `report`'s.
- **In bulk**: perturbed inputs go through the definitions stacked along a
  batch axis (`batched`), in chunks the budget allows (`plan`).
- **Memory budget** (`budget`). Nothing larger than the budget is evaluated:
  a check that would exceed it falls back to directions, and a derivative
  whose evaluation alone would exceed it is not verified, with a `--size` that
  would fit.

Claims are checked in `claimcheck`, how a wrong one is wrong in `diagnose`,
and verdicts are worded as diagnostics in `report`.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from shapecheck.check.program import CheckedProgram
from shapecheck.numeric import budget, differences, hints, kinks, rounding, ties
from shapecheck.numeric.batched import BatchedEvaluator, align_batched
from shapecheck.numeric.comparison import NONFINITE
from shapecheck.numeric.derived import DerivedValues
from shapecheck.numeric.evaluate import Evaluator, align, planned
from shapecheck.numeric.runtime import blas_threads
from shapecheck.numeric.verdicts import (
    DEFAULT_ATOL,
    DEFAULT_BUDGET_BYTES,
    DEFAULT_RTOL,
    Check,
    ClaimCheck,
    ClaimVerdict,
    Mode,
    Settings,
    Verdict,
    Worst,
)
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Derivation, Deriver

Array = Any

# The old bare-string names of the verdicts, for code that still imports them.
OK = Verdict.OK
FAILED = Verdict.FAILED
INCONCLUSIVE = Verdict.INCONCLUSIVE
NOT_VERIFIED = Verdict.NOT_VERIFIED
WRONG = ClaimVerdict.WRONG

# Re-exported: these lived here before the numeric package was split.
forward_entries = budget.forward_entries
too_large = budget.too_large
fitting_sizes = budget.fitting_sizes
FULL_MAX_INPUTS = budget.FULL_MAX_INPUTS
FULL_MAX_ENTRIES = budget.FULL_MAX_ENTRIES
FULL_MAX_WORK = budget.FULL_MAX_WORK
DIRECTIONS = differences.DIRECTIONS
KINK_REACH = hints.KINK_REACH


@dataclass(frozen=True)
class Plan:
    """How one derivative is checked: the definitions rerun, the contracted term
    (None for the full Jacobian), perturbed inputs per evaluation, and bytes:
    per perturbed input, and in all beyond the forward pass (an upper bound)."""

    chain: list[str]
    contracted: t.Term | None
    chunk: int
    per_input: int
    bytes: int


def forward_bytes(forward: Mapping[str, Array]) -> int:
    """The forward values and, beside them, their rounding magnitudes."""
    return 2 * 8 * sum(int(np.size(v)) for v in forward.values())


def kinked(deriver: Deriver, chain: list[str]) -> bool:
    """Whether a definition on the way has kinks (else no kink work is done)."""
    return any(kinks.has_kinks(deriver.lowered[name][1]) for name in chain)


def _straddles(
    deriver: Deriver,
    derivation: Derivation,
    chain: list[str],
    clearing: kinks.ClearingBudget | None,
) -> kinks.Straddles | None:
    """What a check records of kinks, paying clearing from `clearing` (a budget
    of its own when None); None where no definition on the way has kinks."""
    if not kinked(deriver, chain):
        return None
    return kinks.Straddles(clearing=clearing or clearing_budget(deriver, derivation))


def clearing_budget(deriver: Deriver, derivation: Derivation) -> kinks.ClearingBudget:
    """What kink clearing may spend on `derivation` (`kinks.ClearingBudget`): a
    straddle test reruns the definitions on the way at every point of a
    direction, and the centre."""
    chain = deriver.graph.on_path(derivation.of, derivation.wrt)
    work = budget.forward_work(deriver.lowered[name][1] for name in chain)
    return kinks.ClearingBudget(test_cost=(budget.POINTS + 1) * max(work, 1))


def _search_kinks(verifier: Verifier, derivation: Derivation, chain: list[str]) -> Array:
    """Per input entry, whether the full check's points straddle a kink, rerun
    as many points at once as the memory budget allows (`budget.kink_search_chunk`)."""
    straddles = kinks.Straddles()
    rerun = verifier.rerun(derivation, chain, differences.Bends(), straddles)
    base = np.asarray(verifier.forward[derivation.wrt], dtype=np.float64)
    steps = [(n, *verifier.deriver.lowered[n]) for n in chain]
    chunk = budget.kink_search_chunk(
        derivation, steps, forward_bytes(verifier.forward), verifier.settings.budget_bytes, planned
    )
    with np.errstate(all="ignore"):
        return differences.kinked_columns(base, rerun, straddles, chunk)


def forward_pass(deriver: Deriver, leaves: Mapping[str, Array]) -> dict[str, Array]:
    """Every definition's value from the leaves' (in the definitions' order)."""
    values: dict[str, Array] = dict(leaves)
    evaluator = Evaluator(values)
    for name in deriver.graph.order:
        lhs, rhs = deriver.lowered[name]
        values[name] = align(evaluator.value(rhs), t.names(rhs.free), lhs)
    return values


class Verifier:
    """Values, forward passes and checks for one checked program."""

    def __init__(
        self,
        program: CheckedProgram,
        deriver: Deriver,
        values: Mapping[str, Array],
        settings: Settings,
    ) -> None:
        self.program = program
        self.deriver = deriver
        self.settings = settings
        self.leaves = dict(values)
        self.rng = np.random.default_rng([settings.seed, 0x5EED])
        # With the first derivatives the symbolic stage defines for d2A/dB2.
        self.forward = forward_pass(deriver, self.leaves)
        # The derived side: each derivation's value, evaluated once.
        steps = [(name, *deriver.lowered[name]) for name in deriver.graph.order]
        self.derived = DerivedValues(self.forward, steps)
        # Per derivative label: which input entries of its full check straddled
        # a kink (numerator order, flattened), for its claims.
        self.kinked_columns: dict[str, Array] = {}

    # ---- forward passes
    def rerun(
        self,
        derivation: Derivation,
        chain: list[str],
        bends: differences.Bends,
        straddles: kinks.Straddles | None = None,
    ) -> differences.Rerun:
        """The numerator's values for a stack of denominator values (leading batch
        axis): every definition on the path is evaluated once for the whole stack;
        how far each row moved the arguments of sin and cos goes to `bends`, and
        which rows straddle a kink to `straddles`."""

        centre_branches: dict[t.Term, Array] = {}

        def rerun(stack: Array) -> Array:
            changed: dict[str, Array] = {derivation.wrt: stack}
            values = ChainMap(changed, self.forward)
            evaluator = BatchedEvaluator(values, {derivation.wrt}, self.forward, centre_branches)
            for name in chain:
                lhs, rhs = self.deriver.lowered[name]
                value, batched = evaluator.value(rhs)
                changed[name] = align_batched(value, t.names(rhs.free), lhs, batched)
                if batched:
                    evaluator.batched.add(name)
            result = np.asarray(values[derivation.of], dtype=np.float64)
            if derivation.of not in evaluator.batched:
                # The numerator does not depend on the denominator here.
                result = np.broadcast_to(result, (len(stack), *np.shape(result)))
            bends.last = evaluator.bend
            if straddles is not None:
                straddles.rows = evaluator.straddles.rows
            return result

        return rerun

    def rounding_scale(self, derivation: Derivation, chain: list[str]) -> Array | None:
        """Magnitudes (`rounding`) of the numerator's evaluation, counting what
        moves with the denominator: its value may carry `rounding_error` of them
        at every perturbed point, however small it is itself (cos of an argument
        of 10⁸ carries 10⁻⁸, and a saturated tanh a staircase)."""
        steps = [(name, *self.deriver.lowered[name]) for name in chain]
        varying = {derivation.wrt, *chain}
        return rounding.forward_scales(self.forward, steps, varying).get(derivation.of)

    def jacobian_fits(self, derivation: Derivation, copies: int = 1) -> bool:
        """Whether the full Jacobian (`copies` arrays of its size besides it) may be
        evaluated next to the forward pass within the budget."""
        held = budget.derived_bytes(derivation, planned) + 8 * copies * budget.count(
            derivation.indices
        )
        return forward_bytes(self.forward) + held <= self.settings.budget_bytes

    # ---- the check
    def plan(self, derivation: Derivation) -> Plan:
        """How `check` will run and the memory it may take, before evaluating anything."""
        chain = self.deriver.graph.on_path(derivation.of, derivation.wrt)
        forward = forward_bytes(self.forward)
        budget_bytes = self.settings.budget_bytes
        steps = [(n, *self.deriver.lowered[n]) for n in chain]
        per_input, once = budget.rerun_bytes(derivation.wrt, derivation.wrt_indices, steps, planned)
        derived = budget.derived_bytes(derivation, planned)
        full = budget.full_fits(
            derivation, (rhs for _, _, rhs in steps), forward, budget_bytes, per_input, derived
        )
        contracted = None if full else differences.contracted(derivation)
        held = once + (
            # The Jacobian, and the finite differences' columns and estimates beside it.
            derived + 8 * 3 * budget.count(derivation.indices)
            if contracted is None
            else budget.directions_bytes(derivation, contracted, planned)
        )
        # What is left for perturbed inputs after the forward pass and the derived side.
        chunk = max(0, (budget_bytes - forward - held) // max(per_input, 1))
        if contracted is None:
            chunk = min(chunk, budget.POINTS * budget.count(derivation.wrt_indices) + 1)
        return Plan(chain, contracted, chunk, per_input, held + chunk * per_input)

    def check(self, derivation: Derivation, clearing: kinks.ClearingBudget | None = None) -> Check:
        """The numeric check of `derivation`; kink clearing is paid from
        `clearing` (a budget of its own when None)."""
        plan = self.plan(derivation)
        if plan.contracted is not None and plan.chunk < 1:
            return self.too_large(derivation, plan.contracted)
        straddles = _straddles(self.deriver, derivation, plan.chain, clearing)
        try:
            with np.errstate(all="ignore"), blas_threads(plan.per_input):
                drawn = self.rng.bit_generator.state
                result = self._compare(derivation, plan, straddles)
                if result.verdict == Verdict.FAILED:  # unless the derived side's own
                    self.rng.bit_generator.state = drawn  # rounding or a tie explains it
                    result = self._compare(derivation, plan, straddles, own_rounding=True)
                if result.verdict == Verdict.FAILED:
                    result = ties.unless_tied(result, self.derived.tied_node(derivation))
        except MemoryError:
            return self.too_large(derivation)
        return _settle(self, result, derivation, plan.chain)

    def _compare(
        self,
        derivation: Derivation,
        plan: Plan,
        straddles: kinks.Straddles | None,
        own_rounding: bool = False,
    ) -> Check:
        """Entry by entry when `plan.contracted` is None, else along random
        directions; `plan.chunk` perturbed inputs go through the definitions at
        once; with `own_rounding`, the derived side's rounding is allowed for."""
        chain, contracted, chunk = plan.chain, plan.contracted, plan.chunk
        base = np.asarray(self.forward[derivation.wrt], dtype=np.float64)
        bends = differences.Bends()
        rerun = self.rerun(derivation, chain, bends, straddles)
        scale = self.rounding_scale(derivation, chain)
        if contracted is None:
            derived = self.derived.value(derivation)
            check = differences.full_check(
                derivation,
                derived,
                base,
                rerun,
                self.settings,
                min(chunk, budget.POINTS * base.size + 1),
                scale,
                bends,
                straddles,
                self.derived.rounding_error(derivation) if own_rounding else None,
            )
            if straddles is not None and straddles.columns is not None:
                self.kinked_columns[derivation.label] = straddles.columns
            return check
        own = self.derived.along_error(derivation, contracted) if own_rounding else None
        return differences.directions_check(
            derivation,
            self.derived.along(derivation, contracted),
            base,
            rerun,
            self.settings,
            self.rng,
            chunk,
            scale,
            bends,
            straddles,
            own,
        )

    def kinked_entries(self, derivation: Derivation) -> Array | None:
        """Which entries of the derivative (signature order) sit where a central
        difference would straddle a kink; None when none can."""
        chain = self.deriver.graph.on_path(derivation.of, derivation.wrt)
        if not kinked(self.deriver, chain):
            return None
        columns = self.kinked_columns.get(derivation.label)
        if columns is None:
            columns = self.kinked_columns[derivation.label] = _search_kinks(self, derivation, chain)
        shape = tuple(int(i.size.value or 0) for i in derivation.indices)
        out = shape[: len(derivation.of_indices)]
        mask = np.broadcast_to(np.reshape(columns, (1,) * len(out) + shape[len(out) :]), shape)
        return np.transpose(mask, differences.signature_permutation(derivation))

    def too_large(self, derivation: Derivation, evaluated: t.Term | None = None) -> Check:
        return budget.too_large(self.program, derivation, self.settings, evaluated)

    def nonfinite_hints(self) -> tuple[str, ...]:
        """Where a NaN or Inf in the forward values came from."""
        return hints.nonfinite_hints(self.program, self.deriver, self.forward)


def _settle(verifier: Verifier, result: Check, derivation: Derivation, chain: list[str]) -> Check:
    """An inconclusive check gets hints, and entries left out next to a kink
    are explained by it. A failure stands: entries whose differences would
    straddle a kink were left out before comparing (`kinks`)."""
    if result.verdict == Verdict.OK and not (result.undecidable or result.at_kink):
        return result
    near = hints.kinks(verifier.deriver, verifier.forward, [*chain, derivation.of])
    if result.verdict == Verdict.INCONCLUSIVE:
        nonfinite = verifier.nonfinite_hints() if result.reason == NONFINITE else ()
        return replace(result, hints=result.hints + nonfinite + near)
    return replace(result, hints=result.hints + near)


__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_BUDGET_BYTES",
    "DEFAULT_RTOL",
    "DIRECTIONS",
    "FAILED",
    "FULL_MAX_ENTRIES",
    "FULL_MAX_INPUTS",
    "FULL_MAX_WORK",
    "INCONCLUSIVE",
    "KINK_REACH",
    "NOT_VERIFIED",
    "OK",
    "WRONG",
    "Check",
    "ClaimCheck",
    "ClaimVerdict",
    "Mode",
    "Settings",
    "Verdict",
    "Verifier",
    "Worst",
    "clearing_budget",
    "fitting_sizes",
    "forward_entries",
    "too_large",
]
