"""`for` blocks: the last step of the syntax stage, parsed lines -> statements.

`parse.py` parses each logical line on its own; this module nests the lines
under each `for` header by indentation (spec section 7) into `ast.ForBlock`s
and reports indentation that belongs to no block. Lines that failed to parse
are left out: a broken `for` header still owns its indented body (so the body
is not reported again as unexpected indentation), but the body is left out
with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.source import Span
from shapecheck.syntax import ast
from shapecheck.syntax.lines import LogicalLine

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass


@dataclass(frozen=True)
class ParsedLine:
    """A logical line and what it parsed to (None if it failed to parse)."""

    line: LogicalLine
    statement: ast.LineStatement | ast.ForHeader | None
    opens_block: bool  # a `for` header, parsed or not


def group_blocks(
    parsed: Sequence[ParsedLine],
) -> tuple[tuple[ast.Statement, ...], list[Diagnostic]]:
    """The statements of a file, with the lines under each `for` header as its body."""
    grouper = _Grouper(parsed)
    statements: list[ast.Statement] = []
    while grouper.position < len(parsed):
        statements.extend(grouper.block(0))
    return tuple(statements), grouper.problems


class _Grouper:
    """Reads the parsed lines once, front to back, nesting them by indentation."""

    def __init__(self, parsed: Sequence[ParsedLine]) -> None:
        self.parsed = parsed
        self.position = 0
        self.problems: list[Diagnostic] = []

    def _next_indent(self) -> int | None:
        if self.position < len(self.parsed):
            return self.parsed[self.position].line.indent
        return None

    def block(self, level: int) -> list[ast.Statement]:
        """The statements at exactly `level`, each header with its deeper body.

        Stops at the first line indented less than `level`.
        """
        statements: list[ast.Statement] = []
        while (indent := self._next_indent()) is not None and indent >= level:
            item = self.parsed[self.position]
            self.position += 1
            following = self._next_indent()
            if indent > level:
                self._unexpected_indentation(item.line)
            elif not item.opens_block:
                if item.statement is not None:
                    assert not isinstance(item.statement, ast.ForHeader)
                    statements.append(item.statement)
            elif following is not None and following > level:
                body = tuple(self.block(following))
                if isinstance(item.statement, ast.ForHeader):
                    statements.append(ast.ForBlock(item.statement, body, item.statement.span))
            elif item.statement is not None:
                self._no_body(item.line)
        return statements

    def _unexpected_indentation(self, line: LogicalLine) -> None:
        self.problems.append(
            diagnostic(
                Code.E010,
                Span(line.span.start, line.span.start + 1),
                "unexpected indentation",
                hints=["only the body of a `for` block is indented, all by the same amount"],
            )
        )

    def _no_body(self, line: LogicalLine) -> None:
        self.problems.append(
            diagnostic(
                Code.E013,
                line.span,
                "this `for` has no indented body",
                hints=["indent the statements to repeat on the lines below the `for`"],
            )
        )
