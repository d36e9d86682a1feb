"""Terms and expressions as LaTeX math, for the Markdown and LaTeX renderers.

The same reading as `symbolic.formula` (terms) and `render.notation`
(expressions), with the same binding strengths and parentheses, in LaTeX:
`Σ_j X[i,j] W[j,k]` becomes `\\sum_{j} X_{i,j} W_{j,k}`, `dL/dY[i,k]`
becomes `\\frac{\\partial L}{\\partial Y_{i,k}}`, `δ[i,p]` becomes
`\\delta_{i,p}`. A name of one letter is printed as it is; a longer one as
`\\mathit{W1}`, with `_` escaped, so a user's name can never be read as a
LaTeX command. No `|` is ever printed (`\\vert` instead): these formulas go
into Markdown table cells, where a `|` would end the cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from shapecheck.check.program import Size
from shapecheck.exhaustive import assert_never
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Derivation
from shapecheck.symbolic.formula import divisor, divisors_last, exact_fraction, shift_text
from shapecheck.syntax import ast

# Binding strength, loosest first (as in symbolic.formula and render.notation).
_COMPARE, _ADD, _PRODUCT, _UNARY, _POWER, _ATOM = range(6)

# Comparisons as LaTeX relations.
_RELATIONS = {">": ">", ">=": r"\geq", "<": "<", "<=": r"\leq", "==": "=", "!=": r"\neq"}

# Characters that LaTeX would read as syntax, as they may appear in a name
# (the grammar allows `_` and, in `for` templates, braces).
_ESCAPES = {"_": r"\_", "{": r"\{", "}": r"\}", "\\": r"\backslash{}"}

_FUNCTIONS = {
    "exp": r"\exp",
    "log": r"\log",
    "tanh": r"\tanh",
    "sin": r"\sin",
    "cos": r"\cos",
    "sigmoid": r"\sigma",
    "relu": r"\operatorname{relu}",
    "step": r"\operatorname{step}",
    "sign": r"\operatorname{sign}",
    "max": r"\max",
    "min": r"\min",
}


# An index as printed: a name, or a literal (terms and expressions spell them alike).
_Shown = t.Index | ast.Index | str


def name(text: str) -> str:
    """A user's name in math: `X`, `\\mathit{W1}`, `\\mathit{x\\_0}`."""
    if len(text) == 1 and text.isascii() and text.isalpha():
        return text
    return r"\mathit{" + "".join(_ESCAPES.get(c, c) for c in text) + "}"


def subscript(items: Iterable[_Shown]) -> str:
    """`_{i,k}` for indices (or nothing for none); literal indices as numbers; an
    integer array in a position as its own subscripted name, `P_{i,y_{i}}`."""
    shown = [_shown_index(i) for i in items]
    return "_{" + ",".join(shown) + "}" if shown else ""


def _shown_index(item: _Shown) -> str:
    if isinstance(item, ast.IndexGather | t.Gather):
        return name(item.name) + subscript(item.indices)
    if isinstance(item, t.Select):
        # `\delta_{q,\operatorname{argmax}_{j}(X_{i,j})}` (spec 9.2).
        return term(item.choice)
    if isinstance(item, ast.IndexSelect):
        return expr(item.call)
    if isinstance(item, t.Shift):
        return shift_text(item, _shown_index)
    if isinstance(item, ast.IndexExpr):
        # `a + u - 1`, `2 a + k`, `idx_{i} + 1`: each leaf in math, signs kept.
        return ast.tree_text(item.tree, _shown_leaf)
    if isinstance(item, ast.IndexName):
        return name(item.name)  # `max_{u}` for `max[u:2]`: the range is no subscript
    return name(str(item)) if not str(item).isdigit() else str(item)


def _shown_leaf(leaf: ast.IndexTree) -> str:
    match leaf:
        case ast.IndexGather() | ast.IndexSelect():
            return _shown_index(leaf)
        case ast.IndexName() | ast.IndexSize():
            return name(leaf.name)
        case ast.IndexLiteral():
            return str(leaf.value)
        case ast.IndexArith() | ast.IndexNeg():
            raise AssertionError("tree_text prints operators itself")
        case _:
            assert_never(leaf)


def partial(of: str, wrt: str, of_at: str = "", wrt_at: str = "") -> str:
    """`\\frac{\\partial L}{\\partial W_{j,k}}`; `of_at`/`wrt_at` are subscripts."""
    top = r"\operatorname{loss}" if of == "loss" else name(of)
    return r"\frac{\partial " + top + of_at + r"}{\partial " + name(wrt) + wrt_at + "}"


def second_partial(of: str, wrt: str, of_at: str = "", wrt_at: str = "") -> str:
    """`\\frac{\\partial^2 L}{\\partial w_{j} \\partial w_{u}}` (spec 9.6);
    `wrt_at` holds both subscripts, inner then outer, when given."""
    top = r"\operatorname{loss}" if of == "loss" else name(of)
    bottom = wrt_at or r"\partial " + name(wrt) + "^2"
    return r"\frac{\partial^2 " + top + of_at + "}{" + bottom + "}"


def derivative(derivation: Derivation) -> str:
    """The left side of a derivation: `\\partial L / \\partial W_{j,k}`, and for
    d2A/dB2 the second partial with B's inner and outer subscripts."""
    if derivation.order == 1:
        return partial(
            derivation.of,
            derivation.wrt,
            subscript(derivation.of_indices),
            subscript(derivation.wrt_indices),
        )
    cut = len(derivation.of_indices) - len(derivation.wrt_indices)
    inner, outer = derivation.of_indices[cut:], derivation.wrt_indices
    bottom = " ".join(r"\partial " + name(derivation.wrt) + subscript(at) for at in (inner, outer))
    return second_partial(
        derivation.first_of, derivation.wrt, subscript(derivation.of_indices[:cut]), bottom
    )


def derivation_signature(derivation: Derivation) -> str:
    """`[i,k \\mid p,q]` in the derivation's layout (spec 9.6 for d2A/dB2)."""
    return signature("numerator", *derivation.signature_parts)


def label(text: str, at: tuple[_Shown, ...] = ()) -> str:
    """A derivative label `dA/dB` or `d2A/dB2` (with indices, given at A's side
    when A is shown alone) as a fraction; any other name as a name."""
    if text.startswith("d2") and "/d" in text:
        of, _, wrt = text[2:-1].partition("/d")
        return second_partial(of, wrt) + subscript(at)
    if text.startswith("d") and "/d" in text:
        of, _, wrt = text[1:].partition("/d")
        return partial(of, wrt) + subscript(at)
    return name(text) + subscript(at)


def signature(layout: str, of_at: Sequence[_Shown], wrt_at: Sequence[_Shown]) -> str:
    """`[i,k \\mid p,q]`: `render.derivatives.signature` without a `|`."""
    first, second = (of_at, wrt_at) if layout == "numerator" else (wrt_at, of_at)
    shown = [",".join(name(str(i)) for i in part) for part in (first, second) if part]
    return r"\text{scalar}" if not shown else "[" + r" \mid ".join(shown) + "]"


def size(value: Size) -> str:
    return name(value.name) if value.name is not None else str(value.value)


def shape(sizes: tuple[Size, ...] | list[Size]) -> str:
    """`n \\times h = 8 \\times 5`, `8 \\times 5`, or `\\text{scalar}`."""
    if not sizes:
        return r"\text{scalar}"
    names = r" \times ".join(size(s) for s in sizes)
    numbers = r" \times ".join(str(s.value) if s.value is not None else size(s) for s in sizes)
    return names if names == numbers else f"{names} = {numbers}"


def number(value: float) -> str:
    value += 0.0  # -0.0 + 0.0 is 0.0: `-0` is never printed
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    ratio = exact_fraction(value)
    if ratio is not None:
        sign = "-" if ratio[0] < 0 else ""
        return sign + r"\frac{" + str(abs(ratio[0])) + "}{" + str(ratio[1]) + "}"
    mantissa, _, exponent = f"{value:.6g}".partition("e")
    return mantissa + (r" \cdot 10^{" + str(int(exponent)) + "}" if exponent else "")


def _paren(text: str, wrap: bool) -> str:
    return r"\left(" + text + r"\right)" if wrap else text


def _indexed_call(function: str, over: Iterable[_Shown], argument: str) -> str:
    """`softmax_{j}(...)`: softmax, logsumexp and norm name what they run over."""
    return r"\operatorname{" + function + "}" + subscript(over) + r"\left(" + argument + r"\right)"


def _relation(op: str, left: str, right: str, wrap: bool) -> str:
    """A comparison, worth 1 or 0, in parentheses wherever it is not whole."""
    return _paren(f"{left} {_RELATIONS[op]} {right}", wrap)


def _pair(function: str, first: str, second: str) -> str:
    """max or min of two values, as LaTeX writes them."""
    return _FUNCTIONS[function] + r"\left(" + first + ", " + second + r"\right)"


def opaque_call(function: str, order: int, argument: str) -> str:
    """`f'\\left(x\\right)`: an `fn` function (spec 9.5) or its derivative,
    primes up to the third and `f^{(4)}` beyond, as textbooks write them."""
    marks = "'" * order if order <= 3 else "^{(" + str(order) + ")}"
    return name(function) + marks + r"\left(" + argument + r"\right)"


def _call(function: str, argument: str) -> str:
    if function == "sqrt":
        return r"\sqrt{" + argument + "}"
    if function == "abs":
        return r"\left\vert " + argument + r" \right\vert"
    return _FUNCTIONS[function] + r"\left(" + argument + r"\right)"


# ---------------------------------------------------------------------------
# Terms, as symbolic.formula prints them


@dataclass(frozen=True)
class Ranks:
    """The rank of each array, so that `dP/dS[i,k,r]` can be shown as
    `\\frac{\\partial P_{i,k}}{\\partial S_{r}}`; `layout` orders a claim's
    derivative references (terms are always in numerator order)."""

    of: Mapping[str, int] = field(default_factory=dict)
    layout: str = "numerator"

    def split(
        self, of: str, indices: tuple[_Shown, ...], numerator: bool
    ) -> tuple[tuple[_Shown, ...], tuple[_Shown, ...]]:
        """A's indices and B's of a reference `dOF/d...` at `indices`."""
        rank = self.of.get(of, 0)
        if numerator or self.layout == "numerator":
            return indices[:rank], indices[rank:]
        cut = len(indices) - rank
        return indices[cut:], indices[:cut]


def reference(label: str, indices: tuple[_Shown, ...], ranks: Ranks, numerator: bool) -> str:
    """`dA/dY` at indices as a fraction, A's indices on top when A is not a scalar."""
    of, _, wrt = label[1:].partition("/d")
    of_at, wrt_at = ranks.split(of, indices, numerator)
    return partial(of, wrt, subscript(of_at), subscript(wrt_at))


def term(value: t.Term, ranks: Ranks | None = None) -> str:
    return _term(value, _COMPARE, True, ranks or Ranks())


def _tensor(value: t.Tensor, ranks: Ranks) -> str:
    if value.kind in (t.ADJOINT, t.UPSTREAM, t.REFERENCE) and "/d" in value.name:
        # Adjoints are in numerator order: A's indices, then Y's.
        return reference(value.name, value.indices, ranks, numerator=True)
    return name(value.name) + subscript(value.indices)


def _term(value: t.Term, need: int, last: bool, ranks: Ranks) -> str:
    """`need`: how tightly the context binds; `last`: nothing follows in its product."""
    match value:
        case t.Const():
            return _paren(number(value.value), value.value < 0 and need > _ADD)
        case t.SizeOf():
            return size(value.size)
        case t.Zero():
            return "0"
        case t.Tensor():
            return _tensor(value, ranks)
        case t.Delta():
            return r"\delta" + subscript(value.indices)
        case t.Loss():
            return r"\operatorname{loss}\left(" + name(value.array) + r"\right)"
        case t.Matrix():
            return matrix_call(value.name, value.array, value.indices)
        case t.Func() | t.Extremum() | t.Compare() | t.IndexValue() | t.IndexedFunc():
            return _term_call(value, need, last, ranks)
        case t.Opaque():
            return opaque_call(value.name, value.order, _term(value.arg, _COMPARE, True, ranks))
        case t.Pow():
            return _term_pow(value, need, last, ranks)
        case t.Add():
            return _term_add(value, need, ranks)
        case t.Product():
            return _term_product(value, need, last, ranks)
        case _:
            assert_never(value)


def _term_call(
    value: t.Func | t.Extremum | t.Compare | t.IndexValue | t.IndexedFunc,
    need: int,
    last: bool,
    ranks: Ranks,
) -> str:
    """A function, max/min, a comparison, an index value, softmax and its kin."""
    match value:
        case t.Func():
            return _call(value.name, _term(value.arg, _COMPARE, True, ranks))
        case t.Extremum():
            first = _term(value.first, _COMPARE, True, ranks)
            return _pair(value.name, first, _term(value.second, _COMPARE, True, ranks))
        case t.Compare():
            left = _term(value.left, _ADD, True, ranks)
            right = _term(value.right, _ADD, True, ranks)
            return _relation(value.op, left, right, need > _COMPARE)
        case t.IndexValue():
            return name(value.index.name)
        case t.IndexedFunc():
            written = t.as_written(value)
            if not isinstance(written, t.IndexedFunc):
                return _term(written, need, last, ranks)
            return _indexed_call(
                written.name, written.over, _term(written.arg, _COMPARE, True, ranks)
            )
        case _:
            assert_never(value)


def _term_pow(value: t.Pow, need: int, last: bool, ranks: Ranks) -> str:
    if isinstance(value.exponent, t.Const) and value.exponent.value == -1.0:
        return _paren("1 / " + _term(value.base, _POWER, last, ranks), need > _PRODUCT)
    base = _term(value.base, _ATOM, False, ranks)
    exponent = _term(value.exponent, _ADD, True, ranks)
    return _paren(base + "^{" + exponent + "}", need > _POWER)


def _negative(value: t.Term) -> tuple[bool, t.Term]:
    """A leading negative constant split off, for `a - b` (as symbolic.formula does)."""
    if isinstance(value, t.Const) and value.value < 0:
        return True, t.Const(-value.value)
    if not isinstance(value, t.Product) or not value.factors:
        return False, value
    first = value.factors[0]
    if not isinstance(first, t.Const) or first.value >= 0:
        return False, value
    rest = value.factors[1:] if first.value == -1.0 else (t.Const(-first.value), *value.factors[1:])
    if not rest:
        return True, t.Const(1.0)
    if len(rest) == 1 and not value.summed:
        return True, rest[0]
    return True, t.Product(rest, value.summed)


def _term_add(value: t.Add, need: int, ranks: Ranks) -> str:
    if not value.terms:
        return "0"
    out = ""
    for position, part in enumerate(value.terms):
        negative, shown = _negative(part)
        text = _term(shown, _PRODUCT, True, ranks)
        if position == 0:
            out = ("-" + text) if negative else text
        else:
            out += (" - " if negative else " + ") + text
    return _paren(out, need > _ADD)


def _term_product(value: t.Product, need: int, last: bool, ranks: Ranks) -> str:
    negative, shown = _negative(value)
    if negative:
        return _paren("-" + _term(shown, _UNARY, last, ranks), need > _UNARY)
    prefix = "".join(r"\sum_{" + name(i.name) + "} " for i in value.summed)
    # A Σ reaches to the end of its product chain: bare only where nothing follows.
    bare = (last and need <= _UNARY) if value.summed else need <= _PRODUCT
    inner_last = last if bare else True
    parts: list[str] = []
    for position, factor in enumerate(divisors_last(value.factors)):
        is_last = position == len(value.factors) - 1 and inner_last
        by = divisor(factor) if parts else None
        if by is not None:
            parts.append("/ " + _term(by, _POWER, is_last, ranks))
        else:
            parts.append(_term(factor, _POWER if position else _UNARY, is_last, ranks))
    body = " ".join(parts) if parts else "1"
    return _paren(prefix + body, not bare)


# ---------------------------------------------------------------------------
# Expressions, as render.notation prints them


def expr(value: ast.Expr, ranks: Ranks | None = None) -> str:
    """An expression; `ranks` places the indices of a claim's `dA/dB[...]`."""
    return _expr(value, _COMPARE, True, ranks or Ranks())


def _expr(value: ast.Expr, need: int, last: bool, ranks: Ranks) -> str:
    match value:
        case ast.SumOver() | ast.MeanOver() | ast.RangeSum():
            return _expr_reduction(value, need, last, ranks)
        case ast.Add():
            return _expr_add(value, need, ranks)
        case ast.Product():
            return _expr_product(value, need, last, ranks)
        case ast.Negate():
            wrap = need > _UNARY
            return _paren("-" + _expr(value.operand, _UNARY, True if wrap else last, ranks), wrap)
        case ast.Power():
            return _expr_power(value, need, last, ranks)
        case ast.Call() | ast.OpaqueCall():
            return _expr_call(value, _expr(value.arg, _COMPARE, True, ranks))
        case ast.Extremum() | ast.Compare() | ast.IndexValue():
            return _expr_piecewise(value, need, ranks)
        case ast.ArrayRef() | ast.SizeRef() | ast.Delta():
            return _expr_named(value)
        case ast.IndexedCall():
            return _indexed_call(value.func, value.indices, _expr(value.arg, _COMPARE, True, ranks))
        case ast.DerivRef():
            return reference(f"d{value.of}/d{value.wrt}", value.indices, ranks, numerator=False)
        case ast.Number():
            return _paren(number(value.value), value.value < 0 and need > _ADD)
        case ast.Loss() | ast.MatrixCall():
            return _of_whole_array(value)
        case _:
            assert_never(value)


def _expr_call(value: ast.Call | ast.OpaqueCall, argument: str) -> str:
    """A built-in function or an `fn` function, of its argument in math."""
    if isinstance(value, ast.OpaqueCall):
        return opaque_call(value.func, value.order, argument)
    return _call(value.func, argument)


def _of_whole_array(value: ast.Loss | ast.MatrixCall) -> str:
    if isinstance(value, ast.Loss):
        return r"\operatorname{loss}\left(" + name(value.name) + r"\right)"
    return matrix_call(value.func, value.name, value.indices)


# The matrix functions as the notes write them: det X, tr X, (X⁻¹)_{ij}.
_MATRIX_OPERATORS = {"det": r"\det", "trace": r"\operatorname{tr}"}


def matrix_call(func: str, array: str, indices: Iterable[_Shown]) -> str:
    r"""`\det\left(X\right)`, `\operatorname{tr}\left(X\right)`, `\left(X^{-1}\right)_{i j}`."""
    if func == "inv":
        return r"\left(" + name(array) + r"^{-1}\right)" + subscript(indices)
    return _MATRIX_OPERATORS[func] + r"\left(" + name(array) + r"\right)"


def _expr_named(value: ast.ArrayRef | ast.SizeRef | ast.Delta) -> str:
    """An array, a size standing as a number (`n`), or a delta."""
    match value:
        case ast.ArrayRef():
            return name(value.name) + subscript(value.indices)
        case ast.SizeRef():
            return name(value.name)
        case ast.Delta():
            return r"\delta" + subscript(value.indices)
        case _:
            assert_never(value)


def _expr_reduction(
    value: ast.Reduction | ast.RangeSum, need: int, last: bool, ranks: Ranks
) -> str:
    r"""`\sum_{j} body`, `\operatorname{mean}_{i}\left(body\right)`, or a range sum
    `\sum_{t=1}^{T} \left(body\right)`."""
    match value:
        case ast.SumOver():
            return _expr_sum(value, need, last, ranks)
        case ast.MeanOver():
            below = ",".join(name(i.name) for i in value.indices)
            body = _expr(value.body, _COMPARE, True, ranks)
            return r"\operatorname{mean}_{" + below + r"}\left(" + body + r"\right)"
        case ast.RangeSum():
            return _expr_range_sum(value, ranks)
        case _:
            assert_never(value)


def _expr_piecewise(
    value: ast.Extremum | ast.Compare | ast.IndexValue, need: int, ranks: Ranks
) -> str:
    """max/min, a comparison (parenthesised where it is not whole), an index value."""
    if isinstance(value, ast.IndexValue):
        return name(value.name)
    if isinstance(value, ast.Extremum):
        first = _expr(value.first, _COMPARE, True, ranks)
        return _pair(value.func, first, _expr(value.second, _COMPARE, True, ranks))
    left = _expr(value.left, _ADD, True, ranks)
    right = _expr(value.right, _ADD, True, ranks)
    return _relation(value.op, left, right, need > _COMPARE)


def _expr_sum(value: ast.SumOver, need: int, last: bool, ranks: Ranks) -> str:
    bare = last and need < _ATOM
    prefix = "".join(r"\sum_{" + name(i.name) + "} " for i in value.indices)
    return _paren(prefix + _expr(value.body, _PRODUCT, True if not bare else last, ranks), not bare)


def _expr_range_sum(value: ast.RangeSum, ranks: Ranks) -> str:
    r"""`\sum_{t=1}^{T} \left(body\right)`: the steps' sum, always in its own brackets."""
    below = name(value.var) + "=" + _bound(value.start)
    body = _expr(value.body, _COMPARE, True, ranks)
    return r"\sum_{" + below + "}^{" + _bound(value.stop) + r"} \left(" + body + r"\right)"


def _bound(bound: ast.RangeBound) -> str:
    if bound.name is None:
        return str(bound.value)
    offset = f"{bound.offset:+d}" if bound.offset else ""
    return name(bound.name) + offset


def _expr_add(value: ast.Add, need: int, ranks: Ranks) -> str:
    out = _expr(value.terms[0].expr, _PRODUCT, True, ranks)
    for item in value.terms[1:]:
        out += f" {item.sign} " + _expr(item.expr, _PRODUCT, True, ranks)
    return _paren(out, need > _ADD)


def _expr_product(value: ast.Product, need: int, last: bool, ranks: Ranks) -> str:
    wrap = need > _PRODUCT
    inner_last = True if wrap else last
    parts = []
    for position, factor in enumerate(value.factors):
        is_last = position == len(value.factors) - 1
        text = _expr(
            factor.expr, _UNARY if position == 0 else _POWER, inner_last and is_last, ranks
        )
        if factor.op == "":
            parts.append(text)
        elif factor.op == " ":
            parts.append(" " + text)
        elif factor.op == "*":
            parts.append(r" \cdot " + text)
        else:
            parts.append(" / " + text)
    return _paren("".join(parts), wrap)


def _expr_power(value: ast.Power, need: int, last: bool, ranks: Ranks) -> str:
    wrap = need > _POWER
    base = _expr(value.base, _ATOM, False, ranks)
    exponent = _expr(value.exponent, _ADD, True, ranks)
    return _paren(base + "^{" + exponent + "}", wrap)
