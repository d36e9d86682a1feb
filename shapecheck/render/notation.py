"""Expressions in the notes' notation, with every sum written out as `Σ_j`.

`str(expr)` gives valid `.idx` text; this gives what a person reads in the
tables: `Y[i,k] = Σ_j X[i,j] W[j,k] + b[k]`. A `Σ` reaches as far right as a
product does, so it is printed bare only where nothing follows it in its
product chain; elsewhere it gets parentheses, and the reading is never hidden.
"""

from __future__ import annotations

from shapecheck.exhaustive import assert_never
from shapecheck.syntax import ast

# Binding strength, loosest first: `need` is how tightly the context binds.
_COMPARE, _ADD, _PRODUCT, _UNARY, _POWER, _ATOM = range(6)


def index_list(indices: tuple[ast.Index, ...] | tuple[str, ...]) -> str:
    if not indices:
        return ""
    # `argmax[j](e)` in a position is shown with its sums written out, spaced.
    shown = [notation(i.call) if isinstance(i, ast.IndexSelect) else str(i) for i in indices]
    spaced = any(isinstance(i, ast.IndexSelect) for i in indices)
    return "[" + (", " if spaced else ",").join(shown) + "]"


def left_side(name: str, written: tuple[str, ...]) -> str:
    """`y[a:m]`: a definition's left-hand side as written, so that the printed
    definition reads back with the same meaning (spec 10)."""
    return name + ("[" + ",".join(written) + "]" if written else "")


def notation(expr: ast.Expr) -> str:
    return _pretty(expr, _COMPARE, True)


def _paren(text: str, wrap: bool) -> str:
    return f"({text})" if wrap else text


def _pretty(expr: ast.Expr, need: int, last: bool) -> str:
    """`need`: how tightly the context binds; `last`: nothing follows in its product."""
    match expr:
        case ast.SumOver():
            return _pretty_sum(expr, need, last)
        case ast.Add():
            return _pretty_add(expr, need)
        case ast.Product():
            return _pretty_product(expr, need, last)
        case ast.Negate():
            wrap = need > _UNARY
            return _paren("-" + _pretty(expr.operand, _UNARY, True if wrap else last), wrap)
        case ast.Power():
            return _pretty_power(expr, need, last)
        case ast.Call() | ast.IndexedCall() | ast.MeanOver() | ast.OpaqueCall() | ast.MatrixCall():
            return _pretty_call(expr)
        case ast.Extremum() | ast.Compare() | ast.IndexValue():
            return _pretty_piecewise(expr, need)
        case ast.ArrayRef():
            return expr.name + index_list(expr.indices)
        case ast.SizeRef():
            return expr.name
        case ast.Delta():
            return "δ" + index_list(expr.indices)
        case ast.DerivRef():
            return expr.label + index_list(expr.indices)
        case ast.Number() | ast.Loss():
            return str(expr)
        case ast.RangeSum():
            # As written: the sum of the steps is what the body means.
            steps = f"{expr.var} in {expr.start}..{expr.stop}"
            return f"Σ[{steps}]({_pretty(expr.body, _COMPARE, True)})"
        case _:
            assert_never(expr)


def _pretty_call(
    expr: ast.Call | ast.IndexedCall | ast.MeanOver | ast.OpaqueCall | ast.MatrixCall,
) -> str:
    """A function or `mean` with its argument: explicit as the user wrote it."""
    match expr:
        case ast.OpaqueCall():
            primes = ast.PRIME * expr.order
            return f"{expr.func}{primes}({_pretty(expr.arg, _COMPARE, True)})"
        case ast.MatrixCall():
            return f"{expr.func}({expr.name})" + index_list(expr.indices)
        case ast.Call():
            return f"{expr.func}({_pretty(expr.arg, _COMPARE, True)})"
        case ast.IndexedCall():
            return f"{expr.func}{index_list(expr.indices)}({_pretty(expr.arg, _COMPARE, True)})"
        case ast.MeanOver():
            names = tuple(i.name for i in expr.indices)
            return f"mean{index_list(names)}({_pretty(expr.body, _COMPARE, True)})"
        case _:
            assert_never(expr)


def _pretty_piecewise(expr: ast.Extremum | ast.Compare | ast.IndexValue, need: int) -> str:
    """max/min, a comparison (parenthesised where it is not whole), an index value."""
    if isinstance(expr, ast.IndexValue):
        return expr.name
    if isinstance(expr, ast.Extremum):
        first = _pretty(expr.first, _COMPARE, True)
        return f"{expr.func}({first}, {_pretty(expr.second, _COMPARE, True)})"
    # A `Σ_j` on either side stops at the comparison (spec section 10).
    text = f"{_pretty(expr.left, _ADD, True)} {expr.op} {_pretty(expr.right, _ADD, True)}"
    return _paren(text, need > _COMPARE)


def _pretty_sum(expr: ast.SumOver, need: int, last: bool) -> str:
    bare = last and need < _ATOM
    prefix = sigma(expr.indices) + " "
    return _paren(prefix + _pretty(expr.body, _PRODUCT, True if not bare else last), not bare)


def sigma(indices: tuple[ast.IndexName, ...]) -> str:
    """`Σ_j`, or `Σ_{j,k}` and `Σ_{u:2}`: one sum node as it was written
    (`sum[j, k]`, `sum[u:2]`), which reads back as the same node (spec 10)."""
    if len(indices) == 1 and indices[0].runs_over is None:
        return f"Σ_{indices[0].name}"
    return "Σ_{" + ",".join(str(i) for i in indices) + "}"


def _pretty_add(expr: ast.Add, need: int) -> str:
    out = _pretty(expr.terms[0].expr, _PRODUCT, True)
    for term in expr.terms[1:]:
        out += f" {term.sign} " + _pretty(term.expr, _PRODUCT, True)
    return _paren(out, need > _ADD)


def _pretty_product(expr: ast.Product, need: int, last: bool) -> str:
    wrap = need > _PRODUCT
    inner_last = True if wrap else last
    parts = []
    for position, factor in enumerate(expr.factors):
        is_last = position == len(expr.factors) - 1
        text = _pretty(factor.expr, _UNARY if position == 0 else _POWER, inner_last and is_last)
        if factor.op == "":
            parts.append(text)
        elif factor.op == " ":
            parts.append(" " + text)
        else:
            parts.append(f" {factor.op} {text}")
    return _paren("".join(parts), wrap)


def _pretty_power(expr: ast.Power, need: int, last: bool) -> str:
    wrap = need > _POWER
    base = _pretty(expr.base, _ATOM, False)
    # Right-associative: a power or a negation as the exponent needs no parentheses.
    exponent_need = _UNARY if isinstance(expr.exponent, ast.Negate | ast.Power) else _ATOM
    # A `Σ` inside the exponent is parenthesised: it cannot stand bare there (E074).
    exponent = _pretty(expr.exponent, exponent_need, False)
    return _paren(f"{base}^{exponent}", wrap)
