"""`Σ_j e` as input (spec 10), for the syntax stage: its subscript read, its misuse worded.

The grammar takes `Σ_` and its subscript as one token (`SIGMA`); `build.py`
asks `subscript` for the indices it names (`Σ_j`, `Σ_{j,k}`, `Σ_{u:2}`) and
builds the same `SumOver` node as `sum[...]( ... )`. `errors.py` asks `misuse`
first when a line is rejected, so that a `Σ` without its index, a malformed
subscript or a `Σ_j` with nothing to sum gets its own code (E070-E074) instead
of a bare "unexpected" error.
"""

from __future__ import annotations

import re

from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.source import Span
from shapecheck.syntax import ast
from shapecheck.syntax.lexer import NoTerminal, Token, lex

_PREFIX = "Σ_"
# One entry of a braced subscript: a name, optionally `:size` (a dim or a number).
_ENTRY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*([A-Za-z_][A-Za-z0-9_]*|\d+)\s*)?$")
_FORMS = "`Σ_j`, or several indices in braces: `Σ_{j,k}` (`Σ_{u:2}` says what `u` runs over)"
# Tokens that end a product: a `Σ_j` right before one of them sums nothing.
_PRODUCT_ENDS = frozenset({"PLUS", "MINUS", "RPAR", "RSQB", "COMMA", "COMPARE", "$END"})


def subscript(token: Token, offset: int) -> tuple[ast.IndexName, ...] | Diagnostic:
    """The indices a `SIGMA` token names, or why it names none (E071, E072).
    `offset` is where the token's line starts in the file."""
    text, start = token.value, token.start_pos + offset
    inner = text[len(_PREFIX) :]
    if not inner:
        return diagnostic(
            Code.E071,
            Span(start, start + len(text)),
            "`Σ_` is not followed by the index it sums over",
            hints=[f"write {_FORMS}"],
        )
    if not inner.startswith("{"):
        return (ast.IndexName(inner, Span(start + len(_PREFIX), start + len(text))),)
    return _braced(inner, start + len(_PREFIX))


def _braced(inner: str, start: int) -> tuple[ast.IndexName, ...] | Diagnostic:
    """`{j, k:m}` (at `start` in the file) as its indices."""
    whole = Span(start, start + len(inner))
    if not inner.endswith("}"):
        return diagnostic(
            Code.E072,
            Span(start, start + 1),
            "this `{` after `Σ_` is never closed",
            hints=["close the list with `}`: `Σ_{j,k} ...`"],
        )
    indices: list[ast.IndexName] = []
    at = start + 1
    for entry in inner[1:-1].split(","):
        found = _ENTRY.match(entry)
        if found is None:
            return _bad_entry(entry, at, whole)
        name_at = at + found.start(1)
        name_span = Span(name_at, name_at + len(found.group(1)))
        size = found.group(2)
        if size is None:
            indices.append(ast.IndexName(found.group(1), name_span))
        else:
            size_at = at + found.start(2)
            size_span = Span(size_at, size_at + len(size))
            runs_over: ast.ShapeItem = (
                ast.SizeLiteral(int(size), size_span)
                if size.isdigit()
                else ast.SizeName(size, size_span)
            )
            indices.append(ast.IndexName(found.group(1), Span(name_at, size_span.end), runs_over))
        at += len(entry) + 1
    return tuple(indices)


def _bad_entry(entry: str, at: int, whole: Span) -> Diagnostic:
    """E072 at one entry of a braced subscript that is not `j` or `j:size`."""
    stripped = entry.strip()
    if not stripped:
        message = "an empty place in the index list after `Σ_`"
        span = whole
    else:
        lead = len(entry) - len(entry.lstrip())
        span = Span(at + lead, at + lead + len(stripped))
        message = f"`{stripped}` is not an index in the list after `Σ_`"
    return diagnostic(
        Code.E072,
        span,
        message,
        hints=["the braces hold index names separated by `,`: `Σ_{j,k}`, `Σ_{u:2, v:2}`"],
    )


def misuse(text: str, at: int, offset: int) -> Diagnostic | None:
    """Why a statement rejected at `at` misuses `Σ`, if it does: E070 for a
    bare `Σ`, E071/E072 for a malformed subscript, E073 for a `Σ_j` with
    nothing to sum, E074 for a `Σ_j` in an exponent."""
    tokens = _tokens(text)
    before = [token for token in tokens if token.start_pos < at]
    here = next((token for token in tokens if token.start_pos >= at), None)
    if before and before[-1].type == "SIGMA":
        return _after_sigma(before[-1], here, offset)
    if here is not None and here.type == "SIGMA" and _in_exponent(before):
        sign = "-" if before[-1].type == "MINUS" else ""
        return diagnostic(
            Code.E074,
            _span(here, offset),
            "a `Σ` cannot stand bare in an exponent",
            hints=[f"put the sum in parentheses: `^({sign}{here.value} ...)`"],
        )
    if before and before[-1].value == "Σ" and text[at : at + 1] not in ("[", "("):
        return diagnostic(
            Code.E070,
            _span(before[-1], offset),
            "`Σ` needs the index it sums over",
            hints=[f"write {_FORMS}, or `sum[j](...)`"],
        )
    return None


def _in_exponent(before: list[Token]) -> bool:
    """The tokens before a `Σ` end in `^` or `^-` (`2^-Σ_i x[i]`)."""
    if before and before[-1].type == "POW":
        return True
    return len(before) > 1 and before[-1].type == "MINUS" and before[-2].type == "POW"


def _after_sigma(sigma: Token, here: Token | None, offset: int) -> Diagnostic | None:
    indices = subscript(sigma, offset)
    if isinstance(indices, Diagnostic):
        return indices
    if here is not None and here.type in _PRODUCT_ENDS:
        return diagnostic(
            Code.E073,
            _span(sigma, offset),
            f"`{sigma.value}` sums nothing",
            hints=["write what it sums right after it, in the same product: `Σ_j x[j] w[j]`"],
        )
    return None


def _tokens(text: str) -> list[Token]:
    """The tokens of the statement, with a closing `$END`; only as far as the
    lexer gets (and no `$END`) where a character matches no terminal."""
    tokens: list[Token] = []
    try:
        tokens.extend(lex(text))
    except NoTerminal:
        return tokens
    end = len(text.rstrip())
    return [*tokens, Token("$END", "", end, end)]


def _span(token: Token, offset: int) -> Span:
    return Span(offset + token.start_pos, offset + token.end_pos)
