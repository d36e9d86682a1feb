"""The lexer of the syntax stage: one compiled regex over the grammar's own terminals.

`grammar.py` hands this class to Lark, which calls it once per logical line
and feeds the tokens to the LALR parser; the grammar file stays the only
definition of every terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedCharacters
from lark.lexer import Lexer


class ScannerLexer(Lexer):
    """Lark's own terminals, matched by one compiled regular expression.

    Lark's basic lexer spends ~7 µs per token on bookkeeping (line counting,
    state objects); statements are short and positions are all we need, so
    this lexer matches the same terminals, in Lark's own order of precedence
    (priority, then longest possible match, then longest pattern), with one
    `re.match` per token.
    """

    def __init__(self, lexer_conf: Any) -> None:
        terminals = sorted(
            lexer_conf.terminals,
            key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
        )
        self._scan = re.compile(
            "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals)
        ).match
        self._ignore = frozenset(lexer_conf.ignore)

    def lex(self, text: str) -> Iterator[Token]:  # type: ignore[override]
        scan, ignore = self._scan, self._ignore
        position, length = 0, len(text)
        while position < length:
            found = scan(text, position)
            if found is None:
                raise UnexpectedCharacters(text, position, 1, position + 1)  # type: ignore[no-untyped-call]
            kind = found.lastgroup or ""
            end = found.end()
            if kind not in ignore:
                yield Token(kind, found.group(), position, 1, position + 1, 1, end + 1, end)
            position = end
