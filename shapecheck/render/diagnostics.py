"""Diagnostics as text, the way ruff and rustc print them.

    model.idx:5:24: error[E201]: index `j` has two sizes
      5 | Y[i, k] = X[i, j] W[j, k] + b[k]
        |                ^    ^ `j` is h (5) here
        |                `j` is d (3) here
      = help: the second index of X and the first of W must have one size

Plain strings; the text renderer adds colour.
"""

from __future__ import annotations

from shapecheck.diagnostics import Diagnostic, Label
from shapecheck.source import Source


def location(source: Source, diagnostic: Diagnostic) -> str:
    if diagnostic.span is None:
        return f"{source.name}"
    line, column = source.position(diagnostic.span.start)
    return f"{source.name}:{line}:{column}"


def headline(source: Source, diagnostic: Diagnostic) -> str:
    return (
        f"{location(source, diagnostic)}: {diagnostic.severity.value}[{diagnostic.code}]: "
        f"{diagnostic.message}"
    )


def _display(text: str) -> str:
    # One column per character on screen: tabs become a space.
    return text.replace("\t", " ")


def snippet(source: Source, diagnostic: Diagnostic) -> list[str]:
    """The source lines with carets and label messages under them."""
    if diagnostic.span is None or not source.text:
        return []
    labels = list(diagnostic.labels)
    if not any(label.span == diagnostic.span for label in labels):
        labels.append(Label(diagnostic.span, ""))
    by_line: dict[int, list[tuple[int, int, str]]] = {}
    for label in labels:
        line, column = source.position(label.span.start)
        end_line, end_column = source.position(label.span.end)
        if end_line != line:
            end_column = len(source.line_text(line)) + 1
        width = max(1, end_column - column)
        by_line.setdefault(line, []).append((column, width, label.message))
    gutter = len(str(max(by_line)))
    out: list[str] = []
    for line in sorted(by_line):
        text = _display(source.line_text(line))
        if len(text) > 200:
            # A very long line is shown around its first label only.
            first = min(c for c, _, _ in by_line[line])
            start = max(0, first - 60)
            text = ("…" if start else "") + text[start : start + 140] + "…"
            shift = start - (1 if start else 0)
            marks = [(c - shift, w, m) for c, w, m in by_line[line]]
        else:
            marks = by_line[line]
        marks.sort()
        out.append(f"  {line:>{gutter}} | {text}")
        caret_line = ""
        for column, width, _ in marks:
            caret_line = caret_line.ljust(column - 1) + "^" * width
        last_message = marks[-1][2]
        if last_message:
            caret_line += " " + last_message
        pad = "  " + " " * gutter
        out.append(f"{pad} | {caret_line}")
        for column, _, message in reversed(marks[:-1]):
            if message:
                out.append(f"{pad} | " + " " * (column - 1) + message)
    return out


def notes(diagnostic: Diagnostic, gutter: int = 1) -> list[str]:
    pad = " " * (gutter + 1)
    lines = []
    if diagnostic.context:
        lines.append(f"{pad}= note: {diagnostic.context}")
    lines.extend(f"{pad}= help: {hint}" for hint in diagnostic.hints)
    return lines


def render_plain(source: Source, diagnostic: Diagnostic) -> str:
    body = snippet(source, diagnostic)
    gutter = len(body[0].split(" | ")[0].strip()) if body else 1
    return "\n".join([headline(source, diagnostic), *body, *notes(diagnostic, gutter)])
