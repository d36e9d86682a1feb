"""`# shapecheck: ignore[CODE, ...]` comments: silencing diagnostics on one line.

Applied to a finished `FileReport`, after every stage has spoken, so no stage
needs to know about suppression. A comment silences the listed codes of the
diagnostics located on its own line; a claim's verdict (E402, E403, E404) is
never silenced. An ignore that silences nothing is itself a warning (W901,
as ruff's RUF100), so stale comments do not pile up; under
`allow-ignore = false` (graded runs) nothing is silenced and each comment is
reported as not honoured (W902).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from shapecheck.diagnostics import CODES, Code, Diagnostic, Severity, diagnostic
from shapecheck.pipeline import FileReport
from shapecheck.source import Span

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass

# A claim's verdict is what a course grades: never hidden by a comment.
# A claim's verdict is always reported.
NEVER_IGNORED = frozenset({Code.E402, Code.E403, Code.E404, Code.E405})
_COMMENT = re.compile(r"#\s*shapecheck:\s*ignore\[([^\]\n]*)\][ \t\r]*$", re.MULTILINE)


@dataclass(frozen=True)
class _Ignore:
    """A `# shapecheck: ignore[CODES]` comment and its line."""

    line: int
    span: Span
    codes: tuple[str, ...]


def _comments(report: FileReport) -> list[_Ignore]:
    source = report.source
    found = []
    for match in _COMMENT.finditer(source.text):
        codes = tuple(c.strip().upper() for c in match.group(1).split(",") if c.strip())
        line = source.position(match.start())[0]
        found.append(_Ignore(line, Span(match.start(), match.end()), codes))
    return found


def _line_of(report: FileReport, problem: Diagnostic) -> int | None:
    if problem.span is not None:
        return report.source.position(problem.span.start)[0]
    return problem.position[0] if problem.position is not None else None


def apply_ignores(report: FileReport, *, allow_ignore: bool = True) -> FileReport:
    """The report with suppressed diagnostics removed and W901-W903 added."""
    comments = _comments(report)
    if not comments:
        return report
    if not allow_ignore:
        added = [_not_honoured(c) for c in comments]
        return _with(report, list(report.diagnostics) + added)
    by_line = {c.line: c for c in comments}
    used: set[tuple[int, str]] = set()
    kept = []
    for problem in report.diagnostics:
        line = _line_of(report, problem)
        comment = by_line.get(line) if line is not None else None
        if comment is not None and problem.code in comment.codes and _ignorable(problem.code):
            used.add((comment.line, problem.code))
            continue
        kept.append(problem)
    for comment in comments:
        kept.extend(_unused(comment, used))
    return _with(report, kept)


def _ignorable(code: str) -> bool:
    """Only warnings: an error ends the file's analysis early, and silencing it
    would leave a file that looks clean with its claims never judged."""
    return code in CODES and CODES[Code(code)][0] is Severity.WARNING and code not in NEVER_IGNORED


def _not_honoured(comment: _Ignore) -> Diagnostic:
    return diagnostic(
        Code.W902,
        comment.span,
        f"`ignore[{', '.join(comment.codes)}]` is not honoured: this run has allow-ignore = false",
        hints=["graded runs report every diagnostic; fix the line instead"],
    )


def _unused(comment: _Ignore, used: set[tuple[int, str]]) -> list[Diagnostic]:
    problems = []
    for code in comment.codes:
        if code not in CODES:
            problems.append(diagnostic(Code.W903, comment.span, f"{code} is not a diagnostic code"))
        elif code in NEVER_IGNORED:
            problems.append(
                diagnostic(
                    Code.W903,
                    comment.span,
                    f"{code} cannot be ignored: a claim's verdict is always reported",
                )
            )
        elif not _ignorable(code):
            words = f"{code} cannot be ignored: an error stops the checks after it, "
            words += "so ignoring it would hide them (claims and derivatives included)"
            problems.append(diagnostic(Code.W903, comment.span, words))
        elif (comment.line, code) not in used:
            problems.append(
                diagnostic(
                    Code.W901,
                    comment.span,
                    f"unused suppression: no {code} on this line",
                    hints=["remove it from the comment"],
                )
            )
    return problems


def _with(report: FileReport, problems: list[Diagnostic]) -> FileReport:
    # File-level problems first, then in file order, as the pipeline sorts them.
    problems.sort(key=lambda d: (d.span.start if d.span else -1, d.code))
    return replace(report, diagnostics=tuple(problems))
