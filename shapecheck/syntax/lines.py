"""Logical lines: the first step of the syntax stage, source text -> one span per statement.

A statement is one line, continued while a `(` or `[` is open (spec section 1).
This module finds those logical lines and their indentation, so that the
parser can parse every statement on its own and report every broken one
instead of stopping at the first; `blocks.py` later nests them under `for`
headers. There are no string literals in the language, so a comment is simply
`#` to the end of the line.

A bracket left open would swallow the rest of the file; a line that is not
indented past the statement's own first line and plainly starts a new statement
(a keyword, or `name ... =`) therefore ends the statement, and the open bracket
is reported where it was opened.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING

from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.source import Source, Span

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use, their other methods on first call (deferred.py)
    from shapecheck.deferred import dataclass

MAX_STATEMENT_CHARS = 20_000
MAX_BRACKET_DEPTH = 64

_LINE_END = re.compile(r"\r\n?|\n")
_OPENERS = {"(": ")", "[": "]"}
_CLOSERS = {")": "(", "]": "["}
_STATEMENT_KEYWORD = re.compile(r"(dim|input|param|derive|layout|for)(?![A-Za-z0-9_{])")
# `NAME[...] =` or `dA/dB[...] =` at the start of a line: a definition or claim.
# A comparison (`a <= b`, `a == b`) at the start of a continued line is no `=`.
_DEFINITION_START = re.compile(
    r"[A-Za-z_∂][^=()\[\]#\r\n]*(\[[^\[\]()#\r\n]*\])?\s*(?<![<>!=])=(?!=)"
)

# The brackets open at some point of a statement, each with its offset in the file.
_OpenBrackets = list[tuple[str, int]]


@dataclass(frozen=True)
class LogicalLine:
    """One statement's text: `span` covers it from its first non-blank character."""

    span: Span
    indent: int  # width of the leading white space of its first physical line


def split_lines(
    source: Source,
) -> tuple[list[LogicalLine], list[Span], list[Diagnostic]]:
    """Logical lines of a file, skipping blank and comment-only lines.

    Also returns the spans of statements dropped as unparseable (an unclosed
    bracket, too deep, too long), so the parser can tell what they defined.
    """
    text = source.text
    physical = _PhysicalLines(text)
    lines: list[LogicalLine] = []
    dropped: list[Span] = []
    problems: list[Diagnostic] = []
    index = 0
    while index < len(physical.lines):
        body = physical.body(index)
        content = body.lstrip(" \t\f")
        if not content or content.startswith("#"):
            index += 1
            continue
        indent = _indent_width(body[: len(body) - len(content)])
        start = physical.starts[index] + len(body) - len(content)
        index, still_open = _last_physical_line(physical, index, start, indent)
        end = physical.end(index)
        if still_open or end - start > MAX_STATEMENT_CHARS:
            dropped.append(Span(start, end))
            problems.extend(_dropped_problems(still_open, start, end))
        else:
            lines.append(LogicalLine(Span(start, end), indent))
        index += 1
    return lines, dropped, problems


class _PhysicalLines:
    """The file's physical lines (without their line ends) and where each starts in the file.

    `\r\n`, `\n` and a lone `\r` (old Mac files) all end a line: reading a
    CR-only file as one line would let a comment on its first line swallow
    the whole file.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        if "\r" not in text:
            self.lines = text.split("\n")
            self.starts = [0, *itertools.accumulate(len(line) + 1 for line in self.lines)]
            return
        self.lines = []
        self.starts = []
        position = 0
        for end in _LINE_END.finditer(text):
            self.lines.append(text[position : end.start()])
            self.starts.append(position)
            position = end.end()
        self.lines.append(text[position:])
        self.starts.append(position)

    def body(self, index: int) -> str:
        return self.lines[index]

    def end(self, index: int) -> int:
        return self.starts[index] + len(self.lines[index])


def _last_physical_line(
    physical: _PhysicalLines, index: int, start: int, indent: int
) -> tuple[int, _OpenBrackets]:
    """The last physical line of the statement that starts at `start` on line `index`.

    Also returns the brackets still open at its end (more than
    MAX_BRACKET_DEPTH of them if the statement nests too deep).
    """
    still_open: _OpenBrackets = []
    position = start
    while True:
        _track_brackets(physical.text[position : physical.end(index)], position, still_open)
        if len(still_open) > MAX_BRACKET_DEPTH or not still_open:
            return index, still_open
        if index + 1 >= len(physical.lines) or _ends_statement(physical.body(index + 1), indent):
            return index, still_open
        index += 1
        position = physical.starts[index]


def _track_brackets(segment: str, at: int, still_open: _OpenBrackets) -> None:
    """Open and close the brackets of `segment` (at offset `at`), up to a comment.

    Stops as soon as the brackets nest too deep. An unmatched closer is left
    for the parser to report.
    """
    for k, char in enumerate(segment):
        if char == "#":
            return
        if char in _OPENERS:
            still_open.append((char, at + k))
            if len(still_open) > MAX_BRACKET_DEPTH:
                return
        elif char in _CLOSERS and still_open and still_open[-1][0] == _CLOSERS[char]:
            still_open.pop()


def _ends_statement(following: str, indent: int) -> bool:
    # A line that plainly starts a new statement, not indented past the open
    # statement's first line, ends it even inside a bracket.
    content = following.lstrip(" \t\f")
    following_indent = _indent_width(following[: len(following) - len(content)])
    return bool(content) and following_indent <= indent and _starts_new_statement(following)


def _dropped_problems(still_open: _OpenBrackets, start: int, end: int) -> list[Diagnostic]:
    """Why the statement from `start` to `end` is dropped instead of parsed."""
    if len(still_open) > MAX_BRACKET_DEPTH:
        at = still_open[-1][1]
        return [
            diagnostic(
                Code.E011,
                Span(at, at + 1),
                f"brackets nested more than {MAX_BRACKET_DEPTH} deep",
                hints=["split the expression into several definitions"],
            )
        ]
    if still_open:
        # Report each bracket where it was opened; the statement is not
        # parsed, since every later token would be an error.
        return [
            diagnostic(
                Code.E006,
                Span(at, at + 1),
                f"this `{char}` is never closed",
                hints=[f"add the matching `{_OPENERS[char]}`"],
            )
            for char, at in still_open
        ]
    return [
        diagnostic(
            Code.E012,
            Span(start, start + 1),
            f"statement is {end - start:,} characters long; the limit is {MAX_STATEMENT_CHARS:,}",
            hints=["split it into several definitions"],
        )
    ]


def _indent_width(whitespace: str) -> int:
    return len(whitespace.expandtabs(8))


def _starts_new_statement(line: str) -> bool:
    stripped = line.lstrip(" \t\f")
    return bool(_STATEMENT_KEYWORD.match(stripped) or _DEFINITION_START.match(stripped))
