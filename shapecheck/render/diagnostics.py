"""Diagnostics as text, the way ruff and rustc print them.

    model.idx:5:24: error[E201]: index `j` has two sizes
      5 | Y[i, k] = X[i, j] W[j, k] + b[k]
        |                ^    ^ `j` is h (5) here
        |                `j` is d (3) here
      = help: the second index of X and the first of W must have one size

Plain strings; the text renderer adds colour. Every piece of user text
(file name, source line, message) is escaped by `render.escape` here, so that
the text, JUnit and any later format built on these lines are safe to print.
"""

from __future__ import annotations

from shapecheck.diagnostics import Diagnostic, Label
from shapecheck.render.escape import visible, visible_with_columns
from shapecheck.source import Source, Span


def start(source: Source, diagnostic: Diagnostic) -> tuple[int, int] | None:
    """1-based (line, column) where the problem starts; None for a problem of
    the whole file. A file without decoded text has no spans, but an invalid
    byte still has a position."""
    if diagnostic.span is not None:
        return source.position(diagnostic.span.start)
    return diagnostic.position


def location(source: Source, diagnostic: Diagnostic) -> str:
    name = visible(source.name, keep="")
    where = start(source, diagnostic)
    if where is None:
        return name
    return f"{name}:{where[0]}:{where[1]}"


def _headline(source: Source, diagnostic: Diagnostic) -> str:
    return (
        f"{location(source, diagnostic)}: {diagnostic.severity.value}[{diagnostic.code}]: "
        f"{visible(diagnostic.message)}"
    )


_Mark = tuple[int, int, str]  # column, width, message of one label


def snippet(source: Source, diagnostic: Diagnostic) -> list[str]:
    """The source lines with carets and label messages under them."""
    if diagnostic.span is None or not source.text:
        return []
    by_line = _marks_by_line(source, diagnostic.span, diagnostic.labels)
    gutter = len(str(max(by_line)))
    out: list[str] = []
    for line in sorted(by_line):
        out.extend(_line_block(line, source.line_text(line), by_line[line], gutter))
    return out


def _marks_by_line(source: Source, span: Span, given: tuple[Label, ...]) -> dict[int, list[_Mark]]:
    labels = list(given)
    if not any(label.span == span for label in labels):
        labels.append(Label(span, ""))
    by_line: dict[int, list[_Mark]] = {}
    for label in labels:
        line, column = source.position(label.span.start)
        end_line, end_column = source.position(label.span.end)
        if end_line != line:
            # A span over several lines is marked to the end of its first.
            end_column = len(source.line_text(line)) + 1
        width = max(1, end_column - column)
        by_line.setdefault(line, []).append((column, width, visible(label.message)))
    return by_line


def _line_block(line: int, raw: str, marks: list[_Mark], gutter: int) -> list[str]:
    """One source line, its carets with the last label's message, then the
    other messages each on a line of its own, rightmost first."""
    text, marks = _clip(*_display(raw, marks))
    marks = sorted(marks)
    pad = "  " + " " * gutter
    caret_line = ""
    for column, width, _ in marks:
        caret_line = caret_line.ljust(column - 1) + "^" * width
    last_message = marks[-1][2]
    if last_message:
        caret_line += " " + last_message
    out = [f"  {line:>{gutter}} | {text}", f"{pad} | {caret_line}"]
    for column, _, message in reversed(marks[:-1]):
        if message:
            out.append(f"{pad} | " + " " * (column - 1) + message)
    return out


def _display(raw: str, marks: list[_Mark]) -> tuple[str, list[_Mark]]:
    """The line as shown (tabs as spaces, controls escaped), and the marks
    moved to where their characters landed: an escape such as `\\u202e` is
    wider than the character it stands for."""
    text, columns = visible_with_columns(raw)
    if len(text) == len(raw):
        return text, marks
    last = len(raw)

    def shown(offset: int) -> int:
        # A mark may reach past the end of the line (a missing `]`).
        return columns[min(offset, last)] + max(0, offset - last)

    moved = []
    for column, width, message in marks:
        start = shown(column - 1)
        moved.append((start + 1, max(1, shown(column - 1 + width) - start), message))
    return text, moved


def _clip(text: str, marks: list[_Mark]) -> tuple[str, list[_Mark]]:
    """A very long line is shown around its first label only."""
    if len(text) <= 200:
        return text, marks
    first = min(c for c, _, _ in marks)
    start = max(0, first - 60)
    clipped = ("…" if start else "") + text[start : start + 140] + "…"
    shift = start - (1 if start else 0)
    return clipped, [(c - shift, w, m) for c, w, m in marks]


def notes(diagnostic: Diagnostic, gutter: int = 1) -> list[str]:
    pad = " " * (gutter + 1)
    lines = []
    if diagnostic.context:
        lines.append(f"{pad}= note: {visible(diagnostic.context)}")
    lines.extend(f"{pad}= help: {visible(hint)}" for hint in diagnostic.hints)
    return lines


def render_plain(source: Source, diagnostic: Diagnostic) -> str:
    body = snippet(source, diagnostic)
    gutter = len(body[0].split(" | ")[0].strip()) if body else 1
    return "\n".join([_headline(source, diagnostic), *body, *notes(diagnostic, gutter)])
