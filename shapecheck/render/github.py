"""GitHub Actions workflow commands: one `::error`/`::warning` line per diagnostic."""

from __future__ import annotations

from collections.abc import Sequence

from shapecheck.pipeline import FileReport


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(reports: Sequence[FileReport]) -> str:
    lines = []
    for report in reports:
        for problem in report.diagnostics:
            properties = [f"file={_escape_property(report.source.name)}"]
            if problem.span is not None:
                line, column = report.source.position(problem.span.start)
                end_line, end_column = report.source.position(problem.span.end)
                properties += [
                    f"line={line}",
                    f"col={column}",
                    f"endLine={end_line}",
                    f"endColumn={end_column}",
                ]
            properties.append(f"title={problem.code}")
            message = problem.message
            if problem.context:
                message += f" ({problem.context})"
            if problem.hints:
                message += "\n" + "\n".join(f"help: {h}" for h in problem.hints)
            lines.append(
                f"::{problem.severity.value} {','.join(properties)}::{_escape_data(message)}"
            )
    return "\n".join(lines)
