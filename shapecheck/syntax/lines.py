"""Logical lines and `for` blocks: the layer below the grammar.

A statement is one line, continued while a `(` or `[` is open (spec section 1).
This module finds those logical lines and their indentation, and groups the
lines under each `for` header into a block, so that the parser can parse every
statement on its own and report every broken one instead of stopping at the
first. There are no string literals in the language, so a comment is simply
`#` to the end of the line.

A bracket left open would swallow the rest of the file; a line that is not
indented past the statement's own first line and plainly starts a new statement
(a keyword, or `name ... =`) therefore ends the statement, and the open bracket
is reported where it was opened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shapecheck.diagnostics import Diagnostic, diagnostic
from shapecheck.source import Source, Span

MAX_STATEMENT_CHARS = 20_000
MAX_BRACKET_DEPTH = 64

_OPENERS = {"(": ")", "[": "]"}
_CLOSERS = {")": "(", "]": "["}
_STATEMENT_KEYWORD = re.compile(r"(dim|input|param|derive|layout|for)(?![A-Za-z0-9_{])")
# `NAME[...] =` or `dA/dB[...] =` at the start of a line: a definition or claim.
_DEFINITION_START = re.compile(r"[A-Za-z_∂][^=()\[\]#\n]*(\[[^\[\]()#\n]*\])?\s*=")


@dataclass(frozen=True)
class LogicalLine:
    """One statement's text: `span` covers it from its first non-blank character."""

    span: Span
    indent: int  # width of the leading white space of its first physical line


@dataclass(frozen=True)
class LineBlock:
    """A `for` header line and the lines (or nested blocks) indented under it."""

    header: LogicalLine
    body: tuple[LineNode, ...]


LineNode = LogicalLine | LineBlock


def _indent_width(whitespace: str) -> int:
    return len(whitespace.expandtabs(8))


def _starts_new_statement(line: str) -> bool:
    stripped = line.lstrip(" \t\f")
    return bool(_STATEMENT_KEYWORD.match(stripped) or _DEFINITION_START.match(stripped))


def split_lines(
    source: Source,
) -> tuple[list[LogicalLine], list[Span], list[Diagnostic]]:
    """Logical lines of a file, skipping blank and comment-only lines.

    Also returns the spans of statements dropped as unparseable (an unclosed
    bracket, too deep, too long), so the parser can tell what they defined.
    """
    text = source.text
    physical = text.split("\n")
    lines: list[LogicalLine] = []
    dropped: list[Span] = []
    problems: list[Diagnostic] = []
    offset = 0  # start of the current physical line
    index = 0
    while index < len(physical):
        raw = physical[index]
        body = raw.rstrip("\r")
        content = body.lstrip(" \t\f")
        if not content or content.startswith("#"):
            offset += len(raw) + 1
            index += 1
            continue
        indent = _indent_width(body[: len(body) - len(content)])
        start = offset + len(body) - len(content)
        stack: list[tuple[str, int]] = []  # open brackets with their offsets
        position = start
        line_end = offset + len(body)
        while True:
            # Scan the rest of this physical line, tracking brackets.
            column_text = text[position:line_end]
            for k, char in enumerate(column_text):
                if char == "#":
                    break
                if char in _OPENERS:
                    stack.append((char, position + k))
                    if len(stack) > MAX_BRACKET_DEPTH:
                        break
                elif char in _CLOSERS and stack and stack[-1][0] == _CLOSERS[char]:
                    stack.pop()
                # An unmatched closer is left for the parser to report.
            if len(stack) > MAX_BRACKET_DEPTH:
                break
            if not stack or index + 1 >= len(physical):
                break
            following = physical[index + 1].rstrip("\r")
            following_content = following.lstrip(" \t\f")
            following_indent = _indent_width(following[: len(following) - len(following_content)])
            if (
                following_content
                and following_indent <= indent
                and _starts_new_statement(following)
            ):
                break
            offset += len(raw) + 1
            index += 1
            raw = physical[index]
            position = offset
            line_end = offset + len(raw.rstrip("\r"))
        end = line_end
        if stack or end - start > MAX_STATEMENT_CHARS:
            dropped.append(Span(start, end))
        if len(stack) > MAX_BRACKET_DEPTH:
            problems.append(
                diagnostic(
                    "E011",
                    Span(stack[-1][1], stack[-1][1] + 1),
                    f"brackets nested more than {MAX_BRACKET_DEPTH} deep",
                    hints=["split the expression into several definitions"],
                )
            )
            # Skip the rest of this physical line; the statement is dropped.
        elif stack:
            # Brackets still open: report each where it was opened. The
            # statement is not parsed (every later token would be an error).
            for char, at in stack:
                problems.append(
                    diagnostic(
                        "E006",
                        Span(at, at + 1),
                        f"this `{char}` is never closed",
                        hints=[f"add the matching `{_OPENERS[char]}`"],
                    )
                )
        elif end - start > MAX_STATEMENT_CHARS:
            problems.append(
                diagnostic(
                    "E012",
                    Span(start, start + 1),
                    f"statement is {end - start:,} characters long; the limit is "
                    f"{MAX_STATEMENT_CHARS:,}",
                    hints=["split it into several definitions"],
                )
            )
        else:
            lines.append(LogicalLine(Span(start, end), indent))
        offset += len(raw) + 1
        index += 1
    return lines, dropped, problems


def group_blocks(
    lines: list[LogicalLine], is_for_header: list[bool], broken: list[bool]
) -> tuple[list[LineNode], list[Diagnostic]]:
    """Nest the lines under `for` headers by indentation (spec section 7).

    `broken` marks lines that failed to parse: a broken header still owns
    its body, but is not reported again for lacking one.
    """
    problems: list[Diagnostic] = []
    position = 0

    def block(level: int) -> list[LineNode]:
        # The lines at exactly `level`, each header with its deeper body;
        # stops at the first line indented less than `level`.
        nonlocal position
        nodes: list[LineNode] = []
        while position < len(lines) and lines[position].indent >= level:
            line = lines[position]
            position += 1
            if line.indent > level:
                problems.append(
                    diagnostic(
                        "E010",
                        Span(line.span.start, line.span.start + 1),
                        "unexpected indentation",
                        hints=[
                            "only the body of a `for` block is indented, all by the same amount"
                        ],
                    )
                )
            elif not is_for_header[position - 1]:
                nodes.append(line)
            elif position < len(lines) and lines[position].indent > level:
                nodes.append(LineBlock(line, tuple(block(lines[position].indent))))
            elif not broken[position - 1]:
                problems.append(
                    diagnostic(
                        "E013",
                        line.span,
                        "this `for` has no indented body",
                        hints=["indent the statements to repeat on the lines below the `for`"],
                    )
                )
        return nodes

    nodes: list[LineNode] = []
    while position < len(lines):
        nodes.extend(block(0))
    return nodes, problems
