"""The tree builder of the syntax stage: Lark's parse of one line -> AST nodes.

`lalr.py` calls `AstBuilder` as each rule reduces, so nodes are built during
the parse: no parse tree is kept and no recursion depends on the input. There
is one method per grammar rule, split over two classes by the grammar's own
sections (statements, expressions); each builds a node and nothing else,
except that a construct the grammar accepts but the language does not (a
fractional size, an unknown layout, a 0 index) raises `SyntaxProblem`.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.exhaustive import assert_never
from shapecheck.source import Span
from shapecheck.syntax import ast, matrices, sigma
from shapecheck.syntax.lexer import Token

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass


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


# `2e+1`, `3E-2`: digits, an exponent letter, a sign and digits.
_SIGNED_EXPONENT = re.compile(r"(\d+)([eE])([+-])(\d+)")


# Index and size expressions are a few terms (`2 a + u - 2`, `(n - 2) / 2 + 1`);
# the bound keeps every later walk over them shallow.
MAX_TERMS = 64


def _short_enough(span: Span, leaves: int) -> None:
    if leaves > MAX_TERMS:
        raise SyntaxProblem(
            diagnostic(
                Code.E041,
                span,
                f"this expression has {leaves} terms; an index or size expression has at "
                f"most {MAX_TERMS}",
                hints=["define a size with `dim` for a long sum, and use its name"],
            )
        )


def _whole(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _plain_number(expr: ast.SizeExpr) -> bool:
    """A number, a power or a product of numbers: the sizes of the first edition."""

    def leaf(node: ast.SizeNumber | ast.SizeDim) -> bool:
        return isinstance(node, ast.SizeNumber)

    def arith(node: ast.SizeArith, left: bool, right: bool) -> bool:
        # A power of a power goes to the checker, which bounds its size.
        if node.op == "^":
            return isinstance(node.left, ast.SizeNumber)
        return node.op == "*" and left and right

    def negate(node: ast.SizeNeg, operand: bool) -> bool:
        return False

    return ast.fold_size(expr, leaf, arith, negate)


def _constant_size(expr: ast.SizeExpr) -> int | float:
    """The value of a plain number (`8`, `2^10`, `3 * 4`), as the first edition read it."""

    def leaf(node: ast.SizeNumber | ast.SizeDim) -> int | float:
        return node.value if isinstance(node, ast.SizeNumber) else 0

    def arith(node: ast.SizeArith, left: int | float, right: int | float) -> int | float:
        if node.op == "^":
            return _size_power(float(left), float(right))
        return _times(left, right)

    def negate(node: ast.SizeNeg, operand: int | float) -> int | float:
        return -operand

    return ast.fold_size(expr, leaf, arith, negate)


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


def _whole_bound(token: Token, span: Span) -> int:
    """The whole number of a `sum[t in A..B]` bound or offset (E111 otherwise)."""
    value = _number(token)
    if not value.is_integer():
        raise SyntaxProblem(
            diagnostic(
                Code.E111, span, f"a range bound must be a whole number, not `{token.value}`"
            )
        )
    return int(value)


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


def _kept_index_annotated(func: Token, index: ast.IndexName) -> Diagnostic:
    """E023: `softmax[u:2]`: softmax keeps its index free, so the statement
    says what it runs over, not the brackets (those of a reduction may)."""
    return diagnostic(
        Code.E023,
        index.span,
        f"`{func.value}[{index}]` is read at `{index.name}`, which it does not bind: "
        "its brackets take no range",
        hints=[
            f"say what `{index.name}` runs over on the left-hand side: "
            f"`y[..., {index}] = {func.value}[{index.name}](...)`"
        ],
    )


def _what_it_runs_over(func: str) -> str:
    return "index" if func in ast.SELECTIONS else "indices"


def _indices_of(node: ast.Expr) -> list[ast.IndexName]:
    """The index names written on one node (not on its sub-expressions)."""
    if isinstance(node, ast.ArrayRef | ast.Delta | ast.DerivRef):
        return [i for i in node.indices if isinstance(i, ast.IndexName)]
    return []


class _SizeRules(_Spans):
    """The rules of size expressions (`dim m = n - k + 1`, spec 9.4)."""

    def size_sum(self, children: list[Any]) -> ast.SizeExpr:
        return self._size_chain(children)

    def size_product(self, children: list[Any]) -> ast.SizeExpr:
        return self._size_chain(children)

    def _size_chain(self, children: list[Any]) -> ast.SizeExpr:
        # Left to right; an operand with no operator before it is juxtaposed (`2 n`).
        result: ast.SizeExpr = children[0]
        op = "*"
        for child in children[1:]:
            if isinstance(child, Token):
                op = "*" if child.type == "MUL" else child.value
                continue
            result = ast.SizeArith(op, result, child, Span(result.span.start, child.span.end))
            op = "*"
        return result

    def size_negate(self, children: list[Any]) -> ast.SizeExpr:
        return ast.SizeNeg(children[1], self._span(children[0], children[1]))

    def size_power(self, children: list[Any]) -> ast.SizeExpr:
        base, _, exponent = children
        power = ast.SizeNumber(_whole(_number(exponent)), self._token_span(exponent))
        return ast.SizeArith("^", base, power, self._span(base, exponent))

    def size_number(self, children: list[Any]) -> ast.SizeExpr:
        return ast.SizeNumber(_whole(_number(children[0])), self._token_span(children[0]))

    def size_dim(self, children: list[Any]) -> ast.SizeExpr:
        return ast.SizeDim(children[0].value, self._token_span(children[0]))

    def size_paren(self, children: list[Any]) -> ast.SizeExpr:
        inner: ast.SizeExpr = children[1]
        return inner


class _StatementRules(_SizeRules):
    """The rules of the grammar's declarations, definitions and claims."""

    def dim_stmt(self, children: list[Any]) -> ast.DimStmt:
        entries = tuple(c for c in children if isinstance(c, ast.DimEntry))
        return ast.DimStmt(entries, self._span(children[0], entries[-1]))

    def dim_entry(self, children: list[Any]) -> ast.DimEntry:
        name = children[0]
        if len(children) == 1:
            return ast.DimEntry(name.value, None, self._token_span(name))
        size: ast.SizeExpr = children[2]
        span = Span(name.start_pos + self.offset, size.span.end)
        _short_enough(size.span, sum(1 for _ in ast.size_leaves(size)))
        if _plain_number(size):
            return ast.DimEntry(name.value, _constant_size(size), span)
        return ast.DimEntry(name.value, None, span, size)

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

    def fn_stmt(self, children: list[Any]) -> ast.FnStmt:
        names = tuple(
            ast.FnName(c.value, self._token_span(c)) for c in children[1:] if c.type == "NAME"
        )
        return ast.FnStmt(names, self._span(children[0], children[-1]))

    def derive_stmt(self, children: list[Any]) -> ast.DeriveStmt:
        targets = tuple(c for c in children if isinstance(c, ast.DeriveTarget))
        return ast.DeriveStmt(
            targets, Span(self._token_span(children[0]).start, targets[-1].span.end)
        )

    def derive_target(self, children: list[Any]) -> ast.DeriveTarget:
        """`dL/dW`, or `dL/dW[j, k]` with the signature's names (spec 10)."""
        token = children[0]
        span = self._token_span(token)
        of, wrt, order = _split_deriv(token, span)
        names = tuple(c.value for c in children[1:] if c.type == "NAME")
        if names:
            span = Span(span.start, self._token_span(children[-1]).end)
        return ast.DeriveTarget(of, wrt, span, order, names)

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

    def range_bound(self, children: list[Any]) -> ast.RangeBound:
        span = self._span(children[0], children[-1])
        first = children[0]
        if first.type == "NUMBER":
            return ast.RangeBound(_whole_bound(first, self._token_span(first)), None, 0, span)
        if len(children) == 1:
            return ast.RangeBound(None, first.value, 0, span)
        amount = _whole_bound(children[2], self._token_span(children[2]))
        offset = -amount if children[1].type == "MINUS" else amount
        return ast.RangeBound(None, first.value, offset, span)

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
        value = _number(token)
        if not math.isfinite(value):
            # `1e400` reads as infinity: rewriting with it never settles, and
            # no value the file means is that large.
            raise SyntaxProblem(
                diagnostic(
                    Code.E009,
                    self._token_span(token),
                    f"the number `{token.value}` is too large (over 1.8e308)",
                )
            )
        return ast.Number(value, token.value, self._token_span(token))

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

    def opaque_call(self, children: list[Any]) -> ast.OpaqueCall:
        name, after = children[0], children[1]
        order = len(after.value) if after.type == "PRIME" else 0
        return ast.OpaqueCall(name.value, order, children[-2], self._span(name, children[-1]))

    def _binders(self, children: list[Any]) -> tuple[ast.IndexName, ...]:
        """The indices in a reduction's brackets, annotated (`u:2`) or not."""
        return tuple(
            c if isinstance(c, ast.IndexName) else ast.IndexName(c.value, self._token_span(c))
            for c in children[2:-3]
            if isinstance(c, ast.IndexName) or c.type == "NAME"
        )

    def binder_annotated(self, children: list[Any]) -> ast.IndexName:
        name, _, size = children
        return ast.IndexName(name.value, self._span(name, size), size)

    def indexed_call(self, children: list[Any]) -> ast.IndexedCall:
        indices = self._binders(children)
        arg = children[-2]
        func = children[0]
        if func.value in ast.SELECTIONS and len(indices) > 1:
            raise SyntaxProblem(_selection_problem(func, indices, arg))
        annotated = [i for i in indices if i.runs_over is not None]
        if annotated and func.value not in ast.REDUCING_FUNCTIONS:
            raise SyntaxProblem(_kept_index_annotated(func, annotated[0]))
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

    def matrix_call(self, children: list[Any]) -> ast.MatrixCall:
        """`det(A)`, `inv(A)[i, j]`, `trace(A)`; every other form is worded by `matrices`."""
        func, arg = children[0], children[2]
        indices = tuple(children[4]) if len(children) == 5 else None
        span = self._span(func, children[-1])
        problem = matrices.call_problem(func.value, arg, indices, span)
        if problem is not None:
            raise SyntaxProblem(problem)
        return ast.MatrixCall(func.value, arg.name, indices or (), span, arg.span)

    def sum_over(self, children: list[Any]) -> ast.SumOver:
        indices = self._binders(children)
        body = children[-2]
        return ast.SumOver(indices, body, self._span(children[0], children[-1]))

    def sigma(self, children: list[Any]) -> ast.SumOver:
        """`Σ_j e`, `Σ_{j,k} e`: the node `sum[j](e)` builds (spec 10)."""
        token, body = children
        indices = sigma.subscript(token, self.offset)
        if isinstance(indices, Diagnostic):
            raise SyntaxProblem(indices)
        return ast.SumOver(indices, body, self._span(token, body))

    def range_sum(self, children: list[Any]) -> ast.RangeSum:
        # SUM LSQB NAME IN bound RANGE bound RSQB LPAR body RPAR
        var = children[2]
        return ast.RangeSum(
            var.value,
            children[4],
            children[6],
            children[9],
            self._span(children[0], children[-1]),
            self._token_span(var),
        )

    def mean_over(self, children: list[Any]) -> ast.MeanOver:
        indices = self._binders(children)
        body = children[-2]
        return ast.MeanOver(indices, body, self._span(children[0], children[-1]))

    def paren(self, children: list[Any]) -> ast.Expr:
        return replace(children[1], span=self._span(children[0], children[2]))  # type: ignore[no-any-return]


class _IndexRules(_Spans):
    """The rules of the grammar's index positions: names, numbers, gathers and
    index expressions (spec 9.4), and the left-hand annotation `a:m`."""

    def index(self, children: list[Any]) -> ast.Index:
        tree: ast.IndexTree = children[0]
        match tree:
            case ast.IndexArith() | ast.IndexNeg():
                _short_enough(tree.span, sum(1 for _ in ast.index_tree_leaves(tree)))
                return ast.IndexExpr(tree, tree.span)
            case ast.IndexLiteral():
                if tree.value < 1:
                    raise SyntaxProblem(
                        diagnostic(
                            Code.E203,
                            tree.span,
                            "literal indices start at 1",
                            hints=["the notation is 1-based, as in the notes' x₁₂"],
                        )
                    )
                return tree
            case ast.IndexName() | ast.IndexGather() | ast.IndexSelect():
                return tree
            case ast.IndexSize():
                raise AssertionError("the parser makes no sizes")
            case _:
                assert_never(tree)

    def index_sum(self, children: list[Any]) -> ast.IndexTree:
        return self._index_chain(children)

    def index_product(self, children: list[Any]) -> ast.IndexTree:
        return self._index_chain(children)

    def _index_chain(self, children: list[Any]) -> ast.IndexTree:
        # Left to right; an operand with no operator before it is juxtaposed (`2 a`).
        result: ast.IndexTree = children[0]
        op = "*"
        for child in children[1:]:
            if isinstance(child, Token):
                op = "*" if child.type == "MUL" else child.value
                continue
            result = ast.IndexArith(op, result, child, Span(result.span.start, child.span.end))
            op = "*"
        return result

    def index_negate(self, children: list[Any]) -> ast.IndexTree:
        return ast.IndexNeg(children[1], self._span(children[0], children[1]))

    def index_paren(self, children: list[Any]) -> ast.IndexTree:
        inner: ast.IndexTree = children[1]
        return inner

    def index_name(self, children: list[Any]) -> ast.IndexTree:
        return ast.IndexName(children[0].value, self._token_span(children[0]))

    def index_gather(self, children: list[Any]) -> ast.IndexTree:
        token = children[0]
        return ast.IndexGather(token.value, tuple(children[1]), self._span(token, children[1]))

    def index_number(self, children: list[Any]) -> ast.IndexTree:
        token = children[0]
        span = self._token_span(token)
        exponent = _SIGNED_EXPONENT.fullmatch(token.value)
        if exponent is not None:
            # `x[2e+1]`: the lexer reads a number with an exponent (spec 9.4).
            shown = " ".join(exponent.groups())
            raise SyntaxProblem(
                diagnostic(
                    Code.E040,
                    span,
                    f"`{token.value}` is read as a number with an exponent",
                    hints=[
                        "numbers inside an index list are plain digits; for an index "
                        f"expression write spaces: `{shown}`"
                    ],
                )
            )
        value = _number(token)
        if not value.is_integer() or not token.value.isdigit():
            raise SyntaxProblem(
                diagnostic(
                    Code.E203,
                    span,
                    f"a literal index is a whole number from 1, not `{token.value}`",
                )
            )
        return ast.IndexLiteral(int(value), span)

    def lhs_list(self, children: list[Any]) -> _Bracketed:
        # The same checks as any index position (a literal 0 is E203).
        items = [self.index([c]) for c in children if not isinstance(c, Token)]
        return _bracketed(items, children[-1].end_pos)

    def index_annotated(self, children: list[Any]) -> ast.IndexName:
        """`a:m` on a left-hand side: `a` runs over `1..m` (spec 9.4)."""
        name, _, size = children
        return ast.IndexName(name.value, self._span(name, size), size)


class AstBuilder(_StatementRules, _ExpressionRules, _IndexRules):
    """One method per grammar rule; builds AST nodes and nothing else.

    Set `offset` to the start of the line in the file, and `text` to the
    line, before each parse.
    """

    # The rules whose method gives back a lone child as it is: `lalr.py`
    # reduces them, when they have one child, without calling the method.
    # A third of the reductions of a typical line are such chain steps.
    pass_through_when_single = frozenset(
        {"sum_expr", "product", "index_sum", "index_product", "size_sum", "size_product"}
    )
