"""Keywords of the syntax stage: every word the language keeps for itself (spec 1 and 9.8).

The grammar (`grammar/idx.lark`) decides what is lexed as a keyword; this
module words the error when a keyword stands where a name must (E008), with
a name to rename it to, for `errors.py` (a rejected line). `tests/syntax/test_keywords.py`
keeps `KEYWORDS` equal to what the lexer takes as a keyword, and
docs/language.md section 12.8 lists the same words.
"""

from __future__ import annotations

from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.source import Span

# The first edition's keywords and functions.
FIRST_EDITION = (
    *("dim", "input", "param", "derive", "for", "in", "layout", "positive"),
    *("sum", "delta", "loss"),
    *("exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "sqrt", "abs"),
)
# The keywords the second edition adds (spec 9.8).
SECOND_EDITION = (
    *("fn", "mean", "max", "min", "step", "sign", "softmax", "logsumexp", "norm"),
    *("argmax", "argmin", "det", "inv", "trace"),
)
KEYWORDS = frozenset((*FIRST_EDITION, *SECOND_EDITION))

# A name to suggest instead of a keyword, beside the keyword with `_`
# appended; chosen to read as what such an array usually holds.
_ALTERNATIVES = {
    "dim": "size",
    "input": "x_in",
    "param": "theta",
    "derive": "deriv",
    "for": "f_",
    "in": "k",
    "layout": "lay",
    "positive": "pos",
    "sum": "total",
    "delta": "dlt",
    "loss": "L",
    "exp": "ex",
    "log": "lg",
    "fn": "f",
    "mean": "mu",
    "max": "mx",
    "min": "mn",
    "step": "stp",
    "sign": "sgn",
    "softmax": "P",
    "logsumexp": "lse",
    "norm": "nrm",
    "argmax": "best",
    "argmin": "worst",
    "det": "D",
    "inv": "Ainv",
    "trace": "tr",
}


def renamed(word: str) -> str:
    """`use `mean_` or `mu``: the names a keyword used as a name could take instead."""
    other = _ALTERNATIVES.get(word)
    return f"`{word}_` or `{other}`" if other else f"`{word}_`"


def keyword_as_name(word: str, span: Span) -> Diagnostic:
    """E008 for a keyword standing where a name must (an array, dim, index, loop variable)."""
    edition = " since the second edition of the language" if word in SECOND_EDITION else ""
    return diagnostic(
        Code.E008,
        span,
        f"`{word}` is a keyword{edition} and cannot be used as a name",
        hints=[f"rename it everywhere in the file, e.g. to {renamed(word)}"],
    )
