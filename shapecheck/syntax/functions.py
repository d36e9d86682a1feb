"""Syntax errors of opaque functions (spec 9.5): primes and calls, worded.

`errors.py` asks these detectors first about a rejected line, with the names
the whole file declares (`notation.FileNames`): primes after a name that no
`fn` statement declares (E060; a matrix's `W'` stays the transpose of E021
and a built-in's `relu'` E025, both in `notation.py`), an `fn` function's
primes without its parenthesised argument (E061), a second argument
(E027), and an `fn` statement given a shape or a value (E062).
"""

from __future__ import annotations

import re

from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.syntax.keywords import keyword_as_name
from shapecheck.syntax.notation import Rejection

# A name and the primes after it, ending where the parser stopped. Every
# pattern searched for at the end of a text starts after no name character
# (`_WORD_START`): a search tries each start in turn, and without it a long
# run of name characters costs the square of its length.
_WORD_START = r"(?<![A-Za-z0-9_])"
_PRIMED = re.compile(_WORD_START + r"([A-Za-z_][A-Za-z0-9_]*)('+)\s*$")
# The built-ins, whose primes `notation.py` words with their derivative.
_BUILT_INS = frozenset(
    {"exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "sqrt", "abs", "step", "sign"}
)


def opaque_problem(seen: Rejection) -> Diagnostic | None:
    """E060, E061 or E027 for a line rejected at `seen.at`, or None."""
    return (
        _declaration_with_more(seen)
        or _prime_on_other_name(seen)
        or _prime_without_call(seen)
        or _second_argument(seen)
    )


def _declaration_with_more(seen: Rejection) -> Diagnostic | None:
    """`fn f[n]`, `fn f = 3`, `fn f(x)`: an `fn` statement names functions only;
    `fn = 3`, `fn[i] = ...`: a first-edition array named `fn` (E008)."""
    written = seen.text[seen.at : seen.at + 1]
    keyword = re.match(r"\s*(fn)\s*[=\[]", seen.text)
    if keyword is not None:
        return keyword_as_name("fn", seen.span(keyword.start(1), keyword.end(1)))
    head = re.match(r"\s*fn\s+([A-Za-z_][A-Za-z0-9_]*)", seen.text)
    if head is None or written not in ("[", "=", "("):
        return None
    what = {"[": "a shape", "=": "a value", "(": "an argument"}[written]
    return diagnostic(
        Code.E062,
        seen.span(seen.at, seen.at + 1),
        f"`fn` declares names of functions only, without {what}",
        hints=[
            "write `fn f, g`; a function applies entry by entry to one value "
            "wherever it is called: `y[i] = f(x[i])`"
        ],
    )


def _prime_on_other_name(seen: Rejection) -> Diagnostic | None:
    """`h'(x)` where `h` is not an `fn`: only declared functions take primes."""
    primes = re.match(r"'+", seen.text[seen.at :])
    before = re.search(_WORD_START + r"([A-Za-z_][A-Za-z0-9_]*)$", seen.text[: seen.at])
    if primes is None or before is None:
        return None
    name = before.group(1)
    after = seen.text[seen.at + primes.end() :].lstrip()
    if name in _BUILT_INS or seen.names.rank(name) == 2 or not after.startswith("("):
        return None  # a built-in's derivative or a transpose (`notation.py`)
    written = name + primes.group()
    if seen.names.is_known(name):
        hint = (
            f"`{name}` is an array or a size of this file; primes follow only the name "
            "of an `fn` function (docs/language.md, 12.13)"
        )
    else:
        hint = (
            f"an unspecified smooth function is named by an `fn` statement above its "
            f"first use, `fn {name}`; then `{written}(...)` is its derivative "
            "(docs/language.md, 12.13)"
        )
    return diagnostic(
        Code.E060,
        seen.span(before.start(1), seen.at + primes.end()),
        f"`{written}`: only an `fn` function takes primes",
        hints=[hint],
    )


def _prime_without_call(seen: Rejection) -> Diagnostic | None:
    """`f' x[i]`, `y = f'`: a derivative of an `fn` function needs its argument."""
    primed = _PRIMED.search(seen.text[: seen.at])
    if primed is None or primed.group(1) not in seen.names.functions:
        return None
    if seen.text[seen.at : seen.at + 1] == "(":
        return None
    written = primed.group(1) + primed.group(2)
    return diagnostic(
        Code.E061,
        seen.span(primed.start(1), primed.end(2)),
        f"`{written}` needs its argument in parentheses",
        hints=[f"write `{written}(...)`: the derivative of `{primed.group(1)}` at that value"],
    )


def _second_argument(seen: Rejection) -> Diagnostic | None:
    """`f(x[i], v[i])`: an `fn` function takes one argument (E027)."""
    if seen.text[seen.at : seen.at + 1] != ",":
        return None
    opening = open_parenthesis(seen.text[: seen.at])
    if opening is None:
        return None
    primed = re.search(_WORD_START + r"([A-Za-z_][A-Za-z0-9_]*)('*)\s*$", seen.text[:opening])
    if primed is None or primed.group(1) not in seen.names.functions:
        return None
    written = primed.group(1) + primed.group(2)
    return diagnostic(
        Code.E027,
        seen.span(seen.at, seen.at + 1),
        f"`{written}` takes one argument",
        hints=[
            "an `fn` function applies entry by entry to one value; "
            "write the arithmetic that combines values inside it"
        ],
    )


def open_parenthesis(text: str) -> int | None:
    """Where the innermost bracket still open at the end of `text` is, if a `(`."""
    stack: list[int] = []
    for position, char in enumerate(text):
        if char in "([":
            stack.append(position)
        elif char in ")]" and stack:
            stack.pop()
    return stack[-1] if stack and text[stack[-1]] == "(" else None
