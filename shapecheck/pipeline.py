"""Run the stages on one file and collect what each produced.

read -> parse -> unroll -> check -> derive (and claims) -> verify numerically.
Each stage returns its result and its diagnostics; this module only threads
them together into a `FileReport` for the renderers. It never prints and
never decides an exit status. The numeric stage (`numeric.report`) decides and
words its own verdicts; numpy is imported only when it runs, so `check
--no-verify` starts without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shapecheck.check.checker import check
from shapecheck.check.program import CheckedProgram, DeriveRequest
from shapecheck.collector import collector_paused
from shapecheck.diagnostics import Code, Diagnostic, Severity, diagnostic
from shapecheck.source import Source
from shapecheck.syntax.parse import parse
from shapecheck.syntax.unroll import loop_context, unroll

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass

# The symbolic and numeric stages load when a file asks for a derivative or
# states a claim (`_derive_and_verify`): a plain `check` of a file with none
# imports neither (their modules are a third of the start-up).
if TYPE_CHECKING:
    from shapecheck.numeric.report import ValuesProblem, Verification
    from shapecheck.numeric.verdicts import Check, ClaimCheck
    from shapecheck.symbolic import terms as t
    from shapecheck.symbolic.claims import SymbolicClaim
    from shapecheck.symbolic.derive import Derivation, Deriver, SecondDerivativeOfLoss

# Names this module has always offered, served lazily (see above).
_FROM_NUMERIC_REPORT = frozenset({"ValuesProblem", "Verification"})


def __getattr__(name: str) -> Any:
    if name in _FROM_NUMERIC_REPORT:
        from shapecheck.numeric import report

        return getattr(report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    strict: bool = False  # warnings fail this file too (--strict, or its configuration)


@dataclass(frozen=True)
class DerivativeResult:
    """One derivative asked for: its derivation and, if verified, its check."""

    request: DeriveRequest
    derivation: Derivation
    expanded: t.Term | None  # with --expand: every adjoint inlined
    check: Check | None = None


@dataclass(frozen=True)
class ClaimResult:
    """One claim: its symbolic verdict and, if verified, its numeric check."""

    symbolic: SymbolicClaim
    check: ClaimCheck | None = None

    @property
    def confirmed(self) -> bool | None:
        """True if the claim is right, False if shown wrong, None if undecided.

        A claim confirmed symbolically is right whatever its numeric check says
        (spec 6): a numeric disagreement is then a bug in shapecheck (E401), and
        an inconclusive check leaves it right.
        """
        if self.symbolic.matches:
            return True
        from shapecheck.numeric.verdicts import ClaimVerdict  # lazily: claims are rare in `check`

        if self.check is None or self.check.verdict is ClaimVerdict.INCONCLUSIVE:
            return None
        return self.check.verdict is ClaimVerdict.OK


@dataclass(frozen=True)
class FileReport:
    """Everything the stages found in one file, for the renderers."""

    source: Source
    checked: CheckedProgram | None
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    derivatives: tuple[DerivativeResult, ...] = ()
    claims: tuple[ClaimResult, ...] = ()
    verification: Verification | None = None
    # Warnings fail this file whatever the run's --strict (its configuration's `strict`).
    strict: bool = False

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)

    def failed(self, strict: bool) -> bool:
        """Errors fail a file; under --strict (or the file's own `strict`), warnings too."""
        return bool(self.errors or ((strict or self.strict) and self.warnings))


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """Line and column (1-based, in characters) of a byte offset."""
    prefix = Source("", data[:offset].decode("utf-8", errors="replace"))
    return prefix.position(len(prefix.text))


def decode(name: str, data: bytes) -> tuple[Source, list[Diagnostic]]:
    """Bytes to a Source; undecodable or binary input is an E001 diagnostic
    located at the first offending byte (there is no text to point into)."""
    if b"\x00" in data:
        line, column = _position(data, data.index(b"\x00"))
        problem = diagnostic(
            Code.E001, None, "this is a binary file, not .idx text", position=(line, column)
        )
        return Source(name, ""), [problem]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _position(data, error.start)
        return Source(name, ""), [
            diagnostic(
                Code.E001,
                None,
                f"byte {error.start} (line {line}, column {column}) is not valid UTF-8",
                hints=["save the file as UTF-8"],
                position=(line, column),
            )
        ]
    return Source(name, text.removeprefix("\ufeff")), []


def _derive(
    checked: CheckedProgram, deriver: Deriver, options: Options
) -> tuple[list[DerivativeResult], list[SymbolicClaim], list[Diagnostic]]:
    from shapecheck.symbolic.claims import resolve_claim
    from shapecheck.symbolic.derive import DerivationTooLarge, SecondDerivativeOfLoss
    from shapecheck.symbolic.fold import folder_of, with_signature_names
    from shapecheck.symbolic.simplify import SimplifyLimit

    results: list[DerivativeResult] = []
    claims: list[SymbolicClaim] = []
    problems: list[Diagnostic] = []
    # Results are written with the file's names before they are verified and
    # printed, so every format shows, and the check evaluates, one formula.
    folder = folder_of(deriver)
    for request in checked.requests:
        try:
            derived = deriver.derive(request.of, request.wrt, request.order)
            expanded = _written_out(derived, deriver, request, problems) if options.expand else None
            expanded = folder.fold(expanded) if expanded is not None else None
            derivation = folder.derivation(derived)
            if request.names:  # `derive dY/dX[a, b, p, q]` (spec 10)
                derivation, expanded = with_signature_names(
                    derivation, expanded, request.names, deriver.taken
                )
        except (DerivationTooLarge, SimplifyLimit) as error:
            problems.append(not_derived(request, error))
            continue
        except SecondDerivativeOfLoss as error:
            problems.append(through_loss(request.label, error, request.span, request.loop))
            continue
        results.append(DerivativeResult(request, derivation, expanded))
    for claim in checked.claims:
        try:
            claims.append(resolve_claim(deriver, claim))
        except (DerivationTooLarge, SimplifyLimit) as error:
            problems.append(
                diagnostic(
                    Code.E303,
                    claim.span,
                    f"{claim.label} could not be derived to compare with this claim: {error}",
                    context=loop_context(claim.loop),
                )
            )
        except SecondDerivativeOfLoss as error:
            problems.append(through_loss(claim.label, error, claim.span, claim.loop))
    return results, claims, problems


def _written_out(
    derived: Derivation, deriver: Deriver, request: DeriveRequest, problems: list[Diagnostic]
) -> t.Term | None:
    """`--expand`: the derivative with its adjoint lines inlined, or None with
    W107 in `problems` where that is past the limits (it is shown with its
    lines, as without `--expand`)."""
    from shapecheck.symbolic.derive import NotWrittenOut, expand
    from shapecheck.symbolic.simplify import SimplifyLimit

    try:
        return expand(derived, deriver.taken)
    except (NotWrittenOut, SimplifyLimit) as error:
        why = error.size if isinstance(error, NotWrittenOut) else f"it would pass a limit: {error}"
        problems.append(
            diagnostic(
                Code.W107,
                request.span,
                f"{request.label} is not written out with --expand: written out {why}",
                hints=["it is shown with its adjoint lines, as without --expand"],
                context=loop_context(request.loop),
            )
        )
        return None


def through_loss(label: str, error: SecondDerivativeOfLoss, span: Any, loop: Any) -> Diagnostic:
    """E170: a derivative of `dloss/dA`, which `loss` does not have (spec 9.6)."""
    return diagnostic(
        Code.E170,
        span,
        f"{label} needs the derivative of `dloss/d{error.array}`: "
        "`loss` has a first derivative only",
        hints=[
            f"for a second derivative, write the loss with an opaque function: "
            f"`fn f` then `f({error.array}[...])` (language reference 12.14)"
        ],
        context=loop_context(loop),
    )


def _unroll_and_check(
    program: Any, sizes: dict[str, int], options: Options
) -> tuple[CheckedProgram, list[Diagnostic]]:
    unrolled, problems = unroll(program, sizes)
    checked, check_problems = check(unrolled, sizes, options.layout)
    return checked, problems + check_problems


def in_order(problems: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    """In file order; file-level problems first."""
    problems.sort(key=lambda d: (d.span.start if d.span else -1, d.code))
    return tuple(problems)


def _with_chosen_sizes(
    checked: CheckedProgram,
) -> tuple[dict[str, int], CheckedProgram, list[Diagnostic]]:
    """Numbers for the dims that have none, substituted into the checked program.

    They are chosen from the constraints the checker recorded (every literal
    index along a dim, every computed size a positive whole number), so the
    file is read, unrolled and checked once. Computed sizes that no choice
    makes positive and whole (E143), and sizes that had to coincide (W120),
    are reported.
    """
    if all(dim.value is not None for dim in checked.dims):
        # Nothing to choose, nothing impossible, nothing to coincide with a
        # choice: what the calls below return, without importing them.
        return {}, checked, []
    from shapecheck.numeric.sizes import choose_sizes, coinciding, impossible, with_sizes

    chosen = choose_sizes(checked)
    problems = [
        diagnostic(
            Code.E143,
            dim.span,
            f"no sizes make `{dim.name} = {dim.written}` a positive whole number",
            hints=["numeric checks need one; give the sizes it is computed from values"],
        )
        for dim in impossible(checked, chosen)
    ]
    if problems:
        return chosen, checked, problems
    problems = [
        diagnostic(
            Code.W120,
            second.span,
            f"sizes `{first.name}` and `{second.name}` are both {value} in the numeric checks: "
            "no small choice keeps every size distinct",
            hints=["a swapped index along these two cannot be told apart; give values with `dim`"],
        )
        for first, second, value in coinciding(checked, chosen)
    ]
    return chosen, with_sizes(checked, chosen) if chosen else checked, problems


def front_end(
    source: Source, options: Options
) -> tuple[CheckedProgram, list[Diagnostic], dict[str, int]]:
    """Parse, unroll and check once; where nothing failed and numbers will be
    needed, the sizes chosen for dims without a value are substituted in. The
    program every later stage (and `explain`) derives from."""
    # The front end's trees have no cycles: the cyclic collector only costs time.
    with collector_paused():
        program, problems = parse(source)
        checked, check_problems = _unroll_and_check(program, dict(options.sizes), options)
    problems.extend(check_problems)
    computed = next((p for p in problems if p.code == Code.E142), None)
    if computed is not None:
        # `--size m=3` for `dim m = n - k + 1`: a problem with the command (exit 2).
        from shapecheck.numeric.report import ValuesProblem

        raise ValuesProblem(computed.message + "; " + computed.hints[0])
    if not source.text.strip() and not problems:
        problems.append(diagnostic(Code.W105, None, "the file is empty: nothing to check"))
    chosen: dict[str, int] = {}
    if options.verify and not any(p.is_error for p in problems):
        chosen, checked, size_problems = _with_chosen_sizes(checked)
        problems.extend(size_problems)
    return checked, problems, chosen


def not_derived(request: DeriveRequest, error: Exception) -> Diagnostic:
    """E303: a requested derivative over the limits of the symbolic stage."""
    return diagnostic(
        Code.E303,
        request.span,
        f"{request.label} could not be derived: {error}",
        hints=["derive with respect to an intermediate array, or use fewer steps"],
        context=loop_context(request.loop),
    )


def analyze_source(source: Source, options: Options) -> FileReport:
    checked, problems, chosen = front_end(source, options)
    if any(p.is_error for p in problems):
        return FileReport(source, checked, in_order(problems))
    if not checked.requests and not checked.claims:
        # Nothing to derive or verify: the symbolic stage is not even imported.
        return FileReport(source, checked, in_order(problems))
    report = _derive_and_verify(source, checked, problems, chosen, options)
    return _checked_at_other_sizes(report, chosen, options)


def _checked_at_other_sizes(
    report: FileReport, chosen: dict[str, int], options: Options
) -> FileReport:
    """Claims checked again at other sizes, where sizes were chosen for dims
    without a value: each chosen free size moved up by 2 (differences and
    parities kept, so computed sizes stay whole). A verdict is
    never wrong and a diagnosis never a guess (spec 6 and 10), and a size can
    coincide with a constant: `X[i,j] r[i]` for `2 / n X[i,j] r[i]` agrees
    exactly at n = 2, and there `1 / n` missing is `2` too many. So a claim no
    symbolic comparison confirmed that agreed is wrong if it disagrees at the
    other sizes, and a wrong claim's diagnosis stands only if it is the same."""
    lucky = [k for k, c in enumerate(report.claims) if c.confirmed and not c.symbolic.matches]
    named = [k for k, c in enumerate(report.claims) if c.check and c.check.diagnosis]
    again = _at_other_sizes(report, chosen, options) if lucky or named else None
    if again is None or len(again[0].claims) != len(report.claims):
        return report  # nothing to check again, or the other sizes did not check
    second, sizes = again
    claims, problems = list(report.claims), list(report.diagnostics)
    for k in lucky:
        _wrong_elsewhere(
            claims, problems, k, second.claims[k], second.diagnostics, _LUCKY.format(*sizes)
        )
    for k in named:
        problems = _diagnosis_elsewhere(claims, problems, k, second, sizes)
    return replace(report, diagnostics=in_order(problems), claims=tuple(claims))


def _wrong_elsewhere(
    claims: list[ClaimResult],
    problems: list[Diagnostic],
    k: int,
    there: ClaimResult,
    diagnostics: Sequence[Diagnostic],
    hint: str,
) -> None:
    """Claim k, right as first checked, takes its verdict and errors from
    another check (other sizes, other values) where it is wrong there, each
    error with `hint`."""
    if there.confirmed is not False:
        return
    span = claims[k].symbolic.claim.span
    claims[k] = there
    problems.extend(
        replace(d, hints=(*d.hints, hint)) for d in diagnostics if d.span == span and d.is_error
    )


def _diagnosis_elsewhere(
    claims: list[ClaimResult],
    problems: list[Diagnostic],
    k: int,
    second: FileReport,
    sizes: tuple[str, str],
) -> list[Diagnostic]:
    """Claim k keeps its diagnosis only where the second sizes give the same."""
    first, other = claims[k].check, second.claims[k].check
    if not first or not other or first.diagnosis == other.diagnosis:
        return problems
    claims[k] = replace(claims[k], check=replace(first, diagnosis=None))
    return [_undiagnosed(d, first.diagnosis or "", sizes, claims[k]) for d in problems]


def _at_other_sizes(
    report: FileReport, chosen: dict[str, int], options: Options
) -> tuple[FileReport, tuple[str, str]] | None:
    """The file analysed again with its free chosen sizes moved, and both
    choices in words; None where that cannot be done (values from `--at`,
    nothing chosen, or the other sizes do not check)."""
    from shapecheck.numeric.report import ValuesProblem

    computed = {d.name for d in report.checked.dims if d.computed} if report.checked else set()
    free = {name: value for name, value in chosen.items() if name not in computed}
    if not free or options.at is not None:
        return None
    # Up by 2: differences and parities are kept (computed sizes stay whole),
    # and no coincidence c n^k = 1 holds at n and n + 2 alike. The smallest
    # such move: a check's cost grows fast with its sizes.
    moved = tuple((name, value + 2) for name, value in free.items())
    try:
        again = analyze_source(
            report.source, replace(options, sizes=options.sizes + moved, save=None)
        )
    except ValuesProblem:
        return None
    return again, (_sizes_text(tuple(chosen.items())), _sizes_text(moved))


_LUCKY = (
    "it agreed at the sizes first chosen ({}) only by a coincidence of sizes; it is wrong at {}"
)


def _undiagnosed(
    problem: Diagnostic, diagnosis: str, sizes: tuple[str, str], claim: ClaimResult
) -> Diagnostic:
    """E402 without a diagnosis that held at one choice of sizes only."""
    if problem.span != claim.symbolic.claim.span or problem.code != Code.E402:
        return problem
    return replace(
        problem,
        message=problem.message.removesuffix(f": {diagnosis}"),
        hints=(
            *problem.hints,
            f"what is wrong cannot be told for certain: at {sizes[0]} it would be "
            f'"{diagnosis}", but not at {sizes[1]}',
        ),
    )


def _sizes_text(sizes: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{name} = {value}" for name, value in sizes)


def not_prepared(checked: CheckedProgram, error: Exception) -> Diagnostic:
    """E303: definitions over the limits of preparing a Deriver (`_prepared`),
    located at the definition whose derivative reference was too large."""
    reading = checked.definition(getattr(error, "definition", None) or "")
    if reading is not None:  # its derivative reference could not be derived or written out
        words = f"`{reading.name}` reads a derivative that is too large: {error}"
        return diagnostic(Code.E303, reading.span, words, context=loop_context(reading.loop))
    first = checked.requests[0].span if checked.requests else None
    words = f"the definitions are too large to derive through: {error}"
    return diagnostic(Code.E303, first, words)


def _prepared(checked: CheckedProgram, problems: list[Diagnostic]) -> Deriver | None:
    """The Deriver of the checked program, or None with the reason in `problems`:
    preparing simplifies every definition under the limits, and derives the
    derivative references of definitions (spec 9.6)."""
    from shapecheck.symbolic.derive import DerivationTooLarge, Deriver, SecondDerivativeOfLoss
    from shapecheck.symbolic.simplify import SimplifyLimit

    try:
        return Deriver(checked)
    except (DerivationTooLarge, SimplifyLimit) as error:
        problems.append(not_prepared(checked, error))
    except SecondDerivativeOfLoss as error:
        definition = checked.definition(error.definition or "")
        span, loop = (definition.span, definition.loop) if definition else (None, ())
        problems.append(through_loss(f"`{error.definition}`", error, span, loop))
    return None


def _derive_and_verify(
    source: Source,
    checked: CheckedProgram,
    problems: list[Diagnostic],
    chosen: dict[str, int],
    options: Options,
) -> FileReport:
    from shapecheck.numeric.report import verify_numerically

    # Preparing, deriving and folding build acyclic terms only (as the front
    # end): the collector's passes over them were a third of the fold's time.
    with collector_paused():
        deriver = _prepared(checked, problems)
        if deriver is None:
            return FileReport(source, checked, in_order(problems))
        derivatives, claims, derive_problems = _derive(checked, deriver, options)
    problems.extend(derive_problems)
    claim_results = [ClaimResult(c) for c in claims]
    verification = None
    if options.verify and (derivatives or claims) and not any(p.is_error for p in derive_problems):
        asked = [(r.request, r.derivation) for r in derivatives]
        numeric = verify_numerically(checked, deriver, asked, claims, options, chosen)
        derivatives = [
            replace(r, check=check)
            for r, check in zip(derivatives, numeric.derivatives, strict=True)
        ]
        claim_results = [
            ClaimResult(c, check) for c, check in zip(claims, numeric.claims, strict=True)
        ]
        problems.extend(numeric.diagnostics)
        verification = numeric.verification
        _checked_at_other_draws(checked, deriver, claim_results, problems, options, chosen)
    return FileReport(
        source,
        checked,
        in_order(problems),
        tuple(derivatives),
        tuple(claim_results),
        verification,
    )


# A claim confirmed by its numbers alone is checked again at the values these
# other seeds draw: a coincidence of values (every r[i,j] < p at the first
# draw, so a claim without the mask `keep` agreed) seldom holds at three
# independent draws, where it would hold at one. Then at the draws after
# them where a comparison or other piecewise term that went one way at all
# three goes another (`numeric.branches`).
OTHER_DRAWS = 2


def _checked_at_other_draws(
    checked: CheckedProgram,
    deriver: Deriver,
    claim_results: list[ClaimResult],
    problems: list[Diagnostic],
    options: Options,
    chosen: dict[str, int],
) -> None:
    """Each claim confirmed only numerically takes its verdict and errors
    from the first other draw where it is wrong, if any (`--at` fixes every
    value: nothing to draw)."""
    from shapecheck.numeric.branches import other_branch_seeds
    from shapecheck.numeric.report import verify_numerically

    lucky = [k for k, c in enumerate(claim_results) if c.confirmed and not c.symbolic.matches]
    if not lucky or options.at is not None:
        return

    def still_confirmed(seed: int, hint: str) -> list[int]:
        """The claims `lucky` checked at the values `seed` draws (each taking
        its verdict and errors from there where it is wrong), those left."""
        claims = [claim_results[k].symbolic for k in lucky]
        again = verify_numerically(
            checked, deriver, [], claims, replace(options, seed=seed, save=None), chosen
        )
        for k, at_other in zip(lucky, again.claims, strict=True):
            there = ClaimResult(claim_results[k].symbolic, at_other)
            _wrong_elsewhere(claim_results, problems, k, there, again.diagnostics, hint)
        return [k for k in lucky if claim_results[k].confirmed]

    drawn = [options.seed + other for other in range(OTHER_DRAWS + 1)]
    for seed in drawn[1:]:
        lucky = still_confirmed(seed, _LUCKY_VALUES.format(options.seed, seed))
        if not lucky:
            return
    agreed = list(drawn)
    for seed in other_branch_seeds(checked, deriver, drawn, options.budget_bytes):
        lucky = still_confirmed(seed, _ONE_BRANCH.format(_seeds(agreed), seed))
        if not lucky:
            return
        agreed.append(seed)


def _seeds(seeds: list[int]) -> str:
    """`seed 3`, `seeds 0, 1 and 2`."""
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    return "seeds " + ", ".join(str(seed) for seed in seeds[:-1]) + f" and {seeds[-1]}"


_LUCKY_VALUES = (
    "it agreed at the values drawn with seed {} only by a coincidence of values; "
    "it is wrong at those drawn with seed {}"
)
_ONE_BRANCH = (
    "it agreed at the values drawn with {}, where a comparison or other "
    "piecewise term took one branch only; it is wrong at those drawn with "
    "seed {}, where such a term takes another"
)


def analyze_bytes(name: str, data: bytes, options: Options) -> FileReport:
    source, problems = decode(name, data)
    if problems:
        report = FileReport(source, None, tuple(problems))
    else:
        report = analyze_source(source, options)
    return replace(report, strict=options.strict) if options.strict else report


def unreadable_report(name: str, problem: str) -> FileReport:
    """A path that cannot be read: an E020 diagnostic of that path, so that
    nothing named or found is silently left out."""
    return FileReport(Source(name, ""), None, (diagnostic(Code.E020, None, problem),))


def internal_error_report(name: str, data: bytes, error: Exception) -> FileReport:
    """A file on which shapecheck itself failed: reported, never a traceback."""
    source, _ = decode(name, data)
    return FileReport(
        source,
        None,
        (
            diagnostic(
                Code.E999,
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
    "ValuesProblem",
    "Verification",
    "analyze_bytes",
    "analyze_path",
    "analyze_source",
    "decode",
    "internal_error_report",
    "unreadable_report",
]
