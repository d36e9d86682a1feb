"""The tree builder of the syntax stage: Lark's parse of one line -> AST nodes.

`lalr.py` calls `AstBuilder` as each rule reduces, so nodes are built during
the parse: no parse tree is kept and no recursion depends on the input. There
is one method per grammar rule, split over two classes by the grammar's own
sections (statements, expressions); each builds a node and nothing else,
except that a construct the grammar accepts but the language does not (a
fractional size, an unknown layout, a 0 index) raises `SyntaxProblem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.source import Span
from shapecheck.syntax import ast
from shapecheck.syntax.keywords import reserved_problem
from shapecheck.syntax.lexer import Token


class SyntaxProblem(Exception):
    """Raised by the builder for a construct the grammar accepts but the language does not."""

    def __init__(self, problem: Diagnostic) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _number(token: Token) -> float:
    return float(token.value)


def _split_deriv(token: Token, span: Span) -> tuple[str, str, int]:
    """`dA/dB` as (A, B, 1); `d2A/dB2` and `∂²A/∂B²` as (A, B, 2) (spec 9.6).
    The token takes any order so that the shorthands the language does not
    take are worded here (E065, E066, E067), not read as divisions."""
    of, wrt = token.value.split("/", 1)
    order = re.match(r"[0-9²³]*", of[1:])
    assert order is not None
    mark, of, wrt = order.group(), of[1 + len(order.group()) :], wrt[1:]
    if not mark and not wrt.endswith(("²", "³")):
        return of, wrt, 1
    if not mark:
        raise SyntaxProblem(_mixed(token.value, of, wrt, span))
    if mark not in ("2", "²"):
        raise SyntaxProblem(_higher_order(token.value, of, wrt.rstrip("0123456789²³"), span))
    if not wrt.endswith(mark) or wrt == mark:
        raise SyntaxProblem(_mixed(token.value, of, wrt, span))
    wrt = wrt[: -len(mark)]
    if wrt[-1].isdigit():
        raise SyntaxProblem(_ends_in_digit(token.value, of, wrt, span))
    return of, wrt, 2


def _higher_order(text: str, of: str, wrt: str, span: Span) -> Diagnostic:
    return diagnostic(
        Code.E065,
        span,
        f"`{text}`: only the second derivative has a shorthand (`d2{of}/d{wrt}2`)",
        hints=[
            "name each derivative and differentiate it again: "
            f"`g[...] = d2{of}/d{wrt}2[...]`, then `derive dg/d{wrt}`",
            "to divide arrays, write spaces around `/`",
        ],
    )


def _mixed(text: str, of: str, wrt: str, span: Span) -> Diagnostic:
    first = wrt.removesuffix("²")
    return diagnostic(
        Code.E066,
        span,
        f"`{text}` is not a derivative: `d2A/dB2` takes one name B, "
        "and there is no mixed shorthand",
        hints=[
            "for a mixed second derivative, name the gradient and differentiate it: "
            f"`g[...] = d{of}/dB[...]`, then `derive dg/dC`",
            f"to divide arrays, write spaces: `d2{of} / d{first}`",
        ],
    )


def _ends_in_digit(text: str, of: str, wrt: str, span: Span) -> Diagnostic:
    return diagnostic(
        Code.E067,
        span,
        f"`{text}`: the second-derivative shorthand cannot name `{wrt}`, which ends in a digit",
        hints=[
            f"name the gradient: `g[...] = d{of}/d{wrt}[...]`, then `derive dg/d{wrt}`",
        ],
    )


class _Bracketed(tuple):  # type: ignore[type-arg]
    """The items of `[...]`, remembering where the closing `]` ended."""

    end: int


def _bracketed(items: list[Any], end: int) -> _Bracketed:
    result = _Bracketed(items)
    result.end = end
    return result


def _times(left: int | float, right: int | float) -> int | float:
    # A whole number too large for a float times a float raises; infinity
    # stands for "too large" like any float overflow.
    try:
        return left * right
    except OverflowError:
        return float("inf")


def _size_power(base: float, exponent: float) -> int | float:
    if base.is_integer() and exponent.is_integer() and 0 <= exponent <= 64:
        whole: int = int(base) ** int(exponent)  # exponent >= 0, so a whole number
        return whole
    try:
        return float(base**exponent)
    except OverflowError:
        return float("inf")


@dataclass(frozen=True)
class _Option:
    """`positive` (no `classes`) or `in c` of a declaration, with its span."""

    classes: ast.ShapeItem | None
    span: Span


def _check_option(option: _Option, before: list[_Option], value: ast.LiteralValue | None) -> None:
    """`in c` stands once and before the value; `positive` once (spec 9.3)."""
    word = "positive" if option.classes is None else "in"
    if value is not None:
        raise SyntaxProblem(
            diagnostic(
                Code.E030,
                option.span,
                f"`{word}` comes before the value, not after it",
                hints=["write it after the shape and before `=`"],
            )
        )
    if any((o.classes is None) == (option.classes is None) for o in before):
        raise SyntaxProblem(
            diagnostic(Code.E030, option.span, f"`{word}` is written twice in one declaration")
        )


# The Unicode spellings of comparisons, read as the ASCII ones they print as.
_COMPARISON_SPELLINGS = {"≥": ">=", "≤": "<=", "≠": "!="}


def _spelled(token: Token) -> str:
    return _COMPARISON_SPELLINGS.get(token.value, token.value)


def _chained(operands: list[Any], operators: list[Token], span: Span) -> Diagnostic:
    """E016 for `0 < r[i] < 1`: comparisons do not chain; each pair is a factor."""
    pairs = [
        str(ast.Compare(_spelled(op), left, right, left.span))
        for left, op, right in zip(operands, operators, operands[1:], strict=False)
    ]
    written = " ".join(
        [str(operands[0])]
        + [f"{_spelled(op)} {e}" for op, e in zip(operators, operands[1:], strict=True)]
    )
    return diagnostic(
        Code.E016,
        span,
        f"comparisons do not chain: `{written}`",
        hints=[
            "a comparison is worth 1 or 0; for both, multiply them: `"
            + " ".join(f"({pair})" for pair in pairs)
            + "`"
        ],
    )


def _extremum_arity(func: str, arguments: list[Any], span: Span) -> Diagnostic:
    """E017: element-wise `max`/`min` compares exactly two values."""
    count = len(arguments)
    if count > 2:
        nested = f"{func}({arguments[0]}, {arguments[1]})"
        for argument in arguments[2:]:
            nested = f"{func}({nested}, {argument})"
        hint = f"for more values, nest it: `{nested}`"
    elif count == 1 and (written := _written_names(arguments[0])):
        # One argument with indices: most likely the reduction was meant.
        hint = (
            f"it compares two values entry by entry, e.g. `{func}({arguments[0]}, 0)`; "
            f"the {func}imum along an index is `{func}[{written[-1]}]({arguments[0]})`"
        )
    else:
        hint = f"it compares two values entry by entry, e.g. `{func}({arguments[0]}, 0)`"
    return diagnostic(
        Code.E017,
        span,
        f"`{func}` takes exactly two arguments, not {count}",
        hints=[hint],
    )


class _Spans:
    """Spans of built nodes, in the whole file.

    Tokens carry positions within the parsed line; `offset` (the line's start
    in the file) is added to every span so nodes point into the whole file.
    """

    def __init__(self) -> None:
        self.offset = 0
        self.text = ""  # the line being parsed, for words that depend on what follows

    def _at(self, start: int, end: int) -> Span:
        return Span(start + self.offset, end + self.offset)

    def _token_span(self, token: Token) -> Span:
        return Span(token.start_pos + self.offset, token.end_pos + self.offset)

    def _span(self, first: Any, last: Any) -> Span:
        # Runs for most nodes of every file: no throwaway spans for the tokens.
        start = first.start_pos + self.offset if isinstance(first, Token) else first.span.start
        if isinstance(last, Token):
            end = last.end_pos + self.offset
        elif isinstance(last, _Bracketed):
            end = last.end + self.offset
        else:
            end = last.span.end
        return Span(start, end)


def _written_names(expr: ast.Expr) -> list[str]:
    """The index names written in `expr`, in order of first appearance."""
    names = {i.name: None for n in ast.walk(expr) for i in _indices_of(n)}
    return list(names)


def _selection_problem(
    func: Token, indices: tuple[ast.IndexName, ...], arg: ast.Expr
) -> Diagnostic:
    """E032: `argmax`/`argmin` pick one position, along one index."""
    nested = f"{func.value}[{indices[0]}](max[{', '.join(str(i) for i in indices[1:])}]({arg}))"
    return diagnostic(
        Code.E032,
        indices[1].span,
        f"`{func.value}` runs over one index, not {len(indices)}",
        hints=[
            "a position is one index; for the first row that holds the maximum, "
            f"nest it: `{nested}`"
        ],
    )


def _what_it_runs_over(func: str) -> str:
    return "index" if func in ast.SELECTIONS else "indices"


def _indices_of(node: ast.Expr) -> list[ast.IndexName]:
    """The index names written on one node (not on its sub-expressions)."""
    if isinstance(node, ast.ArrayRef | ast.Delta | ast.DerivRef):
        return [i for i in node.indices if isinstance(i, ast.IndexName)]
    return []


class _StatementRules(_Spans):
    """The rules of the grammar's declarations, definitions and claims."""

    def dim_stmt(self, children: list[Any]) -> ast.DimStmt:
        entries = tuple(c for c in children if isinstance(c, ast.DimEntry))
        return ast.DimStmt(entries, self._span(children[0], entries[-1]))

    def dim_entry(self, children: list[Any]) -> ast.DimEntry:
        name = children[0]
        if len(children) == 1:
            return ast.DimEntry(name.value, None, self._token_span(name))
        value, end = children[2]
        return ast.DimEntry(name.value, value, self._at(name.start_pos, end))

    def int_expr(self, children: list[Any]) -> tuple[int | float, int]:
        result: int | float = 1
        end = 0
        for child in children:
            if not isinstance(child, Token):
                value, end = child
                result = _times(result, value)
        return result, end

    def int_power(self, children: list[Any]) -> tuple[int | float, int]:
        base = _number(children[0])
        end = children[-1].end_pos
        if len(children) == 1:
            return (int(base) if base.is_integer() else base), end
        return _size_power(base, _number(children[2])), end

    def decl_stmt(self, children: list[Any]) -> ast.DeclStmt:
        entries = tuple(c for c in children if isinstance(c, ast.ArrayDecl))
        return ast.DeclStmt(children[0].value, entries, self._span(children[0], entries[-1]))

    def decl_entry(self, children: list[Any]) -> ast.ArrayDecl:
        name = children[0]
        shape: tuple[ast.ShapeItem, ...] = ()
        value = None
        options: list[_Option] = []
        for child in children[1:]:
            if isinstance(child, _Bracketed):
                shape = tuple(child)
            elif isinstance(child, ast.LiteralValue):
                value = child
            elif isinstance(child, _Option):
                _check_option(child, options, value)
                options.append(child)
        classes = next((o for o in options if o.classes is not None), None)
        return ast.ArrayDecl(
            name.value,
            shape,
            any(o.classes is None for o in options),
            value,
            self._span(name, children[-1]),
            None if classes is None else classes.classes,
            None if classes is None else classes.span,
        )

    def decl_option(self, children: list[Any]) -> _Option:
        if len(children) == 1:
            return _Option(None, self._token_span(children[0]))
        return _Option(children[1], self._span(children[0], children[1]))

    def shape(self, children: list[Any]) -> _Bracketed:
        items = [c for c in children if not isinstance(c, Token)]
        return _bracketed(items, children[-1].end_pos)

    def shape_item(self, children: list[Any]) -> ast.ShapeItem:
        token = children[0]
        span = self._token_span(token)
        if token.type == "NAME":
            return ast.SizeName(token.value, span)
        value = _number(token)
        if not value.is_integer():
            raise SyntaxProblem(
                diagnostic(Code.E105, span, f"a size must be a whole number, not `{token.value}`")
            )
        return ast.SizeLiteral(int(value), span)

    def literal(self, children: list[Any]) -> ast.LiteralValue:
        if len(children) == 1:
            return children[0]  # type: ignore[no-any-return]
        items = tuple(c.data for c in children if isinstance(c, ast.LiteralValue))
        return ast.LiteralValue(items, self._span(children[0], children[-1]))

    def signed_number(self, children: list[Any]) -> ast.LiteralValue:
        value = _number(children[-1])
        if len(children) == 2:
            value = -value
        return ast.LiteralValue(value, self._span(children[0], children[-1]))

    def derive_stmt(self, children: list[Any]) -> ast.DeriveStmt:
        targets = []
        for token in children[1:]:
            if token.type == "DERIV":
                span = self._token_span(token)
                of, wrt, order = _split_deriv(token, span)
                targets.append(ast.DeriveTarget(of, wrt, span, order))
        return ast.DeriveStmt(tuple(targets), self._span(children[0], children[-1]))

    def layout_stmt(self, children: list[Any]) -> ast.LayoutStmt:
        name = children[1]
        if name.value not in ("numerator", "denominator"):
            raise SyntaxProblem(
                diagnostic(
                    Code.E109,
                    self._token_span(name),
                    f"unknown layout `{name.value}`",
                    hints=["write `layout numerator` or `layout denominator`"],
                )
            )
        return ast.LayoutStmt(name.value, self._span(children[0], name))

    def for_header(self, children: list[Any]) -> ast.ForHeader:
        return ast.ForHeader(
            children[1].value, children[3], children[5], self._span(children[0], children[-1])
        )

    def bound(self, children: list[Any]) -> ast.Bound:
        token = children[0]
        span = self._token_span(token)
        if token.type == "NAME":
            return ast.Bound(None, token.value, span)
        value = _number(token)
        if not value.is_integer():
            raise SyntaxProblem(
                diagnostic(
                    Code.E111, span, f"a loop bound must be a whole number, not `{token.value}`"
                )
            )
        return ast.Bound(int(value), None, span)

    def definition(self, children: list[Any]) -> ast.Definition:
        name = children[0]
        indices = tuple(children[1]) if len(children) == 4 else ()
        return ast.Definition(
            name.value,
            indices,
            children[-1],
            self._span(name, children[-1]),
            self._span(name, children[1] if len(children) == 4 else name),
        )

    def claim(self, children: list[Any]) -> ast.Claim:
        token = children[0]
        of, wrt, order = _split_deriv(token, self._token_span(token))
        indices = tuple(children[1]) if len(children) == 4 else ()
        return ast.Claim(
            of,
            wrt,
            indices,
            children[-1],
            self._span(token, children[-1]),
            self._span(token, children[1] if len(children) == 4 else token),
            order=order,
        )


class _ExpressionRules(_Spans):
    """The rules of the grammar's expressions and index lists."""

    def index_list(self, children: list[Any]) -> _Bracketed:
        items = [c for c in children if not isinstance(c, Token)]
        return _bracketed(items, children[-1].end_pos)

    def index(self, children: list[Any]) -> ast.Index:
        token = children[0]
        span = self._token_span(token)
        if len(children) == 2:
            return ast.IndexGather(token.value, tuple(children[1]), self._span(token, children[1]))
        if token.type == "NAME":
            return ast.IndexName(token.value, span)
        value = _number(token)
        if not value.is_integer() or not token.value.isdigit():
            raise SyntaxProblem(
                diagnostic(
                    Code.E203,
                    span,
                    f"a literal index is a whole number from 1, not `{token.value}`",
                )
            )
        if value < 1:
            raise SyntaxProblem(
                diagnostic(
                    Code.E203,
                    span,
                    "literal indices start at 1",
                    hints=["the notation is 1-based, as in the notes' x₁₂"],
                )
            )
        return ast.IndexLiteral(int(value), span)

    def sum_expr(self, children: list[Any]) -> ast.Expr:
        if len(children) == 1:
            return children[0]  # type: ignore[no-any-return]
        terms = [ast.Term("+", children[0])]
        for sign, expr in zip(children[1::2], children[2::2], strict=True):
            terms.append(ast.Term(sign.value, expr))
        return ast.Add(tuple(terms), self._span(children[0], children[-1]))

    def product(self, children: list[Any]) -> ast.Expr:
        if len(children) == 1:
            return children[0]  # type: ignore[no-any-return]
        factors = [ast.Factor("", children[0])]
        pending = " "  # juxtaposition unless an operator came first
        for child in children[1:]:
            if isinstance(child, Token):
                pending = "/" if child.type == "DIV" else "*"
            else:
                factors.append(ast.Factor(pending, child))
                pending = " "
        return ast.Product(tuple(factors), self._span(children[0], children[-1]))

    def negate(self, children: list[Any]) -> ast.Negate:
        return ast.Negate(children[1], self._span(children[0], children[1]))

    def power(self, children: list[Any]) -> ast.Power:
        return ast.Power(children[0], children[2], self._span(children[0], children[2]))

    def number(self, children: list[Any]) -> ast.Number:
        token = children[0]
        return ast.Number(_number(token), token.value, self._token_span(token))

    def array_ref(self, children: list[Any]) -> ast.ArrayRef:
        name = children[0]
        indices = tuple(children[1]) if len(children) == 2 else ()
        return ast.ArrayRef(name.value, indices, self._span(name, children[-1]))

    def delta(self, children: list[Any]) -> ast.Delta:
        return ast.Delta(tuple(children[1]), self._span(children[0], children[1]))

    def deriv_ref(self, children: list[Any]) -> ast.DerivRef:
        token = children[0]
        of, wrt, order = _split_deriv(token, self._token_span(token))
        indices = tuple(children[1]) if len(children) == 2 else ()
        return ast.DerivRef(of, wrt, indices, self._span(token, children[-1]), order)

    def call(self, children: list[Any]) -> ast.Call:
        return ast.Call(children[0].value, children[2], self._span(children[0], children[-1]))

    def indexed_call(self, children: list[Any]) -> ast.IndexedCall:
        names = [c for c in children[2:] if isinstance(c, Token) and c.type == "NAME"]
        indices = tuple(ast.IndexName(n.value, self._token_span(n)) for n in names)
        arg = next(c for c in children if not isinstance(c, Token))
        func = children[0]
        if func.value in ast.SELECTIONS and len(indices) > 1:
            raise SyntaxProblem(_selection_problem(func, indices, arg))
        return ast.IndexedCall(func.value, indices, arg, self._span(func, children[-1]))

    def extremum_over(self, children: list[Any]) -> ast.IndexedCall:
        """`max[j](e)`, `min[u, v](e)`: the reductions (spec 9.2)."""
        return self.indexed_call(children)

    def index_call(self, children: list[Any]) -> ast.IndexSelect:
        """`argmax[j](e)` standing in an index position (spec 9.2)."""
        func = children[0]
        if func.value not in ast.SELECTIONS:
            raise SyntaxProblem(
                diagnostic(
                    Code.E033,
                    self._span(func, children[-1]),
                    f"`{func.value}[...](...)` cannot stand in an index position",
                    hints=[
                        "an index position takes an index name, a number, an integer "
                        "array or `argmax[j](...)`/`argmin[j](...)`"
                    ],
                )
            )
        return ast.IndexSelect(self.indexed_call(children))

    def indexed_call_unindexed(self, children: list[Any]) -> ast.IndexedCall:
        func, arg = children[0], children[2]
        written = [i.name for n in ast.walk(arg) for i in _indices_of(n)]
        example = written[-1] if written else "j"
        raise SyntaxProblem(
            diagnostic(
                Code.E138 if func.value in ast.SELECTIONS else Code.E130,
                self._token_span(func),
                f"`{func.value}` needs the {_what_it_runs_over(func.value)} it runs over "
                "in brackets",
                hints=[f"write `{func.value}[{example}]({arg})`"],
            )
        )

    def comparison(self, children: list[Any]) -> ast.Compare:
        operands = children[0::2]
        operators = children[1::2]
        if len(operators) > 1:
            raise SyntaxProblem(_chained(operands, operators, self._token_span(operators[1])))
        op = _COMPARISON_SPELLINGS.get(operators[0].value, operators[0].value)
        return ast.Compare(op, operands[0], operands[1], self._span(operands[0], operands[1]))

    def extremum(self, children: list[Any]) -> ast.Extremum:
        func = children[0]
        arguments = [c for c in children[2:] if not isinstance(c, Token)]
        span = self._span(func, children[-1])
        if len(arguments) != 2:
            raise SyntaxProblem(_extremum_arity(func.value, arguments, span))
        return ast.Extremum(func.value, arguments[0], arguments[1], span)

    def loss(self, children: list[Any]) -> ast.Loss:
        name = children[2]
        return ast.Loss(name.value, self._span(children[0], children[-1]), self._token_span(name))

    def sum_over(self, children: list[Any]) -> ast.SumOver:
        names = [c for c in children[2:] if isinstance(c, Token) and c.type == "NAME"]
        indices = tuple(ast.IndexName(n.value, self._token_span(n)) for n in names)
        body = next(c for c in children if not isinstance(c, Token))
        return ast.SumOver(indices, body, self._span(children[0], children[-1]))

    def reserved(self, children: list[Any]) -> ast.Expr:
        """A second-edition keyword where an expression may stand: always an error (E008)."""
        token = children[0]
        span = self._token_span(token)
        following = self.text[token.end_pos :].lstrip(" \t")[:1]
        raise SyntaxProblem(reserved_problem(token.value, following, span))

    def mean_over(self, children: list[Any]) -> ast.MeanOver:
        names = [c for c in children[2:] if isinstance(c, Token) and c.type == "NAME"]
        indices = tuple(ast.IndexName(n.value, self._token_span(n)) for n in names)
        body = next(c for c in children if not isinstance(c, Token))
        return ast.MeanOver(indices, body, self._span(children[0], children[-1]))

    def paren(self, children: list[Any]) -> ast.Expr:
        return replace(children[1], span=self._span(children[0], children[2]))  # type: ignore[no-any-return]


class AstBuilder(_StatementRules, _ExpressionRules):
    """One method per grammar rule; builds AST nodes and nothing else.

    Set `offset` to the start of the line in the file, and `text` to the
    line, before each parse.
    """
