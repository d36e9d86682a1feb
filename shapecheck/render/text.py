"""Human-readable output with Rich: diagnostics in ruff style, then tables.

Colour only on a terminal (Rich turns it off for pipes and honours NO_COLOR);
the words are the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from shapecheck.diagnostics import Diagnostic, Severity
from shapecheck.pipeline import FileReport
from shapecheck.render import diagnostics as plain
from shapecheck.render.common import plural, shape_both, shape_names
from shapecheck.render.notation import index_list, notation

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow"}


def _diagnostic(console: Console, report: FileReport, problem: Diagnostic) -> None:
    head = Text()
    head.append(plain.location(report.source, problem), style="bold")
    head.append(": ")
    head.append(
        f"{problem.severity.value}[{problem.code}]", style=_SEVERITY_STYLE[problem.severity]
    )
    head.append(f": {problem.message}", style="bold")
    console.print(head, soft_wrap=True)
    body = plain.snippet(report.source, problem)
    for line in body:
        console.print(
            Text(line, style="cyan" if " | " not in line else ""), soft_wrap=True, highlight=False
        )
    gutter = len(body[0].split(" | ")[0].strip()) if body else 1
    for line in plain.notes(problem, gutter):
        console.print(Text(line), soft_wrap=True, highlight=False)
    console.print()


def _arrays_table(report: FileReport) -> Table | None:
    checked = report.checked
    if checked is None or not checked.arrays:
        return None
    table = Table(title="Arrays", title_justify="left", show_edge=False, pad_edge=False)
    for column in ("array", "kind", "shape", "notes"):
        table.add_column(column)
    for array in checked.arrays:
        definition = checked.definition(array.name)
        name = array.name + (index_list(definition.indices) if definition else "")
        notes = []
        if array.positive:
            notes.append("positive")
        if array.value is not None:
            notes.append("literal value")
        table.add_row(name, array.kind, shape_both(array.shape), ", ".join(notes))
    return table


def _definitions_table(report: FileReport) -> Table | None:
    checked = report.checked
    if checked is None or not checked.definitions:
        return None
    table = Table(title="Definitions", title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("definition", no_wrap=True)
    table.add_column("shape", no_wrap=True)
    table.add_column("with the sums written out", overflow="fold")
    table.add_column("summed")
    table.add_column("broadcast")
    for definition in checked.definitions:
        lhs = definition.name + index_list(definition.indices)
        broadcast = [
            ",".join(names) + f" in term {k + 1}"
            for k, names in enumerate(definition.broadcast)
            if names
        ]
        table.add_row(
            lhs,
            shape_both(checked.array(definition.name).shape),
            notation(definition.rhs),
            ",".join(definition.summed),
            "; ".join(broadcast),
        )
    return table


def _status(report: FileReport, strict: bool) -> Text:
    failed = report.errors > 0 or (strict and report.warnings > 0)
    text = Text()
    text.append("✗ " if failed else "✓ ", style="bold red" if failed else "bold green")
    text.append(report.source.name, style="bold")
    counts = [plural(report.errors, "error"), plural(report.warnings, "warning")]
    text.append("  " + ", ".join(counts))
    return text


def render(
    reports: Sequence[FileReport], console: Console, *, strict: bool, tables: bool = True
) -> None:
    for report in reports:
        console.print(_status(report, strict))
        console.print()
        for problem in report.diagnostics:
            _diagnostic(console, report, problem)
        if tables:
            for table in (_arrays_table(report), _definitions_table(report)):
                if table is not None:
                    console.print(table)
                    console.print()
    if len(reports) > 1:
        failed = sum(1 for r in reports if r.errors or (strict and r.warnings))
        console.print(
            f"{plural(len(reports), 'file')}: {len(reports) - failed} ok, {failed} failed "
            f"({plural(sum(r.errors for r in reports), 'error')}, "
            f"{plural(sum(r.warnings for r in reports), 'warning')})"
        )


__all__ = ["render", "shape_names"]
