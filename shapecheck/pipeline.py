"""Run the stages on one file and collect what each produced.

read -> parse -> unroll -> check -> derive (and claims) -> verify numerically.
Each stage returns its result and its diagnostics; this module only threads
them together into a `FileReport` for the renderers. It never prints and
never decides an exit status. numpy is imported only when numeric
verification runs, so `check --no-verify` starts without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shapecheck.check.checker import check
from shapecheck.check.program import CheckedProgram, DeriveRequest
from shapecheck.diagnostics import Diagnostic, Severity, diagnostic
from shapecheck.source import Source, Span
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.claims import SymbolicClaim, resolve_claim
from shapecheck.symbolic.derive import Derivation, DerivationTooLarge, Deriver, expand
from shapecheck.symbolic.simplify import SimplifyLimit
from shapecheck.syntax.parse import parse
from shapecheck.syntax.unroll import loop_context, unroll

if TYPE_CHECKING:
    from shapecheck.numeric.verify import Check, ClaimCheck


class ValuesProblem(Exception):
    """`--at` values that do not fit the file: a problem with the command."""


@dataclass(frozen=True)
class Options:
    """What the command line asked for; the same for every file of a run."""

    sizes: tuple[tuple[str, int], ...] = ()
    layout: str | None = None
    expand: bool = False  # also inline every adjoint into one formula
    verify: bool = True
    seed: int = 0
    rtol: float = 1e-5
    atol: float = 1e-8
    budget_bytes: int = 256 * 2**20
    at: Path | None = None  # values from an .npz file
    save: Path | None = None  # write values and derivatives to an .npz file


@dataclass(frozen=True)
class DerivativeResult:
    request: DeriveRequest
    derivation: Derivation
    expanded: t.Term | None  # with --expand: every adjoint inlined
    check: Check | None = None


@dataclass(frozen=True)
class ClaimResult:
    symbolic: SymbolicClaim
    check: ClaimCheck | None = None


@dataclass(frozen=True)
class Verification:
    """How the numbers were made: enough to reproduce them."""

    seed: int
    sizes: tuple[tuple[str, int, bool], ...]  # dim, value, chosen by shapecheck
    rtol: float
    atol: float
    budget_bytes: int
    values_from: str  # "seeded draws" or the --at file
    saved_to: str | None


@dataclass(frozen=True)
class FileReport:
    source: Source
    checked: CheckedProgram | None
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    derivatives: tuple[DerivativeResult, ...] = ()
    claims: tuple[ClaimResult, ...] = ()
    verification: Verification | None = None

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)

    def failed(self, strict: bool) -> bool:
        """Errors fail a file; under --strict, warnings too."""
        return bool(self.errors or (strict and self.warnings))


def decode(name: str, data: bytes) -> tuple[Source, list[Diagnostic]]:
    """Bytes to a Source; undecodable or binary input is an E001 diagnostic."""
    if b"\x00" in data:
        return Source(name, ""), [diagnostic("E001", None, "this is a binary file, not .idx text")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        prefix = data[: error.start].decode("utf-8", errors="replace")
        line = prefix.count("\n") + 1
        column = len(prefix) - (prefix.rfind("\n") + 1) + 1
        return Source(name, ""), [
            diagnostic(
                "E001",
                None,
                f"byte {error.start} (line {line}, column {column}) is not valid UTF-8",
                hints=["save the file as UTF-8"],
            )
        ]
    return Source(name, text.removeprefix("\ufeff")), []


def _derive(
    checked: CheckedProgram, deriver: Deriver, options: Options
) -> tuple[list[DerivativeResult], list[SymbolicClaim], list[Diagnostic]]:
    results: list[DerivativeResult] = []
    claims: list[SymbolicClaim] = []
    problems: list[Diagnostic] = []
    for request in checked.requests:
        try:
            derivation = deriver.derive(request.of, request.wrt)
            expanded = expand(derivation, deriver.taken) if options.expand else None
        except (DerivationTooLarge, SimplifyLimit) as error:
            problems.append(
                diagnostic(
                    "E303",
                    request.span,
                    f"{request.label} could not be derived: {error}",
                    hints=["derive with respect to an intermediate array, or use fewer steps"],
                    context=loop_context(request.loop),
                )
            )
            continue
        results.append(DerivativeResult(request, derivation, expanded))
    for claim in checked.claims:
        try:
            claims.append(resolve_claim(deriver, claim))
        except (DerivationTooLarge, SimplifyLimit) as error:
            problems.append(
                diagnostic(
                    "E303",
                    claim.span,
                    f"{claim.label} could not be derived to compare with this claim: {error}",
                    context=loop_context(claim.loop),
                )
            )
    return results, claims, problems


def _where(
    label: str, worst: Any, mine: str = "derived", theirs: str = "finite differences"
) -> str:
    """`worst at dL/dW[3,1]: derived 0.412, finite differences 0.824`."""
    if worst is None:
        return ""
    if worst.index is not None:
        at = f"{label}[{','.join(str(k) for k in worst.index)}]" if worst.index else label
    else:
        at = f"{label} along random direction {worst.direction}"
    return f"worst at {at}: {mine} {worst.derived:.6g}, {theirs} {worst.reference:.6g}"


def _verify(
    checked: CheckedProgram,
    deriver: Deriver,
    derivatives: list[DerivativeResult],
    claims: list[SymbolicClaim],
    options: Options,
    chosen: dict[str, int],
) -> tuple[list[DerivativeResult], list[ClaimResult], list[Diagnostic], Verification]:
    from shapecheck.numeric import values as numbers
    from shapecheck.numeric import verify

    try:
        given = numbers.load_at(options.at, checked) if options.at is not None else None
    except numbers.AtProblem as problem:
        raise ValuesProblem(str(problem)) from None
    settings = verify.Settings(options.rtol, options.atol, options.budget_bytes, options.seed)
    # Nothing is drawn when the forward pass alone would not fit the budget.
    fits = 8 * verify.forward_entries(checked) <= options.budget_bytes
    verifier = (
        verify.Verifier(
            checked, deriver, numbers.draw_values(checked, options.seed, given), settings
        )
        if fits
        else None
    )
    problems: list[Diagnostic] = []
    checks: dict[str, verify.Check] = {}

    def check_of(derivation: Derivation, span: Span | None, loop: Any) -> verify.Check:
        if derivation.label in checks:
            return checks[derivation.label]
        if verifier is None:
            result = verify.too_large(checked, derivation, settings)
        else:
            result = verifier.check(derivation)
        checks[derivation.label] = result
        context = loop_context(loop)
        if result.verdict == verify.FAILED:
            problems.append(
                diagnostic(
                    "E401",
                    span,
                    f"{derivation.label} as derived disagrees with finite differences",
                    hints=[
                        _where(derivation.label, result.worst),
                        "this is a bug in shapecheck; please report it with the file",
                    ],
                    context=context,
                )
            )
        elif result.verdict in (verify.INCONCLUSIVE, verify.NOT_VERIFIED):
            # Inconclusive is an error (never a pass); too large to check, a warning.
            code, words = (
                ("E403", f"the numeric check of {derivation.label} is inconclusive")
                if result.verdict == verify.INCONCLUSIVE
                else ("W104", f"{derivation.label} is not verified")
            )
            problems.append(
                diagnostic(
                    code,
                    span,
                    f"{words}: {result.reason}",
                    hints=list(result.hints),
                    context=context,
                )
            )
        return result

    checked_derivatives = [
        DerivativeResult(
            r.request,
            r.derivation,
            r.expanded,
            check_of(r.derivation, r.request.span, r.request.loop),
        )
        for r in derivatives
    ]
    claim_results: list[ClaimResult] = []
    for symbolic in claims:
        claim = symbolic.claim
        truth = check_of(symbolic.derivation, claim.span, claim.loop)
        if verifier is None:
            result = verify.ClaimCheck(verify.INCONCLUSIVE, truth, "too large to evaluate")
        else:
            result = verifier.check_claim(symbolic.derivation, claim, truth.verdict == verify.OK)
        claim_results.append(ClaimResult(symbolic, result))
        context = loop_context(claim.loop)
        label = claim.label + (f"[{','.join(claim.indices)}]" if claim.indices else "")
        if result.verdict == "wrong":
            detail = _where(claim.label, result.check.worst, "claimed", "true")
            problems.append(
                diagnostic(
                    "E402",
                    claim.span,
                    f"the claim {label} is wrong"
                    + (f": {result.diagnosis}" if result.diagnosis else ""),
                    hints=[h for h in (detail,) if h],
                    context=context,
                )
            )
        elif result.verdict == verify.INCONCLUSIVE:
            code = "E404" if result.check.verdict == verify.NOT_VERIFIED else "E403"
            problems.append(
                diagnostic(
                    code,
                    claim.span,
                    f"the claim {label} could not be verified: {result.check.reason}",
                    hints=list(result.check.hints),
                    context=context,
                )
            )
    saved = None
    if options.save is not None and verifier is None:
        problems.append(
            diagnostic(
                "W104",
                None,
                f"nothing saved to {options.save}: the values do not fit the memory budget",
            )
        )
    elif options.save is not None:
        saved = _save(options.save, checked, verifier, checked_derivatives, problems)
    sizes = tuple(
        (d.name, int(d.value or 0), d.name in chosen) for d in checked.dims if d.value is not None
    )
    info = Verification(
        options.seed,
        sizes,
        options.rtol,
        options.atol,
        options.budget_bytes,
        str(options.at) if options.at is not None else "seeded draws",
        saved,
    )
    return checked_derivatives, claim_results, problems, info


def _save(
    path: Path,
    checked: CheckedProgram,
    verifier: Any,
    derivatives: list[DerivativeResult],
    problems: list[Diagnostic],
) -> str:
    from shapecheck.numeric import values as numbers
    from shapecheck.numeric.verify import NOT_VERIFIED

    arrays = {a.name: verifier.leaves[a.name] for a in checked.arrays if a.is_leaf}
    for result in derivatives:
        derivation = result.derivation
        if result.check is not None and result.check.verdict == NOT_VERIFIED:
            problems.append(
                diagnostic(
                    "W104",
                    result.request.span,
                    f"{derivation.label} is too large for the memory budget: not saved",
                )
            )
            continue
        arrays[derivation.label] = verifier.signature_value(derivation)
    numbers.save(path, arrays)
    return str(path)


def _unroll_and_check(
    program: Any, sizes: dict[str, int], options: Options
) -> tuple[CheckedProgram, list[Diagnostic]]:
    unrolled, problems = unroll(program, sizes)
    checked, check_problems = check(unrolled, sizes, options.layout)
    return checked, problems + check_problems


def analyze_source(source: Source, options: Options) -> FileReport:
    program, problems = parse(source)
    sizes = dict(options.sizes)
    checked, check_problems = _unroll_and_check(program, sizes, options)
    problems.extend(check_problems)
    if not source.text.strip() and not problems:
        problems.append(diagnostic("W105", None, "the file is empty: nothing to check"))
    if any(p.is_error for p in problems):
        problems.sort(key=lambda d: (d.span.start if d.span else -1, d.code))
        return FileReport(source, checked, tuple(problems))
    chosen: dict[str, int] = {}
    if options.verify:
        from shapecheck.numeric.sizes import symbolic_sizes

        chosen = symbolic_sizes(checked)
        if chosen:
            # Numeric checks need numbers: check again with the chosen sizes
            # (they keep every equality and inequality of the symbolic ones).
            valued, rechecked = _unroll_and_check(program, {**sizes, **chosen}, options)
            errors = [p for p in rechecked if p.is_error]
            if errors:
                words = ", ".join(f"{k} = {v}" for k, v in chosen.items())
                problems.extend(
                    diagnostic(
                        e.code,
                        e.span,
                        e.message,
                        labels=list(e.labels),
                        hints=[*e.hints, f"with the sizes chosen for numeric checks: {words}"],
                        context=e.context,
                    )
                    for e in errors
                )
                problems.sort(key=lambda d: (d.span.start if d.span else -1, d.code))
                return FileReport(source, checked, tuple(problems))
            checked = valued
    deriver = Deriver(checked)
    derivatives, claims, derive_problems = _derive(checked, deriver, options)
    problems.extend(derive_problems)
    claim_results = [ClaimResult(c) for c in claims]
    verification = None
    if options.verify and (derivatives or claims) and not any(p.is_error for p in derive_problems):
        derivatives, claim_results, verify_problems, verification = _verify(
            checked, deriver, derivatives, claims, options, chosen
        )
        problems.extend(verify_problems)
    problems.sort(key=lambda d: (d.span.start if d.span else -1, d.code))
    return FileReport(
        source,
        checked,
        tuple(problems),
        tuple(derivatives),
        tuple(claim_results),
        verification,
    )


def analyze_bytes(name: str, data: bytes, options: Options) -> FileReport:
    source, problems = decode(name, data)
    if problems:
        return FileReport(source, None, tuple(problems))
    return analyze_source(source, options)


def internal_error_report(name: str, data: bytes, error: Exception) -> FileReport:
    """A file on which shapecheck itself failed: reported, never a traceback."""
    source, _ = decode(name, data)
    return FileReport(
        source,
        None,
        (
            diagnostic(
                "E999",
                None,
                f"internal error while checking this file: {type(error).__name__}: {error}",
                hints=["this is a bug in shapecheck; please report it with the file"],
            ),
        ),
    )


def analyze_path(path: Path, options: Options) -> FileReport:
    """Raises OSError when the file cannot be read: a problem with the command."""
    return analyze_bytes(str(path), path.read_bytes(), options)


__all__ = [
    "ClaimResult",
    "DerivativeResult",
    "FileReport",
    "Options",
    "analyze_bytes",
    "analyze_path",
    "analyze_source",
]
