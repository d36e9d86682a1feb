"""Human-readable output with Rich: diagnostics in ruff style, then tables.

Colour only on a terminal (Rich turns it off for pipes; `render.output`
honours a non-empty NO_COLOR); the words are the same either way. Written
file by file as results arrive (`render_file`), then a summary table of a
run of several files (`render_closing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shapecheck.diagnostics import Diagnostic, Severity
from shapecheck.pipeline import FileReport
from shapecheck.render import diagnostics as plain
from shapecheck.render.common import plural, shape_both
from shapecheck.render.escape import visible
from shapecheck.render.layout import Printer, RichPrinter, Table, Text
from shapecheck.render.notation import index_list, left_side, notation
from shapecheck.render.output import RunContext

if TYPE_CHECKING:
    from rich.console import Console

_SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow"}


def _diagnostic(console: Printer, report: FileReport, problem: Diagnostic) -> None:
    # One Text, printed once: a print costs Rich about a millisecond whatever
    # it prints, and a fuzzed line with 3,590 errors took 8 s in five prints each.
    shown = Text()
    shown.append(plain.location(report.source, problem), style="bold")
    shown.append(": ")
    shown.append(
        f"{problem.severity.value}[{problem.code}]", style=_SEVERITY_STYLE[problem.severity]
    )
    shown.append(f": {visible(problem.message)}", style="bold")
    body = plain.snippet(report.source, problem)
    for line in body:
        shown.append("\n")
        shown.append(line, style="cyan" if " | " not in line else "")
    gutter = len(body[0].split(" | ")[0].strip()) if body else 1
    for line in plain.notes(problem, gutter):
        shown.append("\n")
        shown.append(line)
    shown.append("\n")
    console.print(shown, soft_wrap=True)


def _arrays_table(report: FileReport) -> Table | None:
    checked = report.checked
    if checked is None or not checked.arrays:
        return None
    table = Table(title="Arrays", title_justify="left", show_edge=False, pad_edge=False)
    for column in ("array", "kind", "shape", "notes"):
        table.add_column(column)
    for array in checked.arrays:
        definition = checked.definition(array.name)
        name = left_side(array.name, definition.written_indices) if definition else array.name
        notes = []
        if array.positive:
            notes.append("positive")
        if array.classes is not None:
            notes.append(f"integers in 1..{array.classes.describe()}")
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
        lhs = left_side(definition.name, definition.written_indices)
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


def _derivatives_table(report: FileReport) -> Table | None:
    if not report.derivatives:
        return None
    # Loaded here, not at the top: `render.derivatives` imports the symbolic
    # and numeric stages, which a file with nothing derived never needs.
    from shapecheck.render import derivatives as facts

    layout = report.derivatives[0].derivation.layout
    table = Table(
        title=f"Derivatives ({layout} layout)",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("derivative", no_wrap=True)
    table.add_column("signature", no_wrap=True)
    table.add_column("shape", no_wrap=True)
    table.add_column("formula", overflow="fold")
    checked = report.verification is not None
    if checked:
        table.add_column("check", no_wrap=True)
    for result in report.derivatives:
        derivation = result.derivation
        label = derivation.label + (" (default)" if result.request.default else "")
        row = [
            label,
            facts.signature(derivation),
            facts.shape(derivation),
            facts.shown_formula(result),
        ]
        if checked:
            row.append(facts.check_words(result.check))
        table.add_row(*row)
    return table


def _verification_line(console: Printer, report: FileReport) -> None:
    info = report.verification
    if info is None:
        return
    sizes = ", ".join(
        f"{name} = {value}" + (" (chosen)" if chosen else "") for name, value, chosen in info.sizes
    )
    text = (
        f"Numeric checks: float64 central differences, seed {info.seed}, values from "
        f"{info.values_from}, rtol {info.rtol:g}, atol {info.atol:g}"
        + (f"; sizes {sizes}" if sizes else "")
    )
    if info.saved_to:
        text += f"; saved to {info.saved_to}"
    console.print(Text(visible(text, keep=""), style="italic"), soft_wrap=True)
    console.print()


def _point_values(console: Printer, report: FileReport) -> None:
    """Each derivative's value where the file fixes every value it depends on."""
    from shapecheck.render import derivatives as facts  # lazily: see _derivatives_table

    lines = facts.point_value_lines(report.derivatives)
    if lines and report.verification is not None:
        where = facts.point_words(report.verification.values_from)
        console.print(Text(visible(f"Values at {where}", keep=""), style="italic"))
        for line in lines:
            console.print(Text("  " + line), soft_wrap=True)
        console.print()


def _matrix_notation(console: Printer, report: FileReport, detailed: bool) -> None:
    """Results of rank ≤ 2 in matrix notation (spec 10: display only, not `.idx`)."""
    from shapecheck.render import derivatives as facts  # lazily: see _derivatives_table

    lines = facts.matrix_lines(report.derivatives, adjoints=detailed)
    if lines:
        console.print(Text("Matrix notation (display only; vectors are columns)", style="italic"))
        for line in lines:
            console.print(Text("  " + line), soft_wrap=True)
        console.print()


def _adjoints(console: Printer, report: FileReport) -> None:
    from shapecheck.render import derivatives as facts  # lazily: see _derivatives_table

    adjoints = facts.unique_adjoints(report.derivatives)
    if adjoints:
        console.print(Text("Adjoints (reverse mode, nearest the output first)", style="italic"))
        for adjoint in adjoints:
            console.print(Text("  " + facts.adjoint_line(adjoint)), soft_wrap=True)
        console.print()


def _numpy(console: Printer, report: FileReport) -> None:
    if not report.derivatives:
        return
    from shapecheck.render import derivatives as facts  # lazily: see _derivatives_table

    console.print(Text("numpy (axes in signature order)", style="italic"))
    done: set[str] = set()
    for result in report.derivatives:
        for line in facts.derivative_code(result):
            if line not in done:
                done.add(line)
                console.print(Text("  " + line), soft_wrap=True)
    console.print()


def _claims_table(report: FileReport) -> Table | None:
    if not report.claims:
        return None
    from shapecheck.render import derivatives as facts  # lazily: see _derivatives_table

    table = Table(title="Claims", title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("claim", no_wrap=True)
    table.add_column("line", justify="right")
    table.add_column("claimed", overflow="fold")
    table.add_column("verdict")
    for result in report.claims:
        claim = result.symbolic.claim
        line = report.source.position(claim.span.start)[0]
        table.add_row(
            claim.label + index_list(claim.indices),
            str(line),
            notation(claim.rhs),
            facts.claim_words(result),
        )
    return table


def _status(report: FileReport, strict: bool) -> Text:
    failed = report.failed(strict)
    text = Text()
    text.append("✗ " if failed else "✓ ", style="bold red" if failed else "bold green")
    text.append(visible(report.source.name, keep=""), style="bold")
    counts = [plural(report.errors, "error"), plural(report.warnings, "warning")]
    text.append("  " + ", ".join(counts))
    return text


def render(
    reports: Sequence[FileReport], console: Console, *, strict: bool, detailed: bool = False
) -> None:
    """`detailed` (the derive command) adds the adjoint lines and numpy code;
    Rich lays out and styles everything for the caller's console."""
    render_run(reports, RunContext(strict=strict, detailed=detailed), RichPrinter(console))


def render_run(reports: Sequence[FileReport], context: RunContext, console: Printer) -> None:
    """The whole run: each file, then the summary."""
    for report in reports:
        render_file(report, context, console)
    render_closing(reports, context, console)


def render_file(report: FileReport, context: RunContext, console: Printer) -> None:
    """One file's part; under --quiet only its diagnostics."""
    if context.quiet:
        for problem in report.diagnostics:
            _diagnostic(console, report, problem)
        return
    _report(console, report, context.strict, context.detailed)


def render_closing(reports: Sequence[FileReport], context: RunContext, console: Printer) -> None:
    """The summary table and tally of a run of several files (or of any --quiet run)."""
    if len(reports) < 2 and not context.quiet:
        return
    strict = context.strict
    failed = sum(1 for r in reports if r.failed(strict))
    console.print(_summary_table(reports, failed))
    console.print()
    console.print(
        f"{plural(len(reports), 'file')}: {len(reports) - failed} ok, {failed} failed "
        f"({plural(sum(r.errors for r in reports), 'error')}, "
        f"{plural(sum(r.warnings for r in reports), 'warning')})"
    )


def _claim_tally(reports: Sequence[FileReport]) -> tuple[int, int, int]:
    """Claims right, wrong and inconclusive (`ClaimResult.confirmed`)."""
    standings = [claim.confirmed for report in reports for claim in report.claims]
    return standings.count(True), standings.count(False), standings.count(None)


def _summary_table(reports: Sequence[FileReport], failed: int) -> Table:
    table = Table(title="Summary", title_justify="left", show_edge=False, pad_edge=False)
    counts = ("files", "ok", "failed", "errors", "warnings")
    claims = ("claims right", "claims wrong", "claims inconclusive")
    for column in (*counts, *claims):
        table.add_column(column, justify="right")
    right, wrong, unsure = _claim_tally(reports)
    errors = sum(r.errors for r in reports)
    warnings = sum(r.warnings for r in reports)
    numbers = (len(reports), len(reports) - failed, failed, errors, warnings, right, wrong, unsure)
    table.add_row(*(str(n) for n in numbers))
    return table


def _report(console: Printer, report: FileReport, strict: bool, detailed: bool) -> None:
    console.print(_status(report, strict))
    console.print()
    for problem in report.diagnostics:
        _diagnostic(console, report, problem)
    for table in (_arrays_table(report), _definitions_table(report)):
        if table is not None:
            console.print(table)
            console.print()
    derivatives = _derivatives_table(report)
    if derivatives is not None:
        console.print(derivatives)
        console.print()
        _point_values(console, report)
        if detailed:
            _adjoints(console, report)
        _matrix_notation(console, report, detailed)
        if detailed:
            _numpy(console, report)
    claims = _claims_table(report)
    if claims is not None:
        console.print(claims)
        console.print()
    _verification_line(console, report)
