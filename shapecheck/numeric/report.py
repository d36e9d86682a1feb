"""Numeric verdicts as diagnostics: the numeric stage as `pipeline` calls it.

`verify_numerically` draws (or loads `--at`) the values, checks each requested
derivative once (a claim reuses its derivative's check), checks the claims,
writes `--save`, and words every verdict that is not a pass:

- E401: a derivative disagrees with finite differences (a shapecheck bug);
- E402: a claim is wrong, with how (`diagnose`) and its worst entry;
- E403: a claim's check is inconclusive (NaN, Inf, nothing decidable: never a pass);
- E404: a claim could not be verified for lack of memory;
- E405: a claim could not be verified: every entry sits at a kink;
- W104: a derivative too large to verify or to save;
- W110: a derivative not verified: every entry sits at a kink;
- W111: a derivative not verified: a matrix it inverts or takes the
  determinant of stays ill-conditioned (an E403 for a claim, a
  W113 for a claim confirmed symbolically);
- W113: a derived derivative (or a claim confirmed symbolically) whose numeric
  check is inconclusive: not verified, a warning, since the user did nothing
  wrong (spec 6, second edition).

Where a check leaves entries out at a kink, or a matrix whose determinant or
inverse it takes has a condition number above `matrices.MAX_CONDITION`, and
the arrays it depends on include drawn ones, those are drawn again
(`_Checks.off_kinks`, at most `kinks.MAX_REDRAWS` times, each redraw a seeded
stream of its own); the derivative's claims are checked on the same values
as its check.

numpy is imported only when this runs, so `check --no-verify` starts without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shapecheck.check.program import CheckedProgram, DeriveRequest
from shapecheck.collector import collector_paused
from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.numeric.verdicts import (
    AT_KINK,
    Check,
    ClaimCheck,
    ClaimVerdict,
    Settings,
    Verdict,
    Worst,
    nobodys_fault,
)
from shapecheck.source import Span
from shapecheck.symbolic.claims import SymbolicClaim
from shapecheck.symbolic.derive import Derivation, Deriver
from shapecheck.syntax import ast
from shapecheck.syntax.unroll import loop_context

if TYPE_CHECKING:
    from shapecheck.numeric.kinks import ClearingBudget
    from shapecheck.numeric.verify import Verifier


class ValuesProblem(Exception):
    """`--at` values that do not fit the file: a problem with the command."""


class NumericOptions(Protocol):
    """What the command line asked of the numeric checks (`pipeline.Options`)."""

    @property
    def seed(self) -> int: ...
    @property
    def rtol(self) -> float: ...
    @property
    def atol(self) -> float: ...
    @property
    def budget_bytes(self) -> int: ...
    @property
    def at(self) -> Path | None: ...
    @property
    def save(self) -> Path | None: ...


@dataclass(frozen=True)
class Verification:
    """How the numbers were made: enough to reproduce them."""

    seed: int
    sizes: tuple[tuple[str, int, bool], ...]  # dim, value, chosen by shapecheck
    rtol: float
    atol: float
    budget_bytes: int
    values_from: str  # "seeded draws", "literal values" or the --at file
    saved_to: str | None


@dataclass(frozen=True)
class NumericReport:
    """The numeric stage's results: one check per derivative asked, in order,
    one per claim, in order, and the diagnostics in the order they arose."""

    derivatives: tuple[Check, ...]
    claims: tuple[ClaimCheck, ...]
    diagnostics: tuple[Diagnostic, ...]
    verification: Verification


def verify_numerically(
    checked: CheckedProgram,
    deriver: Deriver,
    derivatives: Sequence[tuple[DeriveRequest, Derivation]],
    claims: Sequence[SymbolicClaim],
    options: NumericOptions,
    chosen: dict[str, int],
) -> NumericReport:
    """Check every derivative and claim; `chosen` names the sizes shapecheck picked."""

    with collector_paused():
        return _verify(checked, deriver, derivatives, claims, options, chosen)


def _verify(
    checked: CheckedProgram,
    deriver: Deriver,
    derivatives: Sequence[tuple[DeriveRequest, Derivation]],
    claims: Sequence[SymbolicClaim],
    options: NumericOptions,
    chosen: dict[str, int],
) -> NumericReport:
    settings = Settings(options.rtol, options.atol, options.budget_bytes, options.seed)
    verifier, given = _verifier(checked, deriver, options, settings)
    checks = _Checks(checked, verifier, settings, given)
    derivative_checks = tuple(checks.derivative(d, r.span, r.loop) for r, d in derivatives)
    derivative_checks = _with_point_values(checks, derivatives, derivative_checks)
    claim_checks = tuple(checks.claim(symbolic) for symbolic in claims)
    saved = None
    if options.save is not None:
        saved = _save(options.save, checked, verifier, derivatives, derivative_checks, checks)
    sizes = tuple(
        (d.name, int(d.value or 0), d.name in chosen) for d in checked.dims if d.value is not None
    )
    info = Verification(
        options.seed,
        sizes,
        options.rtol,
        options.atol,
        options.budget_bytes,
        _values_from(checked, options),
        saved,
    )
    return NumericReport(derivative_checks, claim_checks, tuple(checks.problems), info)


def _with_point_values(
    checks: _Checks,
    derivatives: Sequence[tuple[DeriveRequest, Derivation]],
    results: tuple[Check, ...],
) -> tuple[Check, ...]:
    """Each passed check with its derivative's value where the file fixes every
    value the derivative depends on (`numeric.point`)."""
    if checks.verifier is None:
        return results
    from shapecheck.numeric.point import fixed_by_file, point_value

    shown = []
    for (request, derivation), result in zip(derivatives, results, strict=True):
        verifier = checks.checked_on.get(derivation.label, checks.verifier)
        if (
            result.verdict == Verdict.OK
            and fixed_by_file(checks.checked, checks.given, request.of)
            and verifier.jacobian_fits(derivation)
        ):
            value = point_value(verifier.derived.signature_value(derivation))
            result = replace(result, value=value)
        shown.append(result)
    return tuple(shown)


def _values_from(checked: CheckedProgram, options: NumericOptions) -> str:
    """Where the values came from: the `--at` file, the file's literal values
    (every array has one and no `loss` draws an upstream gradient), or draws."""
    if options.at is not None:
        return str(options.at)
    leaves = [a for a in checked.arrays if a.is_leaf]
    from shapecheck.numeric.values import upstream_shapes

    if leaves and all(a.value is not None for a in leaves) and not upstream_shapes(checked):
        return "literal values"
    return "seeded draws"


def _verifier(
    checked: CheckedProgram, deriver: Deriver, options: NumericOptions, settings: Settings
) -> tuple[Verifier | None, Mapping[str, Any] | None]:
    """Values and the forward pass (None when the forward pass alone would not
    fit), and the `--at` values."""
    from shapecheck.numeric import values as numbers
    from shapecheck.numeric.budget import forward_pass_bytes
    from shapecheck.numeric.evaluate import planned
    from shapecheck.numeric.verify import Verifier

    try:
        given = numbers.load_at(options.at, checked) if options.at is not None else None
    except numbers.AtProblem as problem:
        raise ValuesProblem(str(problem)) from None
    # Nothing is drawn when the forward pass alone would not fit the budget.
    if forward_pass_bytes(checked, deriver, planned) > options.budget_bytes:
        return None, given
    values = numbers.draw_values(checked, options.seed, given)
    return Verifier(checked, deriver, values, settings), given


class _Checks:
    """Each derivative checked once, each verdict worded once, in order."""

    def __init__(
        self,
        checked: CheckedProgram,
        verifier: Verifier | None,
        settings: Settings,
        given: Mapping[str, Any] | None = None,
    ) -> None:
        self.checked = checked
        self.verifier = verifier
        self.settings = settings
        self.given = given
        self.done: dict[str, Check] = {}
        # The values each derivative was last checked on (after any redraw).
        self.checked_on: dict[str, Verifier] = {}
        self.problems: list[Diagnostic] = []

    def derivative(
        self,
        derivation: Derivation,
        span: Span | None,
        loop: ast.LoopValues,
        requested: bool = True,
    ) -> Check:
        """The check of `derivation`, and its diagnostic. Derivatives checked only
        for a claim (not `requested`) report a failure alone (a bug in shapecheck):
        the claim's own diagnostic carries any other reason and its hints."""
        if derivation.label in self.done:
            return self.done[derivation.label]
        if self.verifier is None:
            from shapecheck.numeric.budget import too_large

            result = too_large(self.checked, derivation, self.settings)
        else:
            from shapecheck.numeric.verify import clearing_budget

            clearing = clearing_budget(self.verifier.deriver, derivation)
            result = self.verifier.check(derivation, clearing)
            result = self.off_kinks(derivation, result, clearing)
        self.done[derivation.label] = result
        problem = _derivative_problem(derivation.label, result, span, loop_context(loop))
        if problem is not None and (requested or result.verdict == Verdict.FAILED):
            self.problems.append(problem)
        return result

    def claim(self, symbolic: SymbolicClaim) -> ClaimCheck:
        claim = symbolic.claim
        truth = self.derivative(symbolic.derivation, claim.span, claim.loop, requested=False)
        if self.verifier is None:
            result = ClaimCheck(ClaimVerdict.INCONCLUSIVE, truth, "too large to evaluate")
        else:
            from shapecheck.numeric.claimcheck import check_claim

            truth_ok = truth.verdict == Verdict.OK
            verifier = self.checked_on.get(symbolic.derivation.label, self.verifier)
            result = check_claim(
                verifier, symbolic.derivation, claim, truth_ok, truth.reason, truth.hints
            )
        problem = _claim_problem(symbolic, result)
        if problem is not None:
            self.problems.append(problem)
        return result

    def off_kinks(self, derivation: Derivation, result: Check, clearing: ClearingBudget) -> Check:
        """While the check leaves entries out at a kink, or a matrix it inverts
        or takes the determinant of is ill-conditioned, and some array the
        numerator depends on is drawn, draw the drawn arrays again (at most
        MAX_REDRAWS times, each a seeded stream of its own, and not once kink
        clearing has spent its budget, `clearing`); the last check is the
        result, inconclusive where a matrix stays ill-conditioned."""
        from shapecheck.numeric import values as numbers
        from shapecheck.numeric.kinks import MAX_REDRAWS
        from shapecheck.numeric.verify import Verifier

        assert self.verifier is not None
        verifier = self.verifier
        leaves = self._leaves(derivation)  # once: a file may have thousands of arrays
        drawn = [
            a
            for a in self.checked.arrays
            if a.is_leaf and numbers.is_drawn(a, self.given) and a.name in leaves
        ]
        matrices = self._conditioned(derivation, leaves)
        worst = _worst_matrix(verifier, matrices)
        redraws, conditioning = 0, worst is not None
        while _worth_redrawing(result, clearing, worst) and drawn and redraws < MAX_REDRAWS:
            redraws += 1
            values = numbers.draw_values(self.checked, self.settings.seed, self.given, redraws)
            verifier = Verifier(self.checked, verifier.deriver, values, self.settings)
            result = replace(verifier.check(derivation, clearing), redraws=redraws)
            worst = _worst_matrix(verifier, matrices)
            conditioning = conditioning or worst is not None
        self.checked_on[derivation.label] = verifier
        if redraws:
            times = "once" if redraws == 1 else f"{redraws} times"
            why = "for a well-conditioned matrix" if conditioning else "to move off a kink"
            result = replace(result, hints=(*result.hints, f"drawn values redrawn {times} {why}"))
        return result if worst is None else _ill_conditioned(result, worst, bool(drawn))

    def _conditioned(self, derivation: Derivation, leaves: set[str]) -> list[str]:
        """The matrices whose determinant or inverse the check evaluates: in the
        definitions the numerator depends on, and in the derivative itself."""
        from shapecheck.numeric.matrices import conditioned_arrays

        lowered = self.verifier.deriver.lowered if self.verifier is not None else {}
        formulas = [lowered[name][1] for name in sorted(leaves) if name in lowered]
        formulas += [derivation.formula, *(a.formula for a in derivation.adjoints)]
        return conditioned_arrays(formulas)

    def _leaves(self, derivation: Derivation) -> set[str]:
        """The arrays the numerator depends on, through every definition (for
        d2A/dB2, A's: its `of` is the first derivative, which no definition names)."""
        uses = {d.name: d.depends_on for d in self.checked.definitions}
        found: set[str] = set()
        stack = [derivation.first_of]
        while stack:
            name = stack.pop()
            if name not in found:
                found.add(name)
                stack.extend(uses.get(name, ()))
        return found


def _worth_redrawing(result: Check, clearing: ClearingBudget, worst: object) -> bool:
    """Whether a redraw may help: entries left out at a kink while kink clearing
    has budget left (past it, a redraw would only be left out again), a
    comparison within rounding of its tie (`ties`), or an ill-conditioned
    matrix (`worst`)."""
    from shapecheck.numeric.verdicts import NEAR_TIE

    return bool((result.at_kink and not clearing.exhausted) or result.reason == NEAR_TIE or worst)


def _worst_matrix(verifier: Verifier, matrices: list[str]) -> tuple[str, float] | None:
    """The worst-conditioned of `matrices` at the verifier's values, above the limit."""
    if not matrices:
        return None
    from shapecheck.numeric.matrices import worst_condition

    return worst_condition(verifier.forward, matrices)


def _ill_conditioned(result: Check, worst: tuple[str, float], drawn: bool) -> Check:
    """The check made inconclusive by a matrix that stays ill-conditioned (spec
    9.5): whatever it compared there decides nothing."""
    from shapecheck.numeric.matrices import ill_conditioned_reason

    if drawn:
        hint = (
            f"{worst[0]} stays ill-conditioned however its arrays are drawn: a matrix singular "
            "by construction (such as `K[a, b] = X[a, k] X[b, k]` with fewer columns than "
            "rows in X) has no inverse, and its determinant is 0 everywhere"
        )
    else:
        hint = f"the values {worst[0]} is made of are literal or from `--at`: they are not redrawn"
    # The check's own hints (a NaN's source, say) are the matrix's symptoms:
    # only the redraws are kept beside the matrix's own hint.
    redrawn = tuple(h for h in result.hints if h.startswith("drawn values redrawn"))
    return replace(
        result,
        verdict=Verdict.INCONCLUSIVE,
        reason=ill_conditioned_reason(*worst),
        hints=(*redrawn, hint),
    )


def _where(
    label: str, worst: Worst | None, mine: str = "derived", theirs: str = "finite differences"
) -> str:
    """`worst at dL/dW[3,1]: derived 0.412, finite differences 0.824`."""
    if worst is None:
        return ""
    if worst.index is not None:
        at = f"{label}[{','.join(str(k) for k in worst.index)}]" if worst.index else label
    else:
        at = f"{label} along random direction {worst.direction}"
    # + 0.0 turns -0.0 into 0.0: `-0` is never printed.
    derived, reference = worst.derived + 0.0, worst.reference + 0.0
    return f"worst at {at}: {mine} {derived:.6g}, {theirs} {reference:.6g}"


def _bug(span: Span | None, message: str, worst: str, context: str | None) -> Diagnostic:
    """E401: the derivation disagrees with finite differences, a bug in shapecheck."""
    hints = [worst, "this is a bug in shapecheck; please report it with the file"]
    return diagnostic(Code.E401, span, message, hints=hints, context=context)


def _derivative_problem(
    label: str, result: Check, span: Span | None, context: str | None
) -> Diagnostic | None:
    """E401 for a failure; W113 for an inconclusive check (never a pass, but the
    user did nothing wrong); W104 for one too large to check."""
    if result.verdict == Verdict.FAILED:
        message = f"{label} as derived disagrees with finite differences"
        return _bug(span, message, _where(label, result.worst), context)
    if result.verdict == Verdict.INCONCLUSIVE and result.reason == AT_KINK:
        # Nothing the user did wrong, and nothing the tool got wrong: a warning.
        code, words = Code.W110, f"{label} is not verified"
    elif result.verdict == Verdict.INCONCLUSIVE and nobodys_fault(result.reason):
        code, words = Code.W111, f"{label} is not verified"
    elif result.verdict == Verdict.INCONCLUSIVE:
        code, words = Code.W113, f"{label} is not verified: the numeric check is inconclusive"
    elif result.verdict == Verdict.NOT_VERIFIED:
        code, words = Code.W104, f"{label} is not verified"
    else:
        return None
    return diagnostic(
        code, span, f"{words}: {result.reason}", hints=list(result.hints), context=context
    )


def _claim_problem(symbolic: SymbolicClaim, result: ClaimCheck) -> Diagnostic | None:
    """E402 for a wrong claim; E403, or E404 when too large, for an unverified one.

    A claim confirmed symbolically is right (spec 6): a numeric disagreement is
    a bug in shapecheck (E401), an inconclusive check a warning (W113).
    """
    claim = symbolic.claim
    context = loop_context(claim.loop)
    label = claim.label + (f"[{','.join(claim.indices)}]" if claim.indices else "")
    if symbolic.matches:
        return _confirmed_claim_problem(symbolic, label, result, context)
    if result.verdict == ClaimVerdict.WRONG:
        detail = _where(claim.label, result.check.worst, "claimed", "true")
        return diagnostic(
            Code.E402,
            claim.span,
            f"the claim {label} is wrong" + (f": {result.diagnosis}" if result.diagnosis else ""),
            hints=[h for h in (detail,) if h],
            context=context,
        )
    if result.verdict == ClaimVerdict.INCONCLUSIVE:
        code = Code.E404 if result.check.verdict == Verdict.NOT_VERIFIED else Code.E403
        if result.check.reason == AT_KINK:
            code = Code.E405
        return diagnostic(
            code,
            claim.span,
            f"the claim {label} could not be verified: {result.check.reason}",
            hints=list(result.check.hints),
            context=context,
        )
    return None


def _confirmed_claim_problem(
    symbolic: SymbolicClaim, label: str, result: ClaimCheck, context: str | None
) -> Diagnostic | None:
    """The numeric check of a claim already confirmed symbolically."""
    span = symbolic.claim.span
    if result.verdict == ClaimVerdict.WRONG:
        message = (
            f"the claim {label} is confirmed symbolically but disagrees with finite differences"
        )
        worst = _where(symbolic.claim.label, result.check.worst, "claimed", "finite differences")
        return _bug(span, message, worst, context)
    if result.verdict == ClaimVerdict.INCONCLUSIVE:
        return diagnostic(
            Code.W113,
            span,
            f"the claim {label} is confirmed symbolically; its numeric check is inconclusive: "
            f"{result.check.reason}",
            hints=list(result.check.hints),
            context=context,
        )
    return None


def _save(
    path: Path,
    checked: CheckedProgram,
    verifier: Verifier | None,
    derivatives: Sequence[tuple[DeriveRequest, Derivation]],
    results: Sequence[Check],
    checks: _Checks,
) -> str | None:
    """`--save`: the values and every derivative that fits; W104 for what does not."""
    if verifier is None:
        checks.problems.append(
            diagnostic(
                Code.W104,
                None,
                f"nothing saved to {path}: the values do not fit the memory budget",
            )
        )
        return None
    from shapecheck.numeric import values as numbers

    arrays = {a.name: verifier.leaves[a.name] for a in checked.arrays if a.is_leaf}
    # The upstream gradient of each `loss(A)`, so that the run can be repeated
    # (`--at`) and a derivative through it recomputed by hand.
    arrays.update((name, verifier.leaves[name]) for name in numbers.upstream_shapes(checked))
    for (request, derivation), result in zip(derivatives, results, strict=True):
        # A check along directions never builds the Jacobian; saving it must fit too.
        if result.verdict == Verdict.NOT_VERIFIED or not verifier.jacobian_fits(derivation):
            checks.problems.append(
                diagnostic(
                    Code.W104,
                    request.span,
                    f"{derivation.label} is too large for the memory budget: not saved",
                )
            )
            continue
        arrays[derivation.label] = verifier.derived.signature_value(derivation)
    labels = {a.name for a in checked.arrays if a.classes is not None}
    numbers.save(path, arrays, labels)
    return str(path)
