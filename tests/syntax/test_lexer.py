"""The lexer: one regex over the grammar's terminals, token for token Lark's own lexer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lark import Lark
from lark.exceptions import UnexpectedCharacters
from support import sample_lines

from shapecheck.syntax.grammar import grammar_text
from shapecheck.syntax.lexer import NoTerminal, lex

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

Tokens = list[tuple[str, str, int, int]]


def _collect(tokens: Callable[[], Iterator[Any]]) -> Tokens:
    # A character no terminal matches ends the list with its position.
    out: Tokens = []
    try:
        out.extend((t.type, t.value, t.start_pos or 0, t.end_pos or 0) for t in tokens())
    except NoTerminal as error:
        out.append(("no terminal", "", error.position, 0))
    except UnexpectedCharacters as error:
        out.append(("no terminal", "", error.pos_in_stream or 0, 0))
    return out


def scanned(text: str) -> Tokens:
    return _collect(lambda: lex(text))


def lark_basic(text: str) -> Tokens:
    return _collect(lambda: _basic_lark().lex(text))


_BASIC: list[Lark] = []


def _basic_lark() -> Lark:
    if not _BASIC:
        _BASIC.append(Lark(grammar_text(), parser="lalr", lexer="basic"))
    return _BASIC[0]


def test_tokens_of_a_line_with_positions() -> None:
    assert scanned("Y[i] = 2 x[i]  # note") == [
        ("NAME", "Y", 0, 1),
        ("LSQB", "[", 1, 2),
        ("NAME", "i", 2, 3),
        ("RSQB", "]", 3, 4),
        ("EQUAL", "=", 5, 6),
        ("NUMBER", "2", 7, 8),
        ("NAME", "x", 9, 10),
        ("LSQB", "[", 10, 11),
        ("NAME", "i", 11, 12),
        ("RSQB", "]", 12, 13),
    ]


def test_keywords_only_as_whole_words() -> None:
    assert [t[0] for t in scanned("dim dimension sum summary for for_x")] == [
        "DIM",
        "NAME",
        "SUM",
        "NAME",
        "FOR",
        "NAME",
    ]


def test_derivative_is_one_token_only_without_spaces() -> None:
    assert [t[0] for t in scanned("dL/dW dL / dW")] == ["DERIV", "NAME", "DIV", "NAME"]


def test_range_is_not_a_number_with_a_dot() -> None:
    assert [t[:2] for t in scanned("1..3")] == [("NUMBER", "1"), ("RANGE", ".."), ("NUMBER", "3")]


def test_a_character_no_terminal_matches_stops_the_tokens() -> None:
    assert scanned("y = 2.") == [
        ("NAME", "y", 0, 1),
        ("EQUAL", "=", 2, 3),
        ("NUMBER", "2", 4, 5),
        ("no terminal", "", 5, 0),
    ]


@pytest.mark.parametrize(
    "text",
    [
        *sample_lines(),
        "y = δ[i, j] Σ[j](a[j]) · b × c ** 2 ^ d",
        "∂L/∂W[j] = exp(a) - .5e-3 + 1.25E+2",
        "for t in 1..n:",
        "s{t-1}[i] = x{t}[i]",
        "y = $a",
        "y = a − b",
    ],
)
def test_same_tokens_as_lark_basic_lexer(text: str) -> None:
    assert scanned(text) == lark_basic(text)
