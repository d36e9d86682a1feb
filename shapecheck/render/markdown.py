"""GitHub-flavoured Markdown: a report for readers without a terminal.

Written for pull-request comments and `$GITHUB_STEP_SUMMARY`: per file the
diagnostics (a list, each with `file:line:col` and its code), the arrays,
definitions, derivatives and claims as tables with every formula as `$…$`
math, and a Mermaid graph of which definition uses which array. `check` over
several files opens with a run summary table and folds each file's tables
into a `<details>` block, so a long run stays a readable comment.

GitHub's math rules shape the output: a `$` span neither starts nor ends with
a space, and math in a table cell never contains `|` (`render.math` prints
`\\vert`). User text outside math is escaped with backslashes (every ASCII
punctuation character may be), so a file name or message can neither start
markup nor math.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from shapecheck.check.program import CheckedProgram
from shapecheck.diagnostics import Diagnostic
from shapecheck.pipeline import FileReport
from shapecheck.render import derivatives as facts
from shapecheck.render import math, matrixform
from shapecheck.render.common import plural
from shapecheck.render.diagnostics import location, snippet
from shapecheck.render.escape import visible

if TYPE_CHECKING:
    from shapecheck.render.output import RunContext

# CommonMark lets a backslash escape any ASCII punctuation; these could start
# markup, math, an HTML tag or an entity, or end a table cell, inside a line.
_MARKUP = re.compile(r"([\\`*_\[\]<>|~$&])")


def text(value: str) -> str:
    """User text for a Markdown paragraph or table cell, shown literally."""
    return _MARKUP.sub(r"\\\1", visible(value, keep="").replace("\n", " "))


def code(value: str) -> str:
    """A code span that holds any text: the fence is longer than any run of
    backticks inside (CommonMark), and `|` is escaped for table cells."""
    value = visible(value, keep="")
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value.strip() else ""
    return f"{fence}{pad}{value.replace('|', chr(92) + '|')}{pad}{fence}"


def inline_math(latex: str) -> str:
    """`$…$` by GitHub's rules: no space just inside the dollars."""
    return "$" + latex.strip() + "$"


def _message(message: str) -> str:
    """A diagnostic's message: its backticked names as code spans, the rest escaped."""
    pieces = visible(message, keep="").split("`")
    if len(pieces) % 2 == 0:  # unbalanced: show every backtick literally
        return text(message)
    return "".join(code(p) if k % 2 else text(p) for k, p in enumerate(pieces) if p or k % 2 == 0)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(cell or " " for cell in row) + " |" for row in rows)
    return [*lines, ""]


def _diagnostic(report: FileReport, problem: Diagnostic) -> list[str]:
    head = (
        f"- {code(location(report.source, problem))} "
        f"**{problem.severity.value}\\[{problem.code}\\]**: {_message(problem.message)}"
    )
    notes = []
    if problem.context:
        notes.append(f"  note: {_message(problem.context)}")
    notes.extend(f"  help: {_message(hint)}" for hint in problem.hints)
    # A trailing backslash is a hard line break inside the list item.
    lines = [head + ("\\" if notes else ""), *[n + "\\" for n in notes[:-1]], *notes[-1:]]
    body = snippet(report.source, problem)
    if body:
        fence = "~" * max(3, 1 + max(len(r) for r in re.findall("~+", "\n".join(body)) or [""]))
        lines += ["", f"  {fence}", *(f"  {line}" for line in body), f"  {fence}"]
    return lines


def _ranks(checked: CheckedProgram) -> math.Ranks:
    return math.Ranks({a.name: a.rank for a in checked.arrays}, checked.layout)


def _arrays(checked: CheckedProgram) -> list[str]:
    rows = []
    for array in checked.arrays:
        definition = checked.definition(array.name)
        indices = definition.indices if definition else ()
        notes = [word for word, yes in (("positive", array.positive),) if yes]
        if array.classes is not None:
            notes.append(f"integers in 1..{array.classes}")
        if array.value is not None:
            notes.append("literal value")
        rows.append(
            [
                inline_math(math.name(array.name) + math.subscript(indices)),
                array.kind,
                inline_math(math.shape(array.shape)),
                ", ".join(notes),
            ]
        )
    return ["#### Arrays", "", *_table(["array", "kind", "shape", "notes"], rows)]


def _definitions(checked: CheckedProgram) -> list[str]:
    rows = []
    for definition in checked.definitions:
        lhs = math.name(definition.name) + math.subscript(definition.indices)
        rows.append(
            [
                inline_math(f"{lhs} = {math.expr(definition.rhs)}"),
                inline_math(math.shape(checked.array(definition.name).shape)),
                inline_math(",".join(math.name(s) for s in definition.summed))
                if definition.summed
                else "",
            ]
        )
    if not rows:
        return []
    table = _table(["definition, with the sums written out", "shape", "summed"], rows)
    return ["#### Definitions", "", *table]


def mermaid(checked: CheckedProgram) -> list[str]:
    """The definitions as a graph: an edge A --> B when B's definition uses A."""
    ids = {array.name: f"a{k}" for k, array in enumerate(checked.arrays)}
    lines = ["```mermaid", "graph TD"]
    for array in checked.arrays:
        shape = "×".join(str(s) for s in array.shape) or "scalar"
        # Names are identifiers; the quotes let `×` and `[` stand in a label.
        lines.append(f'  {ids[array.name]}["{array.name} : {shape}"]')
    for definition in checked.definitions:
        for used in definition.depends_on:
            if used in ids:
                lines.append(f"  {ids[used]} --> {ids[definition.name]}")
    return [*lines, "```", ""]


def _derivatives(report: FileReport, ranks: math.Ranks) -> list[str]:
    if not report.derivatives:
        return []
    verified = report.verification is not None
    header = ["derivative", "signature", "shape", "formula"] + (["check"] if verified else [])
    rows = []
    for result in report.derivatives:
        derivation = result.derivation
        shown = result.expanded if result.expanded is not None else derivation.formula
        lhs = math.derivative(derivation)
        row = [
            inline_math(math.label(derivation.label))
            + (" (default)" if result.request.default else ""),
            inline_math(math.derivation_signature(derivation)),
            inline_math(math.shape([i.size for i in derivation.signature])),
            inline_math(f"{lhs} = {math.term(shown, ranks)}"),
        ]
        if verified:
            row.append(text(facts.check_words(result.check)))
        rows.append(row)
    layout = report.derivatives[0].derivation.layout
    return [f"#### Derivatives ({layout} layout)", "", *_table(header, rows)]


def _adjoints(report: FileReport, ranks: math.Ranks) -> list[str]:
    adjoints = facts.unique_adjoints(report.derivatives)
    if not adjoints:
        return []
    lines = ["#### Adjoints (reverse mode, nearest the output first)", ""]
    for adjoint in adjoints:
        lhs = math.reference(adjoint.label, adjoint.indices, ranks, numerator=True)
        lines.append(f"- {inline_math(lhs + ' = ' + math.term(adjoint.formula, ranks))}")
    return [*lines, ""]


def _matrix_notation(report: FileReport, detailed: bool) -> list[str]:
    """Results of rank ≤ 2 in matrix notation (spec 10: display only); the
    adjoints' where the adjoint lines are shown."""
    shown = [(r.derivation.label, facts.matrix_form(r)) for r in report.derivatives]
    if detailed:
        adjoints = facts.unique_adjoints(report.derivatives)
        shown += [(a.label, matrixform.adjoint_form(a)) for a in adjoints]
    lines = [
        f"- {inline_math(math.label(label) + ' = ' + matrixform.latex(form))}"
        for label, form in shown
        if form is not None
    ]
    if not lines:
        return []
    return ["#### Matrix notation (display only; vectors are columns)", "", *lines, ""]


def _point_values(report: FileReport) -> list[str]:
    lines = facts.point_value_lines(report.derivatives)
    if not lines or report.verification is None:
        return []
    where = facts.point_words(report.verification.values_from)
    return [f"#### Values at {text(where)}", "", *(f"- {code(line)}" for line in lines), ""]


def _numpy(report: FileReport) -> list[str]:
    if not report.derivatives:
        return []
    lines: list[str] = []
    for result in report.derivatives:
        lines.extend(line for line in facts.derivative_code(result) if line not in lines)
    fence = "~~~~" if any("~~~" in line for line in lines) else "~~~"
    return ["#### numpy (axes in signature order)", "", fence + "python", *lines, fence, ""]


def _claims(report: FileReport, ranks: math.Ranks) -> list[str]:
    rows = []
    for result in report.claims:
        claim = result.symbolic.claim
        line = report.source.position(claim.span.start)[0]
        rows.append(
            [
                inline_math(math.reference(claim.label, claim.indices, ranks, numerator=False)),
                str(line),
                inline_math(math.expr(claim.rhs, ranks)),
                text(facts.claim_words(result)),
            ]
        )
    if not rows:
        return []
    return ["#### Claims", "", *_table(["claim", "line", "claimed", "verdict"], rows)]


def _verification(report: FileReport) -> list[str]:
    info = report.verification
    if info is None:
        return []
    sizes = ", ".join(
        f"{name} = {value}" + (" (chosen)" if chosen else "") for name, value, chosen in info.sizes
    )
    words = (
        f"Numeric checks: float64 central differences, seed {info.seed}, values from "
        f"{info.values_from}, rtol {info.rtol:g}, atol {info.atol:g}"
        + (f"; sizes {sizes}" if sizes else "")
    )
    return [f"*{text(words)}*", ""]


def _status(report: FileReport, strict: bool) -> str:
    mark = "✗" if report.failed(strict) else "✓"
    counts = f"{plural(report.errors, 'error')}, {plural(report.warnings, 'warning')}"
    return f"{mark} {counts}"


def _tables(report: FileReport, detailed: bool) -> list[str]:
    checked = report.checked
    if checked is None:
        return []
    ranks = _ranks(checked)
    lines = _arrays(checked) if checked.arrays else []
    lines += _definitions(checked)
    if checked.definitions:
        lines += ["#### Which definition uses which array", "", *mermaid(checked)]
    lines += _derivatives(report, ranks) + _point_values(report)
    if detailed:
        lines += _adjoints(report, ranks)
    lines += _matrix_notation(report, detailed)
    if detailed:
        lines += _numpy(report)
    return lines + _claims(report, ranks) + _verification(report)


def _file(report: FileReport, strict: bool, detailed: bool, folded: bool) -> list[str]:
    lines = [f"### {code(report.source.name)}: {_status(report, strict)}", ""]
    if report.diagnostics:
        for problem in report.diagnostics:
            lines.extend(_diagnostic(report, problem))
        lines.append("")
    tables = _tables(report, detailed)
    if folded and tables:
        # An HTML block ends at a blank line; Markdown is read again inside.
        tables = ["<details><summary>Arrays, definitions, derivatives</summary>", "", *tables]
        tables += ["</details>", ""]
    return lines + tables


def _claims_count(report: FileReport) -> str:
    if not report.claims:
        return "–"
    passed = [c.confirmed for c in report.claims]
    words = f"{passed.count(True)}/{len(passed)} ✓"
    return words + (f", {passed.count(False)} ✗" if False in passed else "")


def summary(reports: Sequence[FileReport], strict: bool) -> list[str]:
    """The run in one table: a line per file, then the totals."""
    rows = [
        [
            code(r.source.name),
            "✗ failed" if r.failed(strict) else "✓ ok",
            str(r.errors),
            str(r.warnings),
            _claims_count(r),
        ]
        for r in reports
    ]
    failed = sum(1 for r in reports if r.failed(strict))
    head = (
        f"**shapecheck**: {plural(len(reports), 'file')}, {len(reports) - failed} ok, "
        f"{failed} failed ({plural(sum(r.errors for r in reports), 'error')}, "
        f"{plural(sum(r.warnings for r in reports), 'warning')})"
    )
    return [head, "", *_table(["file", "status", "errors", "warnings", "claims"], rows)]


def render(reports: Sequence[FileReport], *, strict: bool, detailed: bool = False) -> str:
    """The whole document; `detailed` (derive) adds the adjoints and numpy code.

    Several files without `detailed` (check in CI) open with the run summary
    and fold each file's tables away.
    """
    folded = len(reports) > 1 and not detailed
    lines = ["## shapecheck", ""]
    if len(reports) > 1:
        lines += summary(reports, strict)
    for report in reports:
        lines += _file(report, strict, detailed, folded)
    return "\n".join(lines).rstrip("\n") + "\n"


def render_run(reports: Sequence[FileReport], context: RunContext) -> str:
    """The document of a run (the registry's entry point, render.output)."""
    return render(reports, strict=context.strict, detailed=context.detailed)
