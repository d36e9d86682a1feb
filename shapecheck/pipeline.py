"""Run the stages on one file and collect what each produced.

read -> parse -> unroll -> check -> derive (and symbolic claims).
Each stage returns its result and its diagnostics; this module only threads
them together into a `FileReport` for the renderers. It never prints and
never decides an exit status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shapecheck import terms as t
from shapecheck.check import check
from shapecheck.checked import CheckedProgram, DeriveRequest
from shapecheck.claims import SymbolicClaim, resolve_claim
from shapecheck.derive import Derivation, DerivationTooLarge, Deriver, expand
from shapecheck.diagnostics import Diagnostic, Severity, diagnostic
from shapecheck.parse import parse
from shapecheck.simplify import SimplifyLimit
from shapecheck.source import Source, Span
from shapecheck.unroll import loop_context, unroll


@dataclass(frozen=True)
class Options:
    """What the command line asked for; the same for every file of a run."""

    sizes: tuple[tuple[str, int], ...] = ()
    layout: str | None = None
    expand: bool = False  # also inline every adjoint into one formula


@dataclass(frozen=True)
class DerivativeResult:
    request: DeriveRequest
    derivation: Derivation
    expanded: t.Term | None  # with --expand: every adjoint inlined


@dataclass(frozen=True)
class FileReport:
    source: Source
    checked: CheckedProgram | None
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    derivatives: tuple[DerivativeResult, ...] = ()
    claims: tuple[SymbolicClaim, ...] = ()

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)


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
    checked: CheckedProgram, options: Options
) -> tuple[list[DerivativeResult], list[SymbolicClaim], list[Diagnostic]]:
    deriver = Deriver(checked)
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


def analyze_source(source: Source, options: Options) -> FileReport:
    program, problems = parse(source)
    sizes = dict(options.sizes)
    unrolled, unroll_problems = unroll(program, sizes)
    problems.extend(unroll_problems)
    checked, check_problems = check(unrolled, sizes, options.layout)
    problems.extend(check_problems)
    if not source.text.strip() and not problems:
        problems.append(diagnostic("W105", None, "the file is empty: nothing to check"))
    derivatives: list[DerivativeResult] = []
    claims: list[SymbolicClaim] = []
    if not any(p.is_error for p in problems):
        # Derivation only ever sees a program with no errors in it.
        derivatives, claims, derive_problems = _derive(checked, options)
        problems.extend(derive_problems)
    problems.sort(key=lambda d: (d.span.start if d.span else -1, d.code))
    return FileReport(source, checked, tuple(problems), tuple(derivatives), tuple(claims))


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


__all__ = ["FileReport", "Options", "Span", "analyze_bytes", "analyze_path", "analyze_source"]
