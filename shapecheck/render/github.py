"""GitHub Actions workflow commands: one `::error`/`::warning` line per diagnostic.

The annotation is placed at the diagnostic's span; its labels (the other
places involved, such as both occurrences of an index with their sizes) are
lines of the message, each with its line and column, as are the `for`
context and the help lines. One annotation per diagnostic, not one per
label: GitHub shows at most 10 errors and 10 warnings per step.

User text is made visible (`render.escape`) before the workflow-command
escaping, so a control character can neither end the command nor reach the
log viewer. That escaping is GitHub's own (toolkit `command.ts`): `%`, `\\r`
and `\\n` in the message, and also `:` and `,` in a property.
"""

from __future__ import annotations

from collections.abc import Sequence

from shapecheck.diagnostics import Diagnostic
from shapecheck.pipeline import FileReport
from shapecheck.render.escape import visible
from shapecheck.render.places import diagnostic_place
from shapecheck.source import Source


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _properties(source: Source, problem: Diagnostic) -> list[str]:
    properties = [f"file={_escape_property(visible(source.name, keep=''))}"]
    place = diagnostic_place(source, problem)
    if problem.span is not None and place is not None:
        properties += [
            f"line={place.line}",
            f"col={place.column}",
            f"endLine={place.end_line}",
            f"endColumn={place.end_column}",
        ]
    elif place is not None:
        properties += [f"line={place.line}", f"col={place.column}"]
    properties.append(f"title={problem.code}")
    return properties


def _message(source: Source, problem: Diagnostic) -> str:
    lines = [visible(problem.message)]
    if problem.context:
        lines[0] += f" ({visible(problem.context)})"
    for label in problem.labels:
        line, column = source.position(label.span.start)
        lines.append(f"note: line {line}, column {column}: {visible(label.message)}")
    lines.extend(f"help: {visible(h)}" for h in problem.hints)
    return "\n".join(lines)


def render(reports: Sequence[FileReport]) -> str:
    return "\n".join(
        f"::{problem.severity.value} {','.join(_properties(report.source, problem))}"
        f"::{_escape_data(_message(report.source, problem))}"
        for report in reports
        for problem in report.diagnostics
    )
