"""Syntax-error wording for the syntax stage: a rejected line -> one worded Diagnostic.

`parse.py` calls `syntax_problem` when the lexer or the parser rejects a
logical line. The
message names what was expected in words (every terminal of the grammar has
one below), and the common mistakes get a specific code and a `help:` line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.source import Span
from shapecheck.syntax import sigma
from shapecheck.syntax.functions import opaque_problem, open_parenthesis
from shapecheck.syntax.keywords import (
    SECOND_EDITION,
    keyword_as_name,
)
from shapecheck.syntax.lalr import Rejected
from shapecheck.syntax.lexer import NoTerminal, Token, lex
from shapecheck.syntax.notation import FileNames, Rejection, foreign_notation, unknown_call

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass

# Terminal names in words, for "expected ..." lists.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "DERIV": "a derivative such as `dL/dW`",
    "FUNC": "a function name",
    "INDEXED_FUNC": "`softmax`, `logsumexp`, `norm`, `argmax`, `argmin`",
    "DIM": "`dim`",
    "INPUT": "`input`",
    "PARAM": "`param`",
    "DERIVE": "`derive`",
    "FOR": "`for`",
    "IN": "`in`",
    "LAYOUT": "`layout`",
    "POSITIVE": "`positive`",
    "SUM": "`sum`",
    "SIGMA": "`Σ_j`",
    "MEAN": "`mean`",
    "DELTA": "`delta`",
    "LOSS": "`loss`",
    "FN": "`fn`",
    "FN_NAME": "a function declared with `fn`",
    "PRIME": "`'`",
    "MATRIX_FUNC": "`det`, `inv`, `trace`",
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
    {
        "NAME",
        "NUMBER",
        "DERIV",
        "FUNC",
        "INDEXED_FUNC",
        "MAX",
        "MIN",
        "LOSS",
        "FN_NAME",
        "MATRIX_FUNC",
        "SUM",
        "SIGMA",
        "MEAN",
        "DELTA",
        "LPAR",
    }
)
_OPERATORS = frozenset({"PLUS", "MINUS", "MUL", "DIV", "POW"})
_STATEMENT_STARTS = frozenset({"DIM", "INPUT", "PARAM", "FN", "DERIVE", "LAYOUT", "FOR"})
_CLOSERS = {"(": "RPAR", "[": "RSQB"}

# Characters that are not in the language, with what to write instead.
_CHARACTER_HINTS = {
    "−": "use the ASCII minus `-`",
    "’": "names are ASCII letters, digits and `_`",
    "'": "primes follow only the name of an `fn` function (`f'(x)`); "
    "to hold a derivative, name an array, e.g. `dY`",
    "$": "there are no variables with `$`",
}


def syntax_problem(
    error: NoTerminal | Rejected, text: str, offset: int, names: FileNames | None = None
) -> Diagnostic:
    """Word the rejection of one statement (`text`, starting at `offset`) as a diagnostic.

    `names` (what the rest of the file declares) lets a message about numpy,
    LaTeX or matrix notation show the `.idx` way with the file's own arrays.
    """
    at = error.position if isinstance(error, NoTerminal) else _rejected_at(error, text)
    seen = Rejection.of(text, at, offset, names or FileNames())
    tokens = tokens_before(text, at)
    problem = (
        sigma.misuse(text, at, offset)
        or opaque_problem(seen)
        or foreign_notation(seen)
        or unknown_call(seen, tokens)
    )
    if problem is not None:
        return problem
    if isinstance(error, Rejected) and error.token.type == "PRIME":
        # A prime after anything but an `fn` function is a stray character,
        # as it was before primes were tokens.
        return _unexpected_character(NoTerminal(error.token.start_pos), text, offset)
    if isinstance(error, NoTerminal):
        return _unexpected_character(error, text, offset)
    return _unexpected_token(_Unexpected.of(error, text, offset))


def tokens_before(text: str, at: int) -> list[Token]:
    """The tokens of `text` that start before `at` (as far as the lexer gets)."""
    tokens: list[Token] = []
    try:
        for token in lex(text):
            if token.start_pos >= at:
                break
            tokens.append(token)
    except NoTerminal:
        pass
    return tokens


def _rejected_at(error: Rejected, text: str) -> int:
    return len(text.rstrip()) if error.token.type == "$END" else error.token.start_pos


# ---- a character no terminal matches


def _unexpected_character(error: NoTerminal, text: str, offset: int) -> Diagnostic:
    at = error.position
    span = Span(offset + at, offset + at + 1)
    char = text[at]
    if char == "." and at > 0 and text[at - 1].isdigit():
        # Only from the start of the run: see functions._WORD_START.
        digits = re.search(r"(?<![0-9.])[0-9.]*$", text[:at])
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
    if not _is_keyword(seen.token) or "NAME" not in seen.expected:
        return None
    return keyword_as_name(seen.token.value, seen.span)


def _construct_word_as_name(seen: _Unexpected) -> Diagnostic | None:
    """A second-edition construct keyword (`mean`, `softmax`, ...) followed by
    neither its `[` nor its `(`: a first-edition name (E008, with a rename)."""
    if not seen.expected <= {"LSQB", "LPAR"} or seen.token.type in ("LSQB", "LPAR"):
        return None
    before = seen.text[: seen.start].rstrip()
    word = _TRAILING_WORD.search(before)
    if word is None or word.group() not in SECOND_EDITION:
        return None
    # The token's place in the file, less its place in the statement.
    offset = seen.span.start - seen.start
    return keyword_as_name(word.group(), Span(offset + word.start(), offset + word.end()))


_TRAILING_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*$")


def _mean_without_indices(seen: _Unexpected) -> Diagnostic | None:
    """`mean(x[i])`: the indices it averages over are missing."""
    if seen.expected != {"LSQB"} or not seen.text[: seen.start].rstrip().endswith("mean"):
        return None
    return diagnostic(
        Code.E015,
        seen.span,
        "`mean` needs the indices it averages over, in brackets",
        hints=["write `mean[i](x[i])`; several indices: `mean[i, j](X[i, j])`"],
    )


def _open_call(text: str) -> tuple[str, int] | None:
    """The function word of the innermost `(` still open at the end of `text`
    (`step` in `step(x, `, `softmax` in `softmax[k](a, `), and where the `(` is."""
    opening = open_parenthesis(text)
    if opening is None:
        return None
    before = text[:opening].rstrip()
    if before.endswith("]"):  # `softmax[k](`: the word before its brackets
        before = before[: before.rfind("[")].rstrip()
    word = _TRAILING_WORD.search(before)
    return (word.group(), opening) if word else None


# Functions that take exactly one argument (spec 3, 9.2, 9.5).
_ONE_ARGUMENT = frozenset(
    {"exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "sqrt", "abs", "step", "sign"}
    | {"sum", "mean", "softmax", "logsumexp", "norm", "argmax", "argmin", "loss"}
)


def _arity(seen: _Unexpected) -> Diagnostic | None:
    """`step(x, 1)`, `norm[i](a, b)`: a function of one argument given several;
    `max()`: element-wise max or min given none (E017)."""
    call = _open_call(seen.text[: seen.start])
    if call is None:
        return None
    word, _ = call
    if seen.token.type == "COMMA" and word in _ONE_ARGUMENT:
        return diagnostic(
            Code.E027,
            seen.span,
            f"`{word}` takes one argument",
            hints=["write the arithmetic that combines values inside the one argument"],
        )
    if (
        seen.token.type == "RPAR"
        and word in ("max", "min")
        and seen.text[: seen.start].rstrip().endswith("(")
    ):
        return diagnostic(
            Code.E017,
            seen.span,
            f"`{word}` takes exactly two arguments, not 0",
            hints=[f"it compares two values entry by entry, e.g. `{word}(a, 0)`"],
        )
    return None


def _reversed_comparison(seen: _Unexpected) -> Diagnostic | None:
    """`x => 0`, `x =< 0`: comparisons are written `>=` and `<=`."""
    following = seen.text[seen.start + 1 : seen.start + 2]
    if seen.token.type != "EQUAL" or following not in (">", "<"):
        return None
    return diagnostic(
        Code.E003,
        Span(seen.span.start, seen.span.start + 2),
        f"`={following}` is not an operator: write `{following}=`",
    )


def _closes_nothing(seen: _Unexpected) -> Diagnostic | None:
    if seen.token.type not in ("RPAR", "RSQB") or _open_count(
        seen.text[: seen.start], seen.token.value
    ):
        return None
    return diagnostic(Code.E007, seen.span, f"this `{seen.token.value}` closes nothing")


def _unclosed_index_list(seen: _Unexpected) -> Diagnostic | None:
    # After a name, `[` may also follow (an integer array in a position, `y[i]`).
    if not (seen.expected <= {"COMMA", "RSQB", "LSQB", "COLON"} and "RSQB" in seen.expected):
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
    _construct_word_as_name,
    _mean_without_indices,
    _misplaced_comparison,
    _reversed_comparison,
    _arity,
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
    found = "end of the statement" if seen.token.type == "$END" else seen.found
    expected = _words(_possible(seen.expected, seen.text[: seen.start]))
    return diagnostic(Code.E003, seen.span, f"unexpected {found}; expected {expected}")


def _describe(token: Token) -> str:
    if token.type == "$END":
        return "the end of the statement"
    if token.type == "NAME":
        return f"name `{token.value}`"
    if token.type == "NUMBER":
        return f"number `{token.value}`"
    if _is_keyword(token):
        return f"keyword `{token.value}`"
    return f"`{token.value}`"


def _possible(expected: frozenset[str], before: str) -> frozenset[str]:
    """The expected terminals that can really come next: the tables' lookaheads
    are merged across contexts, so `)` is offered with no `(` open, and the end
    of the statement inside brackets."""
    innermost = _innermost_open(before)
    closers = {"RPAR", "RSQB", "$END"}
    keep = {_CLOSERS[innermost]} if innermost else {"$END"}
    possible = {t for t in expected if t not in closers or t in keep}
    if "=" in before:
        possible.discard("EQUAL")  # a statement has one `=`
    return frozenset(possible) or expected


def _words(expected: frozenset[str]) -> str:
    """What was expected, as a few phrases: whole groups of terminals become one
    phrase (`an expression`, `an operator`), the rest are listed."""
    left = set(expected)
    phrases: list[str] = []
    if left >= _STATEMENT_STARTS:
        phrases.append("a statement (`dim`, `input`, `param`, `derive`, a definition or a claim)")
        left -= _STATEMENT_STARTS | {"NAME", "DERIV"}
    operators = left & _OPERATORS
    if len(operators) >= 3:
        phrases.append("an operator")
        # After an operand: juxtaposition is a product, `[` an index list.
        left -= _OPERATORS | _ATOM_STARTS | {"LSQB"}
    if left >= {"NAME", "NUMBER", "LPAR"}:
        phrases.append("an expression")
        left -= _ATOM_STARTS | {"MINUS"}
    elif left >= {"NAME", "NUMBER"}:
        # An index position: `argmax[j](...)` may stand there too, but "a name
        # or a number" is what the writer of an index list needs to read.
        left.discard("INDEXED_FUNC")
    if {"NUMBER", "MINUS"} <= left and not left & {"NAME", "LPAR"}:
        left.discard("MINUS")  # a signed number
    phrases.extend(sorted(_TERMINAL_WORDS.get(name, name) for name in left - {"$END"}))
    if "$END" in left:
        phrases.append(_TERMINAL_WORDS["$END"])
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _is_keyword(token: Token) -> bool:
    # Every terminal spelled as a word (or `Σ`, `δ`) is a keyword: the
    # grammar, not a list here, decides which words those are.
    return token.type not in ("NAME", "NUMBER", "DERIV") and token.value[:1].isalpha()


def _innermost_open(text: str) -> str:
    """The innermost bracket still open at the end of `text` ("" for none)."""
    stack: list[str] = []
    for char in text:
        if char in "([":
            stack.append(char)
        elif char in ")]" and stack and stack[-1] == ("(" if char == ")" else "["):
            stack.pop()
    return stack[-1] if stack else ""


def _open_count(text: str, closer: str) -> int:
    opener = "(" if closer == ")" else "["
    return max(0, text.count(opener) - text.count(closer))
