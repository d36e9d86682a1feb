"""Matrix notation as text and as LaTeX math (spec 10: display only, not `.idx`).

Prints the tree of `symbolic/matrixform.py`: `Xᵀ (dL/dY)`, `1ᵀ (dL/dY)`,
`(dL/dH) ⊙ (1 - H ⊙ H)`, `diag(v) M`, `x yᵀ`; in LaTeX `X^\\top
\\frac{\\partial L}{\\partial Y}`. One printer serves both, with the spelling of
each kind of node in a `_Style`. Parentheses: a sum inside anything; a product
(matrix product or scalar factors) inside an element-wise product, a power or
another product's scalar factors; an element-wise product inside any product;
a derivative name (`dL/dY`) wherever something stands beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from shapecheck.exhaustive import assert_never
from shapecheck.render import math as latex_math
from shapecheck.symbolic import matrixform as m
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Adjoint, Derivation
from shapecheck.symbolic.formula import exact_fraction

# How tightly the context binds: a term of a sum, a factor of a product, the
# operand of ⊙, the base of a power or of a transpose.
_TOP, _SUM, _PRODUCT, _HADAMARD, _ATOM = range(5)


@dataclass(frozen=True)
class _Style:
    transpose: str
    inverse: str
    inverse_transpose: str
    hadamard: str
    dot: str
    divide: str
    elementwise_divide: str
    ones: str
    identity: str
    paren: Callable[[str], str]
    name: Callable[[str], str]
    number: Callable[[float], str]
    call: Callable[[str, str], str]
    power: Callable[[str, str, bool], str]
    relation: Callable[[str], str]
    # A fraction `\\frac{∂L}{∂Y}` groups itself; `dL/dY` needs brackets beside others.
    bracket_derivatives: bool


def _text_number(value: float) -> str:
    value += 0.0  # never `-0`
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    ratio = exact_fraction(value)
    return f"{ratio[0]}/{ratio[1]}" if ratio is not None else f"{value:.6g}"


def _text_power(base: str, exponent: str, scalar: bool) -> str:
    return f"{base}^{exponent}" if scalar else f"{base}^∘{exponent}"


TEXT = _Style(
    transpose="ᵀ",
    inverse="⁻¹",
    inverse_transpose="⁻ᵀ",
    hadamard=" ⊙ ",
    dot=" · ",
    divide=" / ",
    elementwise_divide=" ⊘ ",
    ones="1",
    identity="I",
    paren=lambda s: f"({s})",
    name=lambda s: s,
    number=_text_number,
    call=lambda f, a: f"{f}({a})",
    power=_text_power,
    relation=lambda op: op,
    bracket_derivatives=True,
)

_LATEX_FUNCTIONS = {
    "exp": r"\exp",
    "log": r"\log",
    "tanh": r"\tanh",
    "sin": r"\sin",
    "cos": r"\cos",
    "sigmoid": r"\sigma",
    "max": r"\max",
    "min": r"\min",
    "det": r"\det",
    "tr": r"\operatorname{tr}",
    "diag": r"\operatorname{diag}",
    "relu": r"\operatorname{relu}",
    "step": r"\operatorname{step}",
    "sign": r"\operatorname{sign}",
    "abs": r"\operatorname{abs}",
}


def _latex_call(function: str, argument: str) -> str:
    if function == "sqrt":
        return r"\sqrt{" + argument + "}"
    if "'" in function:
        bare = function.rstrip("'")
        head = latex_math.name(bare) + "'" * (len(function) - len(bare))
    else:
        # An `fn` function of the file: its name as a name (never a command).
        head = _LATEX_FUNCTIONS.get(function, latex_math.name(function))
    return head + r"\left(" + argument + r"\right)"


def _latex_power(base: str, exponent: str, scalar: bool) -> str:
    return base + ("^{" if scalar else r"^{\circ ") + exponent + "}"


LATEX = _Style(
    transpose=r"^\top",
    inverse="^{-1}",
    inverse_transpose=r"^{-\top}",
    hadamard=r" \odot ",
    dot=r" \cdot ",
    divide=" / ",
    elementwise_divide=r" \oslash ",
    ones=r"\mathbf{1}",
    identity="I",
    paren=lambda s: r"\left(" + s + r"\right)",
    name=latex_math.label,
    number=latex_math.number,
    call=_latex_call,
    power=_latex_power,
    relation=lambda op: {">=": r"\geq", "<=": r"\leq", "==": "=", "!=": r"\neq"}.get(op, op),
    bracket_derivatives=False,
)


def text(expr: m.MatrixExpr) -> str:
    return _show(expr, _TOP, _avoiding(expr, TEXT))


def latex(expr: m.MatrixExpr) -> str:
    return _show(expr, _TOP, _avoiding(expr, LATEX))


def _avoiding(expr: m.MatrixExpr, style: _Style) -> _Style:
    """The style with the identity spelled `Id` where an array is named `I`."""
    if "I" in m.leaf_names(expr):
        return replace(style, identity=r"\operatorname{Id}" if style is LATEX else "Id")
    return style


def derivative_form(derivation: Derivation, shown: t.Term) -> m.MatrixExpr | None:
    """The matrix form of a derivative as shown (`shown`: its formula, or the
    expanded one), rows and columns in the file's layout."""
    return m.matrix_form(shown, derivation.signature)


def adjoint_form(adjoint: Adjoint) -> m.MatrixExpr | None:
    return m.matrix_form(adjoint.formula, adjoint.indices)


def _wrap(body: str, wrap: bool, style: _Style) -> str:
    return style.paren(body) if wrap else body


def _show(expr: m.MatrixExpr, need: int, style: _Style) -> str:
    match expr:
        case m.Leaf() | m.Number() | m.SizeLeaf() | m.Ones() | m.Identity() | m.Transpose():
            return _atom(expr, need, style)
        case m.MatMul():
            body = " ".join(_show(f, _PRODUCT, style) for f in expr.factors)
            return _wrap(body, need > _PRODUCT, style)
        case m.Times():
            return _times(expr, need, style)
        case m.Hadamard():
            return _hadamard(expr.factors, need, style)
        case m.Sum():
            return _sum(expr, need, style)
        case m.Power():
            return _power(expr, need, style)
        case m.Apply() | m.Relation() | m.Extremum() | m.Diag() | m.Trace() | m.WholeMatrix():
            return _call(expr, need, style)
        case _:
            assert_never(expr)


def _atom(
    expr: m.Leaf | m.Number | m.SizeLeaf | m.Ones | m.Identity | m.Transpose,
    need: int,
    style: _Style,
) -> str:
    match expr:
        case m.Leaf():
            bracket = expr.derivative and (style.bracket_derivatives or need == _ATOM)
            return _wrap(style.name(expr.name), bracket and need > _SUM, style)
        case m.Number():
            shown = style.number(expr.value)
            wrap = need > _SUM and (expr.value < 0 or ("/" in shown or "frac" in shown))
            return _wrap(shown, wrap, style)
        case m.SizeLeaf():
            size = expr.size
            return style.name(size.name) if size.name is not None else str(size.value)
        case m.Ones():
            return style.ones
        case m.Identity():
            return style.identity
        case m.Transpose():
            if isinstance(expr.of, m.WholeMatrix):  # only inv is transposed
                return style.name(expr.of.array) + style.inverse_transpose
            return _show(expr.of, _ATOM, style) + style.transpose
        case _:
            assert_never(expr)


def _call(
    expr: m.Apply | m.Relation | m.Extremum | m.Diag | m.Trace | m.WholeMatrix,
    need: int,
    style: _Style,
) -> str:
    match expr:
        case m.Apply():
            return style.call(expr.function + "'" * expr.order, _show(expr.arg, _TOP, style))
        case m.Relation():
            left, right = _show(expr.left, _SUM, style), _show(expr.right, _SUM, style)
            return _wrap(f"{left} {style.relation(expr.op)} {right}", need > _TOP, style)
        case m.Extremum():
            first, second = _show(expr.first, _TOP, style), _show(expr.second, _TOP, style)
            return style.call(expr.name, f"{first}, {second}")
        case m.Diag():
            return style.call("diag", _show(expr.of, _TOP, style))
        case m.Trace():
            return style.call("tr", _show(expr.of, _TOP, style))
        case m.WholeMatrix():
            if expr.function == "inv":
                return style.name(expr.array) + style.inverse
            function = "tr" if expr.function == "trace" else expr.function
            return style.call(function, style.name(expr.array))
        case _:
            assert_never(expr)


def _divisor(factor: m.MatrixExpr) -> m.MatrixExpr | None:
    """What a factor divides by: `b` for `b^-1`, `b^2` for `b^-2`."""
    if not (
        isinstance(factor, m.Power)
        and isinstance(factor.exponent, m.Number)
        and factor.exponent.value < 0
    ):
        return None
    magnitude = -factor.exponent.value
    if magnitude == 1.0:
        return factor.base
    return m.Power(factor.base, m.Number(magnitude), factor.scalar)


def _times(expr: m.Times, need: int, style: _Style) -> str:
    """Scalars, then the matrix, then what the scalars divide by: `2 Y`, `Kᵀ S / sqrt(d)`."""
    divisors = [d for f in expr.factors if (d := _scalar_divisor(f)) is not None]
    negative, kept = _sign([f for f in expr.factors if _scalar_divisor(f) is None])
    # Every factor but the last is a scalar, so the last reads unbracketed
    # (`2 Xᵀ Y`, `-Y ⊙ Y / n`: any grouping has the same value), unless a sum.
    shown = [_show(f, _HADAMARD, style) for f in kept[:-1]]
    if kept:
        shown.append(_show(kept[-1], _SUM + (isinstance(kept[-1], m.Sum)), style))
    # `-0.5 · 1ᵀ X`: two numbers side by side would read as one.
    body = ""
    for part in shown:
        joint = style.dot if body[-1:].isdigit() and part[:1].isdigit() else " "
        body = body + joint + part if body else part
    body = body or "1"
    for divisor in divisors:
        body += style.divide + _show(divisor, _ATOM, style)
    if negative:
        return _wrap("-" + body, need > _SUM, style)
    # Inside a matrix product its scalars would read as factors of the product.
    return _wrap(body, need >= _PRODUCT, style)


def _scalar_divisor(factor: m.MatrixExpr) -> m.MatrixExpr | None:
    """What a scalar factor divides by (`n` for `n^-1`); None for other factors."""
    return _divisor(factor) if isinstance(factor, m.Power) and factor.scalar else None


def _sign(factors: list[m.MatrixExpr]) -> tuple[bool, list[m.MatrixExpr]]:
    """A leading negative number taken out: `-2 X` prints as `-` and `2 X`."""
    if not factors or not isinstance(factors[0], m.Number) or factors[0].value >= 0:
        return False, factors
    magnitude = -factors[0].value
    return True, (factors[1:] if magnitude == 1.0 else [m.Number(magnitude), *factors[1:]])


def _hadamard(factors: tuple[m.MatrixExpr, ...], need: int, style: _Style) -> str:
    body = ""
    for position, factor in enumerate(factors):
        divisor = _divisor(factor) if position else None
        if divisor is not None:
            body += style.elementwise_divide + _show(divisor, _HADAMARD, style)
        else:
            body += (style.hadamard if position else "") + _show(factor, _HADAMARD, style)
    return _wrap(body, need >= _PRODUCT, style)


def _sum(expr: m.Sum, need: int, style: _Style) -> str:
    body = ""
    for position, term in enumerate(expr.terms):
        shown = _show(term, _SUM, style)
        if position and shown.startswith("-"):
            body += " - " + shown[1:]
        elif position:
            body += " + " + shown
        else:
            body = shown
    return _wrap(body, need > _SUM, style)


def _power(expr: m.Power, need: int, style: _Style) -> str:
    divisor = _divisor(expr)
    if divisor is not None and _divisor(divisor) is None:
        over = style.divide if expr.scalar else style.elementwise_divide
        return _wrap("1" + over + _show(divisor, _HADAMARD, style), need > _SUM, style)
    exponent = expr.exponent
    if (
        not expr.scalar
        and isinstance(exponent, m.Number)
        and exponent.value == 2.0
        and isinstance(expr.base, m.Leaf | m.Transpose)
    ):
        return _hadamard((expr.base, expr.base), need, style)
    base = _show(expr.base, _ATOM, style)
    return style.power(base, _show(exponent, _ATOM, style), expr.scalar)
