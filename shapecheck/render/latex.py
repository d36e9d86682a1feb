"""LaTeX: a compilable document (article, amsmath) or a fragment for one's notes.

Per file: the diagnostics, the arrays, every definition with its sums written
out (`\\sum_{j}`), every derivative the way it is written by hand (the
adjoints it needs, then `\\frac{\\partial L}{\\partial W_{j,k}} = …`), and the
claims with their verdicts. Formulas come from `render.math`; every piece of
user text outside math (file names, messages) goes through `text`, which
escapes LaTeX's special characters and spells out the few non-ASCII symbols
the verdicts use, so that pdflatex reads the document without extra packages
beyond amsmath and amssymb.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shapecheck.check.program import CheckedProgram
from shapecheck.diagnostics import Diagnostic
from shapecheck.pipeline import DerivativeResult, FileReport
from shapecheck.render import derivatives as facts
from shapecheck.render import math, matrixform
from shapecheck.render.common import plural
from shapecheck.render.diagnostics import location
from shapecheck.render.escape import visible

if TYPE_CHECKING:
    from shapecheck.render.output import RunContext

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\textasciicircum{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "`": r"\textasciigrave{}",
    "'": r"\textquotesingle{}",
    '"': r"\textquotedbl{}",
    "\n": " ",
    "✓": r"$\checkmark$",
    "✗": r"$\times$",
    "–": "--",
    "×": r"$\times$",
    "Σ": r"$\Sigma$",
    "δ": r"$\delta$",
    "…": r"\dots{}",
}

_PREAMBLE = [
    r"\documentclass{article}",
    r"\usepackage{amsmath}",
    r"\usepackage{amssymb}",
    r"\usepackage[margin=2cm]{geometry}",
    r"\allowdisplaybreaks",
]


def text(value: str) -> str:
    """User text as LaTeX text; other non-ASCII characters as their code points."""
    out = []
    previous = ""
    for char in visible(value, keep=""):
        if char == "-" and previous == "-":
            out.append("{}-")  # two hyphens, not an en dash
        elif char in _SPECIAL:
            out.append(_SPECIAL[char])
        elif char.isascii():
            out.append(char)
        else:
            out.append(r"\texttt{[U+" + f"{ord(char):04X}" + "]}")
        previous = char
    return "".join(out)


def _message(message: str) -> str:
    """A message with its backticked names in typewriter type."""
    pieces = message.split("`")
    if len(pieces) % 2 == 0:  # unbalanced: every backtick shown as it is
        return text(message)
    return "".join(r"\texttt{" + text(p) + "}" if k % 2 else text(p) for k, p in enumerate(pieces))


def _display(lines: Sequence[tuple[str, str]]) -> list[str]:
    """Lines `left = right` aligned at their equals signs."""
    if not lines:
        return []
    body = [f"  {left} &= {right}" for left, right in lines]
    return [r"\begin{align*}", " \\\\\n".join(body), r"\end{align*}"]


def _diagnostics(report: FileReport) -> list[str]:
    if not report.diagnostics:
        return []
    lines = [r"\subsection*{Diagnostics}", r"\begin{itemize}"]
    for problem in report.diagnostics:
        lines.append(_diagnostic(report, problem))
    return [*lines, r"\end{itemize}"]


def _diagnostic(report: FileReport, problem: Diagnostic) -> str:
    item = (
        r"  \item \texttt{" + text(location(report.source, problem)) + "} "
        r"\textbf{"
        + text(f"{problem.severity.value}[{problem.code}]")
        + "}: "
        + _message(problem.message)
    )
    if problem.context:
        item += r" \\ note: " + _message(problem.context)
    for hint in problem.hints:
        item += r" \\ help: " + _message(hint)
    return item


def _arrays(checked: CheckedProgram) -> list[str]:
    if not checked.arrays:
        return []
    lines = [
        r"\subsection*{Arrays}",
        r"\begin{tabular}{llll}",
        r"array & kind & shape & notes \\ \hline",
    ]
    for array in checked.arrays:
        definition = checked.definition(array.name)
        indices = definition.indices if definition else ()
        notes = (
            (["positive"] if array.positive else [])
            + ([f"integers in 1..{array.classes}"] if array.classes else [])
            + (["literal value"] if array.value is not None else [])
        )
        cells = [
            "$" + math.name(array.name) + math.subscript(indices) + "$",
            text(array.kind),
            "$" + math.shape(array.shape) + "$",
            text(", ".join(notes)),
        ]
        lines.append(" & ".join(cells) + r" \\")
    return [*lines, r"\end{tabular}"]


def _definitions(checked: CheckedProgram) -> list[str]:
    if not checked.definitions:
        return []
    rows = [
        (math.name(d.name) + math.subscript(d.indices), math.expr(d.rhs))
        for d in checked.definitions
    ]
    return [r"\subsection*{Definitions}", *_display(rows)]


def _derivative(result: DerivativeResult, ranks: math.Ranks, verified: bool) -> list[str]:
    derivation = result.derivation
    head = "$" + math.label(derivation.label) + "$"
    if result.request.default:
        head += " (default)"
    about = (
        "signature $" + math.derivation_signature(derivation) + "$, "
        "shape $" + math.shape([i.size for i in derivation.signature]) + "$"
    )
    if verified:
        about += "; check: " + text(facts.check_words(result.check))
    rows: list[tuple[str, str]] = []
    if result.expanded is None:
        needed = facts.unique_adjoints((result,))
        rows = [
            (
                math.reference(a.label, a.indices, ranks, numerator=True),
                math.term(a.formula, ranks),
            )
            for a in needed
        ]
    shown = result.expanded if result.expanded is not None else derivation.formula
    lhs = math.derivative(derivation)
    rows.append((lhs, math.term(shown, ranks)))
    form = facts.matrix_form(result)
    if form is not None:
        # Matrix notation (spec 10: display only), under the index form.
        rows.append((math.label(derivation.label), matrixform.latex(form)))
    return [r"\paragraph{" + head + "}", about, *_display(rows)]


def _derivatives(report: FileReport, ranks: math.Ranks) -> list[str]:
    if not report.derivatives:
        return []
    layout = report.derivatives[0].derivation.layout
    lines = [r"\subsection*{Derivatives (" + text(layout) + " layout)}"]
    for result in report.derivatives:
        lines += _derivative(result, ranks, report.verification is not None)
    return lines


def _claims(report: FileReport, ranks: math.Ranks) -> list[str]:
    if not report.claims:
        return []
    lines = [r"\subsection*{Claims}"]
    for result in report.claims:
        claim = result.symbolic.claim
        line = report.source.position(claim.span.start)[0]
        lhs = math.reference(claim.label, claim.indices, ranks, numerator=False)
        lines += [
            r"\paragraph{Line " + str(line) + "}",
            text(facts.claim_words(result)),
            *_display([(lhs, math.expr(claim.rhs, ranks))]),
        ]
    return lines


def _file(report: FileReport, strict: bool) -> list[str]:
    mark = "✗ failed" if report.failed(strict) else "✓ ok"
    counts = f"{plural(report.errors, 'error')}, {plural(report.warnings, 'warning')}"
    lines = [
        r"\section*{\texttt{" + text(report.source.name) + "}}",
        text(f"{mark}: {counts}") + "\n",
        *_diagnostics(report),
    ]
    checked = report.checked
    if checked is None:
        return lines
    ranks = math.Ranks({a.name: a.rank for a in checked.arrays}, checked.layout)
    lines += _arrays(checked) + _definitions(checked)
    return lines + _derivatives(report, ranks) + _claims(report, ranks)


def render(
    reports: Sequence[FileReport],
    *,
    strict: bool,
    detailed: bool = False,
    fragment: bool = False,
) -> str:
    """The whole document, or with `fragment` only what goes between
    `\\begin{document}` and `\\end{document}` (it needs amsmath and amssymb).

    `detailed` is accepted like the other renderers'; the adjoints are shown
    always, since a derivative is written with them.
    """
    del detailed
    body: list[str] = []
    for report in reports:
        body += [*_file(report, strict), ""]
    if fragment:
        return "\n".join(body).rstrip("\n") + "\n"
    document = [*_PREAMBLE, "", r"\begin{document}", "", *body, r"\end{document}"]
    return "\n".join(document) + "\n"


def render_run(reports: Sequence[FileReport], context: RunContext) -> str:
    """The document of a run (the registry's entry point, render.output)."""
    return render(reports, strict=context.strict, fragment=context.fragment)
