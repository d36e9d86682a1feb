"""Syntax-error wording for the syntax stage: a rejected line -> one worded Diagnostic.

`parse.py` calls `syntax_problem` when the lexer or the parser rejects a
logical line. The
message names what was expected in words (every terminal of the grammar has
one below), and the common mistakes get a specific code and a `help:` line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.source import Span
from shapecheck.syntax.lalr import Rejected
from shapecheck.syntax.lexer import NoTerminal, Token

_KEYWORD_TOKENS = frozenset(
    [
        "DIM",
        "INPUT",
        "PARAM",
        "DERIVE",
        "FOR",
        "IN",
        "LAYOUT",
        "POSITIVE",
        "SUM",
        "DELTA",
        "LOSS",
        "FUNC",
        "MAX",
        "MIN",
    ]
)

# Terminal names in words, for "expected ..." lists.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "DERIV": "a derivative such as `dL/dW`",
    "FUNC": "a function name",
    "DIM": "`dim`",
    "INPUT": "`input`",
    "PARAM": "`param`",
    "DERIVE": "`derive`",
    "FOR": "`for`",
    "IN": "`in`",
    "LAYOUT": "`layout`",
    "POSITIVE": "`positive`",
    "SUM": "`sum`",
    "DELTA": "`delta`",
    "LOSS": "`loss`",
    "MAX": "`max`",
    "MIN": "`min`",
    "COMPARE": "a comparison",
    "RANGE": "`..`",
    "POW": "`^`",
    "MUL": "`*`",
    "DIV": "`/`",
    "PLUS": "`+`",
    "MINUS": "`-`",
    "EQUAL": "`=`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "$END": "the end of the statement",
}
_ATOM_STARTS = frozenset(
    {"NAME", "NUMBER", "DERIV", "FUNC", "MAX", "MIN", "LOSS", "SUM", "DELTA", "LPAR"}
)

# Characters that are not in the language, with what to write instead.
_CHARACTER_HINTS = {
    "−": "use the ASCII minus `-`",
    "’": "names are ASCII letters, digits and `_`",
    "'": "there are no primes: name the array, e.g. `dY`",
    "$": "there are no variables with `$`",
}


def syntax_problem(error: NoTerminal | Rejected, text: str, offset: int) -> Diagnostic:
    """Word the rejection of one statement (`text`, starting at `offset`) as a diagnostic."""
    if isinstance(error, NoTerminal):
        return _unexpected_character(error, text, offset)
    return _unexpected_token(_Unexpected.of(error, text, offset))


# ---- a character no terminal matches


def _unexpected_character(error: NoTerminal, text: str, offset: int) -> Diagnostic:
    at = error.position
    span = Span(offset + at, offset + at + 1)
    char = text[at]
    if char == "." and at > 0 and text[at - 1].isdigit():
        digits = re.search(r"[0-9.]*$", text[:at])
        number = digits.group(0) if digits else "1"
        return diagnostic(
            Code.E009,
            span,
            "a number cannot end with `.`",
            hints=[f"write `{number}` or `{number}.0`"],
        )
    if char in "{}":
        return diagnostic(
            Code.E112,
            span,
            f"unexpected `{char}`",
            hints=["loop templates look like `x{t}`, `s{t-1}` inside a name"],
        )
    if char in ")]":
        return diagnostic(Code.E007, span, f"this `{char}` closes nothing")
    hint = _CHARACTER_HINTS.get(char)
    return diagnostic(
        Code.E002,
        span,
        f"unexpected character `{char}`",
        hints=[hint] if hint else [],
    )


# ---- a token the grammar does not allow where it stands


@dataclass(frozen=True)
class _Unexpected:
    """An unexpected token, with what each mistake rule below needs to know."""

    token: Token
    expected: frozenset[str]
    text: str  # the statement
    start: int  # where the token starts in `text`
    span: Span  # the token in the file
    found: str  # the token in words
    first_word: str  # of the statement

    @classmethod
    def of(cls, error: Rejected, text: str, offset: int) -> _Unexpected:
        token = error.token
        start = len(text.rstrip()) if token.type == "$END" else token.start_pos
        end = start + 1 if token.type == "$END" else token.end_pos
        return cls(
            token=token,
            expected=error.expected,
            text=text,
            start=start,
            span=Span(offset + start, offset + max(end, start + 1)),
            found=_describe(token),
            first_word=text.split(None, 1)[0] if text.split() else "",
        )


def _keyword_as_name(seen: _Unexpected) -> Diagnostic | None:
    if seen.token.type not in _KEYWORD_TOKENS or "NAME" not in seen.expected:
        return None
    return diagnostic(
        Code.E008,
        seen.span,
        f"`{seen.token.value}` is a keyword and cannot be used as a name",
        hints=["choose another name for the array or index"],
    )


def _closes_nothing(seen: _Unexpected) -> Diagnostic | None:
    if seen.token.type not in ("RPAR", "RSQB") or _open_count(
        seen.text[: seen.start], seen.token.value
    ):
        return None
    return diagnostic(Code.E007, seen.span, f"this `{seen.token.value}` closes nothing")


def _unclosed_index_list(seen: _Unexpected) -> Diagnostic | None:
    if not (seen.expected <= {"COMMA", "RSQB"} and "RSQB" in seen.expected):
        return None
    return diagnostic(
        Code.E004,
        seen.span,
        f"expected `,` or `]` in the index list, found {seen.found}",
        hints=["close the index list with `]`; indices are separated by `,`"],
    )


def _spaced_derivative(seen: _Unexpected) -> Diagnostic | None:
    if "DERIV" not in seen.expected or seen.first_word != "derive":
        return None
    return diagnostic(
        Code.E014,
        seen.span,
        f"expected a derivative such as `dL/dW`, found {seen.found}",
        hints=["write a derivative as `dA/dB` with no spaces around `/`"],
    )


def _for_body_on_header(seen: _Unexpected) -> Diagnostic | None:
    if seen.first_word != "for" or seen.expected != {"$END"}:
        return None
    return diagnostic(
        Code.E013, seen.span, "the body of a `for` goes on the lines below it, indented"
    )


def _missing_equals(seen: _Unexpected) -> Diagnostic | None:
    if "EQUAL" not in seen.expected or seen.token.type not in _ATOM_STARTS | {"MINUS"}:
        return None
    return diagnostic(
        Code.E005,
        seen.span,
        f"missing `=`: expected `=` before {seen.found}",
        hints=["a definition reads `Y[i, k] = expression`"],
    )


def _misplaced_comparison(seen: _Unexpected) -> Diagnostic | None:
    """E016: a comparison where only an index or an operand may stand."""
    if seen.token.type != "COMPARE":
        return None
    inside_index_list = _open_count(seen.text[: seen.start], "]") > 0
    where = (
        "an index list holds indices, not conditions; a mask is a factor of its own: "
        "`X[i, j] (j <= i)`"
        if inside_index_list
        else "a comparison is a whole right-hand side, a whole argument or `sum` body, "
        "or stands in parentheses: `(a > b)`"
    )
    return diagnostic(
        Code.E016,
        seen.span,
        f"a comparison cannot stand here: unexpected `{seen.token.value}`",
        hints=[where],
    )


def _missing_bracket_at_end(seen: _Unexpected) -> Diagnostic | None:
    if seen.token.type != "$END" or "RSQB" not in seen.expected:
        return None
    return diagnostic(Code.E004, seen.span, "missing `]` at the end of the statement")


# The common mistakes, most specific first; the first that applies words the error.
_MISTAKES: tuple[Callable[[_Unexpected], Diagnostic | None], ...] = (
    _keyword_as_name,
    _misplaced_comparison,
    _closes_nothing,
    _unclosed_index_list,
    _spaced_derivative,
    _for_body_on_header,
    _missing_equals,
    _missing_bracket_at_end,
)


def _unexpected_token(seen: _Unexpected) -> Diagnostic:
    for mistake in _MISTAKES:
        problem = mistake(seen)
        if problem is not None:
            return problem
    return diagnostic(
        Code.E003, seen.span, f"unexpected {seen.found}; expected {_words(seen.expected)}"
    )


def _describe(token: Token) -> str:
    if token.type == "$END":
        return "the end of the statement"
    if token.type == "NAME":
        return f"name `{token.value}`"
    if token.type == "NUMBER":
        return f"number `{token.value}`"
    if token.type in _KEYWORD_TOKENS:
        return f"keyword `{token.value}`"
    return f"`{token.value}`"


def _words(expected: frozenset[str]) -> str:
    names = sorted({_TERMINAL_WORDS.get(name, name) for name in expected})
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _open_count(text: str, closer: str) -> int:
    opener = "(" if closer == ")" else "["
    return max(0, text.count(opener) - text.count(closer))
