"""GitHub Actions workflow commands: one `::error`/`::warning` line per diagnostic.

User text is made visible (`render.escape`) before the workflow-command
escaping, so a control character can neither end the command nor reach the
log viewer.
"""

from __future__ import annotations

from collections.abc import Sequence

from shapecheck.pipeline import FileReport
from shapecheck.render.escape import visible


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(reports: Sequence[FileReport]) -> str:
    lines = []
    for report in reports:
        for problem in report.diagnostics:
            properties = [f"file={_escape_property(visible(report.source.name, keep=''))}"]
            if problem.span is not None:
                line, column = report.source.position(problem.span.start)
                end_line, end_column = report.source.position(problem.span.end)
                properties += [
                    f"line={line}",
                    f"col={column}",
                    f"endLine={end_line}",
                    f"endColumn={end_column}",
                ]
            elif problem.position is not None:
                properties += [f"line={problem.position[0]}", f"col={problem.position[1]}"]
            properties.append(f"title={problem.code}")
            message = visible(problem.message)
            if problem.context:
                message += f" ({visible(problem.context)})"
            if problem.hints:
                message += "\n" + "\n".join(f"help: {visible(h)}" for h in problem.hints)
            lines.append(
                f"::{problem.severity.value} {','.join(properties)}::{_escape_data(message)}"
            )
    return "\n".join(lines)
