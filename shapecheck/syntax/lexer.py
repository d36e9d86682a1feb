"""The lexer of the syntax stage: one compiled regex over the grammar's own terminals.

`lalr.py` runs it over each logical line and feeds the tokens to the LALR
tables; `_tables.py` holds the regex, built from `grammar/idx.lark` by
`tables.py`, so the grammar file stays the only definition of every terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from shapecheck.syntax import _tables


class Token(NamedTuple):
    """A terminal of the grammar and where it stands in its line (character offsets)."""

    type: str
    value: str
    start_pos: int
    end_pos: int


class NoTerminal(Exception):
    """No terminal of the grammar matches at `position` of the line."""

    def __init__(self, position: int) -> None:
        super().__init__(f"no terminal matches at {position}")
        self.position = position


# Lark's basic lexer tries terminals by priority, then longest possible match,
# then longest pattern; the alternation lists them in that order, so the first
# group that matches is the token Lark would take, with one `re.match` per
# token instead of Lark's ~7 µs of bookkeeping.
SCAN = re.compile(_tables.TOKEN_PATTERN).match
IGNORE = frozenset(_tables.IGNORE)


def lex(text: str) -> Iterator[Token]:
    """The tokens of one logical line, comments and white space left out."""
    scan, ignore = SCAN, IGNORE
    position, length = 0, len(text)
    while position < length:
        found = scan(text, position)
        if found is None:
            raise NoTerminal(position)
        kind = found.lastgroup or ""
        end = found.end()
        if kind not in ignore:
            yield Token(kind, found.group(), position, end)
        position = end
