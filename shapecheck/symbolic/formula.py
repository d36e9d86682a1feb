"""Terms in the notes' notation: `Σ_i 2 X[i,j] dL/dY[i,k]`, `W[q,k] δ[i,p]`.

The symbolic stage's one printer of terms as `.idx` text: the renderers
print results with it, and the numeric stage quotes terms with it in its
diagnoses of wrong claims (so it lives here, below both).

Division is shown for a power -1 (`exp(Z[i,k]) / S[i]`), a leading -1 as a
minus sign, and a sum reaches as far right as its product, as in
`render.notation`.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from shapecheck.exhaustive import assert_never
from shapecheck.symbolic import terms as t

# Binding strength, loosest first: `need` is how tightly the context binds.
_COMPARE, _ADD, _PRODUCT, _UNARY, _POWER, _ATOM = range(6)


# A ratio of small whole numbers (`1/6`, `2/3`) is printed as such where six
# digits would not give the value back; larger denominators read as noise.
_MAX_DENOMINATOR = 1000


def exact_fraction(value: float) -> tuple[int, int] | None:
    """`(2, 3)` for 0.6666666666666666: a value that six significant digits
    would change (so not one the user wrote, such as 0.9 or 1e-5) and that is
    exactly a ratio of small whole numbers (spec 10: constants stay exact)."""
    if f"{value:.6g}" == "nan" or float(f"{value:.6g}") == value:
        return None
    ratio = Fraction(value).limit_denominator(_MAX_DENOMINATOR)
    if float(ratio) != value:
        return None
    return ratio.numerator, ratio.denominator


def _number(value: float) -> str:
    value += 0.0  # -0.0 + 0.0 is 0.0: `-0` is never printed
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    ratio = exact_fraction(value)
    if ratio is not None:
        return f"{ratio[0]}/{ratio[1]}"
    return f"{value:.6g}"


def indices(items: tuple[t.Index, ...]) -> str:
    if not items:
        return ""
    # A list holding an `argmax[j](...)` reads better spaced: `δ[q, argmax[j](X[i,j])]`.
    # So does one holding an index expression: `X[a + u - 1, b + v - 1]`.
    spaced = t.selections(items) or any(isinstance(i, t.Shift) for i in items)
    comma = ", " if spaced else ","
    return "[" + comma.join(index_text(i) for i in items) + "]"


def index_text(index: t.Index) -> str:
    """One index as `.idx` writes it; a selection is its whole call."""
    match index:
        case t.Idx() | t.Fixed():
            return str(index)
        case t.Gather():
            return index.name + indices(index.indices)
        case t.Select():
            return formula(index.choice)
        case t.Shift():
            # A gather or a selection alone (`x[2 t + argmax[u](…) - 2]` at
            # t = 1) would read back as standing in the position itself, with
            # the position's size as its range (E235, E239, E205): `+ 0` keeps
            # it a part of an expression.
            return shift_text(index, index_text) + (" + 0" if _lone_pick(index) else "")
        case _:
            assert_never(index)


def _lone_pick(index: t.Shift) -> bool:
    """A gather or a selection alone: times 1, with no offset."""
    if len(index.parts) != 1 or index.offset.terms:
        return False
    part, coefficient = index.parts[0]
    return isinstance(part, t.Gather | t.Select) and coefficient.constant == 1


def shift_text(index: t.Shift, part_text: Callable[[t.Index], str]) -> str:
    """`a + u - 1`, `2 a + u - 2`, `k + h`: each part as `part_text` prints it."""
    pieces: list[tuple[int, str]] = []
    for part, coefficient in index.parts:
        pieces.extend(t.scaled_index(part_text(part), coefficient))
    pieces.extend(index.offset.terms_text())
    return t.signed_sum(pieces)


def formula(term: t.Term) -> str:
    return _show(term, _COMPARE, True)


def _paren(text: str, wrap: bool) -> str:
    return f"({text})" if wrap else text


def _negative(term: t.Term) -> tuple[bool, t.Term]:
    """Split a leading negative constant for printing `a - b`."""
    if isinstance(term, t.Const) and term.value < 0:
        return True, t.Const(-term.value)
    if isinstance(term, t.Product):
        return _negative_product(term)
    return False, term


def _negative_product(term: t.Product) -> tuple[bool, t.Term]:
    if not term.factors or not isinstance(term.factors[0], t.Const):
        return False, term
    first = term.factors[0].value
    if first >= 0:
        return False, term
    rest = term.factors[1:] if first == -1.0 else (t.Const(-first), *term.factors[1:])
    if not rest:
        return True, t.Const(1.0)
    if len(rest) == 1 and not term.summed:
        return True, rest[0]
    return True, t.Product(rest, term.summed)


def _of_whole_array(term: t.Loss | t.Matrix) -> str:
    """`loss(A)`, `det(X)`, `trace(X)`, `inv(X)[q,p]`."""
    if isinstance(term, t.Loss):
        return f"loss({term.array})"
    return f"{term.name}({term.array})" + indices(term.indices)


def _show(term: t.Term, need: int, last: bool) -> str:
    """`need`: how tightly the context binds; `last`: nothing follows in its product."""
    match term:
        case t.Const():
            return _show_const(term.value, need)
        case t.SizeOf():
            return str(term.size)
        case t.Zero():
            return "0"
        case t.Tensor():
            return term.name + indices(term.indices)
        case t.Delta():
            return "δ" + indices(term.indices)
        case t.Loss() | t.Matrix():
            return _of_whole_array(term)
        case t.Func() | t.Extremum() | t.Compare() | t.IndexValue():
            return _show_piecewise(term, need)
        case t.Opaque():
            return f"{term.written}({_show(term.arg, _COMPARE, True)})"
        case t.IndexedFunc():
            return _show_indexed(term, need, last)
        case t.Pow():
            return _show_pow(term, need, last)
        case t.Add():
            return _show_add(term, need)
        case t.Product():
            return _show_product(term, need, last)
        case _:
            assert_never(term)


def _show_const(value: float, need: int) -> str:
    shown = _number(value)
    # `x (2/3)` and `(2/3)^2`: a ratio is bare only where a product starts.
    wrap = (value < 0 and need > _ADD) or ("/" in shown and need > _UNARY)
    return _paren(shown, wrap)


def _show_piecewise(term: t.Func | t.Extremum | t.Compare | t.IndexValue, need: int) -> str:
    """A function of one argument, max/min, a comparison, an index value."""
    match term:
        case t.Func():
            return f"{term.name}({_show(term.arg, _COMPARE, True)})"
        case t.Extremum():
            first = _show(term.first, _COMPARE, True)
            return f"{term.name}({first}, {_show(term.second, _COMPARE, True)})"
        case t.Compare():
            # A Σ on either side stops at the comparison (spec section 10).
            left = _show(term.left, _ADD, True)
            right = _show(term.right, _ADD, True)
            return _paren(f"{left} {term.op} {right}", need > _COMPARE)
        case t.IndexValue():
            return term.index.name
        case _:
            assert_never(term)


def _show_indexed(term: t.IndexedFunc, need: int, last: bool) -> str:
    written = t.as_written(term)
    if not isinstance(written, t.IndexedFunc):
        return _show(written, need, last)
    # A reduction's or selection's index that stands only inside index
    # expressions carries its range, `argmax[u:2](…)`, so that it reads back
    # (spec 9.4); softmax's index is free, never annotated.
    ranged = _ranged(written.over, written.arg) if not written.at else frozenset()
    over = ",".join(f"{i.name}:{i.size}" if i.name in ranged else i.name for i in written.over)
    return f"{written.name}[{over}]({_show(written.arg, _COMPARE, True)})"


def _show_pow(term: t.Pow, need: int, last: bool) -> str:
    if isinstance(term.exponent, t.Const) and term.exponent.value == -1.0:
        return _paren("1 / " + _show(term.base, _POWER, last), need > _PRODUCT)
    base = _show(term.base, _ATOM, False)
    exponent = _show(term.exponent, _ATOM, True)
    return _paren(f"{base}^{exponent}", need > _POWER)


def _show_add(term: t.Add, need: int) -> str:
    if not term.terms:
        return "0"
    out = ""
    for position, part in enumerate(term.terms):
        negative, shown = _negative(part)
        text = _show(shown, _PRODUCT, True)
        if position == 0:
            out = ("-" + text) if negative else text
        else:
            out += (" - " if negative else " + ") + text
    return _paren(out, need > _ADD)


def _show_product(term: t.Product, need: int, last: bool) -> str:
    negative, shown = _negative(term)
    if negative:
        return _paren("-" + _show(shown, _UNARY, last), need > _UNARY)
    prefix = _sigmas(term)
    # A Σ reaches to the end of its product chain: bare only where nothing follows.
    bare = (last and need <= _UNARY) if term.summed else need <= _PRODUCT
    inner_last = last if bare else True
    parts: list[str] = []
    for position, factor in enumerate(divisors_last(term.factors)):
        is_last = position == len(term.factors) - 1 and inner_last
        by = divisor(factor) if parts else None
        if by is not None:
            parts.append("/ " + _show(by, _POWER, is_last))
        else:
            parts.append(_show(factor, _POWER if position else _UNARY, is_last))
    body = " ".join(parts) if parts else "1"
    return _paren(prefix + body, not bare)


def _sigmas(term: t.Product) -> str:
    """`Σ_i Σ_j `, with `Σ_{k:h}` for a summed index read as a window (a
    position holding just `k`, from a definition `I[i, k:h] = ... Z[i, k]`):
    printed bare, `Z[i, k]` and `δ[k, e]` would read k over Z's whole range;
    the annotation makes them windows again (spec 9.4 and 10)."""
    ranged = _ranged(term.summed, term) if term.summed else frozenset()
    return "".join(
        f"Σ_{{{i.name}:{i.size}}} " if i.name in ranged else f"Σ_{i.name} " for i in term.summed
    )


def _ranged(bound: tuple[t.Idx, ...], term: t.Term) -> frozenset[str]:
    """The names of `bound` that print with their range: each that stands as a
    whole index expression somewhere in `term` (a window), and each that
    stands alone in no position (only inside index expressions, as the `u` of
    `δ[2 a + u - 2, q]`: read back bare, its size would be unknown, E145)."""
    windows: set[str] = set()
    alone: set[str] = set()
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor | t.Delta | t.Matrix):
            windows.update(_bare(index) for index in node.indices if _bare(index))
            alone.update(_alone(node.indices))
            stack.extend(select.choice for select in t.selections(node.indices))
        stack.extend(t.children(node))
    return frozenset(i.name for i in bound if i.name in windows or i.name not in alone)


def _alone(indices: tuple[t.Index, ...]) -> set[str]:
    """The names standing alone in a position of `indices`, those of gathers included."""
    found: set[str] = set()
    for index in indices:
        if isinstance(index, t.Idx):
            found.add(index.name)
        elif isinstance(index, t.Gather):
            found.update(_alone(index.indices))
        elif isinstance(index, t.Shift):
            found.update(_alone(tuple(p for p, _ in index.parts if isinstance(p, t.Gather))))
    return found


def _bare(index: t.Index) -> str:
    """`k` for the expression `k` alone (coefficient 1, no offset), else ""."""
    if not isinstance(index, t.Shift) or len(index.parts) != 1 or index.offset.terms_text():
        return ""
    part, coefficient = index.parts[0]
    return part.name if isinstance(part, t.Idx) and coefficient.constant == 1 else ""


def divisors_last(factors: tuple[t.Term, ...]) -> tuple[t.Term, ...]:
    """The factors in the order printed: what divides goes after the rest, as
    a textbook writes `(P[i,k] - δ[k,y[i]]) / n` rather than `(1 / n) (…)`;
    a product of divisors alone keeps its order (it starts `1 / …`)."""
    dividing = [f for f in factors if divisor(f) is not None]
    if not dividing or len(dividing) == len(factors):
        return factors
    return tuple(f for f in factors if divisor(f) is None) + tuple(dividing)


def divisor(factor: t.Term) -> t.Term | None:
    """What a factor divides by, if it is a negative power: `x^-2` divides by `x^2`."""
    if not (
        isinstance(factor, t.Pow)
        and isinstance(factor.exponent, t.Const)
        and factor.exponent.value < 0
    ):
        return None
    magnitude = -factor.exponent.value
    return factor.base if magnitude == 1.0 else t.Pow(factor.base, t.Const(magnitude))
