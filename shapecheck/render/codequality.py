"""GitLab Code Quality JSON: a list of issues, one per diagnostic, that GitLab
shows in a merge request's widget and diff.

Each issue has GitLab's required fields: `description`, `check_name` (the
code), `fingerprint`, `severity` and `location` (`path` relative to the
repository, `lines.begin`). The fingerprint is a hash of the path, the code,
the line and the message, so an unchanged problem keeps its fingerprint from
one pipeline to the next (GitLab compares the branch's issues with the
target's by it); two identical problems on one line are told apart by their
order. Errors are `major` and warnings `minor`, with or without --strict
(which changes the job's exit status, not what a problem is). A problem of
the whole file is placed on line 1, which GitLab requires. User text is made
visible (`render.escape`) and the JSON is ASCII.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shapecheck.diagnostics import Diagnostic, Severity
from shapecheck.pipeline import FileReport
from shapecheck.render.escape import visible
from shapecheck.render.places import fingerprint, first_line, relative_path

if TYPE_CHECKING:
    from shapecheck.render.output import RunContext

_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor"}


def description(problem: Diagnostic) -> str:
    """One line, as GitLab shows it: the code, the message and its context."""
    text = f"{problem.code} {visible(problem.message, keep='')}"
    if problem.context:
        text += f" ({visible(problem.context, keep='')})"
    return text


def _issue(path: str, problem: Diagnostic, line: int, seen: dict[str, int]) -> dict[str, Any]:
    key = fingerprint(path, problem.code, str(line), problem.message)
    seen[key] = seen.get(key, 0) + 1
    if seen[key] > 1:
        key = fingerprint(key, str(seen[key]))
    return {
        "description": description(problem),
        "check_name": problem.code,
        "fingerprint": key,
        "severity": _SEVERITY[problem.severity],
        "location": {"path": path, "lines": {"begin": line}},
    }


def render(reports: Sequence[FileReport], *, strict: bool) -> str:
    """`strict` is accepted for the common signature; GitLab's severities do not change with it."""
    issues = []
    seen: dict[str, int] = {}
    for report in reports:
        path = visible(relative_path(report.source.name), keep="")
        for problem in report.diagnostics:
            issues.append(_issue(path, problem, first_line(report.source, problem), seen))
    return json.dumps(issues, indent=2, ensure_ascii=True)


def render_run(reports: Sequence[FileReport], context: RunContext) -> str:
    """The document of a run (the registry's entry point, render.output)."""
    return render(reports, strict=context.strict) + "\n"
