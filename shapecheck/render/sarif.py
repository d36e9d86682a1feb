"""SARIF 2.1.0 for GitHub code scanning: one run, a rule per diagnostic code
used, a result per diagnostic.

Regions are 1-based with columns in characters, declared by the run's
`columnKind: unicodeCodePoints` (SARIF's default counts UTF-16 code units);
`endColumn` is just past the region. A label becomes a related location with
its message. A wrong or inconclusive claim is the result of its E402, E403 or
E404 diagnostic, with the claim's label and verdict in the result's
`properties`, so code scanning shows it once. A problem of the whole file is
placed on line 1: code scanning drops a result without a line.

User text is made visible (`render.escape`) before it is written; a file name
becomes a percent-encoded URI reference relative to the repository.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from shapecheck import __version__
from shapecheck.diagnostics import CODES, Code, Diagnostic
from shapecheck.pipeline import FileReport
from shapecheck.render.escape import visible
from shapecheck.render.findings import claim_of
from shapecheck.render.places import (
    Place,
    diagnostic_place,
    fingerprint,
    path_bytes,
    relative_path,
    span_place,
)

if TYPE_CHECKING:
    from shapecheck.render.output import RunContext

_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_HELP_DOC = "docs/diagnostics.md"


def render(reports: Sequence[FileReport], *, strict: bool) -> str:
    codes = sorted({d.code for r in reports for d in r.diagnostics})
    rule_index = {code: i for i, code in enumerate(codes)}
    results = [
        _result(report, problem, rule_index[problem.code], strict)
        for report in reports
        for problem in report.diagnostics
    ]
    document = {
        "$schema": _SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "shapecheck",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule(code) for code in codes],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=True)


def _rule(code: Code) -> dict[str, Any]:
    severity, title = CODES[code]
    return {
        "id": code,
        "shortDescription": {"text": title},
        "help": {"text": f"{code}: {title}; see {_HELP_DOC} in shapecheck's documentation"},
        "defaultConfiguration": {"level": severity.value},
    }


def uri(name: str) -> str:
    """A relative, percent-encoded URI reference: controls, bidi overrides and
    non-UTF-8 bytes of a file name cannot reach a viewer raw."""
    path = relative_path(name)
    return quote(path_bytes(path), safe="/")


def _physical(name: str, place: Place | None) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": uri(name)}}
    if place is None:
        location["region"] = {"startLine": 1}
    else:
        location["region"] = {
            "startLine": place.line,
            "startColumn": place.column,
            "endLine": place.end_line,
            "endColumn": place.end_column,
        }
    return location


def _escape_links(text: str) -> str:
    # SARIF message text turns `[words](n)` into a link to related location n;
    # a user's own brackets must stay text.
    return text.replace("](", "\\](")


def message_text(problem: Diagnostic) -> str:
    """The message, its `for` context and its help lines, made visible."""
    lines = [visible(problem.message, keep="")]
    if problem.context:
        lines[0] += f" ({visible(problem.context, keep='')})"
    lines.extend(f"help: {visible(h, keep='')}" for h in problem.hints)
    return "\n".join(lines)


def _message(report: FileReport, problem: Diagnostic) -> str:
    """The message, then a line per label linking to its related location
    (code scanning shows a related location only when the message links it)."""
    lines = [_escape_links(message_text(problem))]
    for number, label in enumerate(problem.labels, start=1):
        line, column = report.source.position(label.span.start)
        words = _escape_links(visible(label.message, keep=""))
        lines.append(f"note: {words} at [line {line}, column {column}]({number})")
    return "\n".join(lines)


def _result(report: FileReport, problem: Diagnostic, index: int, strict: bool) -> dict[str, Any]:
    source = report.source
    place = diagnostic_place(source, problem)
    failing = problem.is_error or strict
    result: dict[str, Any] = {
        "ruleId": problem.code,
        "ruleIndex": index,
        "level": "error" if failing else "warning",
        "message": {"text": _message(report, problem)},
        "locations": [{"physicalLocation": _physical(source.name, place)}],
        "partialFingerprints": {
            "shapecheck/v1": fingerprint(
                relative_path(source.name),
                problem.code,
                str(place.line if place else 1),
                problem.message,
            )
        },
    }
    if problem.labels:
        result["relatedLocations"] = [
            {
                "id": number,
                "physicalLocation": _physical(source.name, span_place(source, label.span)),
                "message": {"text": _escape_links(visible(label.message, keep=""))},
            }
            for number, label in enumerate(problem.labels, start=1)
        ]
    claim = claim_of(report, problem)
    if claim is not None and claim.check is not None:
        result["properties"] = {
            "claim": claim.symbolic.claim.label,
            "verdict": claim.check.verdict.value,
        }
    return result


def render_run(reports: Sequence[FileReport], context: RunContext) -> str:
    """The document of a run (the registry's entry point, render.output)."""
    return render(reports, strict=context.strict) + "\n"
