"""Terms in the notes' notation: `Σ_i 2 X[i,j] dL/dY[i,k]`, `W[q,k] δ[i,p]`.

Division is shown for a power -1 (`exp(Z[i,k]) / S[i]`), a leading -1 as a
minus sign, and a sum reaches as far right as its product, as in
`render.notation`.
"""

from __future__ import annotations

from shapecheck.symbolic import terms as t

_ADD, _PRODUCT, _UNARY, _POWER, _ATOM = range(5)


def number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def indices(items: tuple[t.Index, ...]) -> str:
    return "[" + ",".join(str(i) for i in items) + "]" if items else ""


def formula(term: t.Term) -> str:
    return _show(term, _ADD, True)


def _paren(text: str, wrap: bool) -> str:
    return f"({text})" if wrap else text


def _negative(term: t.Term) -> tuple[bool, t.Term]:
    """Split a leading negative constant for printing `a - b`."""
    if isinstance(term, t.Const) and term.value < 0:
        return True, t.Const(-term.value)
    if isinstance(term, t.Product) and term.factors and isinstance(term.factors[0], t.Const):
        first = term.factors[0].value
        if first < 0:
            rest = term.factors[1:] if first == -1.0 else (t.Const(-first), *term.factors[1:])
            if not rest:
                return True, t.Const(1.0)
            if len(rest) == 1 and not term.summed:
                return True, rest[0]
            return True, t.Product(rest, term.summed)
    return False, term


def _show(term: t.Term, need: int, last: bool) -> str:
    if isinstance(term, t.Const):
        text = number(term.value)
        return _paren(text, term.value < 0 and need > _ADD)
    if isinstance(term, t.SizeOf):
        return str(term.size)
    if isinstance(term, t.Zero):
        return "0"
    if isinstance(term, t.Tensor):
        return term.name + indices(term.indices)
    if isinstance(term, t.Delta):
        return "δ" + indices(term.indices)
    if isinstance(term, t.Loss):
        return f"loss({term.array})"
    if isinstance(term, t.Func):
        return f"{term.name}({_show(term.arg, _ADD, True)})"
    if isinstance(term, t.Pow):
        if isinstance(term.exponent, t.Const) and term.exponent.value == -1.0:
            return _paren("1 / " + _show(term.base, _POWER, last), need > _PRODUCT)
        base = _show(term.base, _ATOM, False)
        exponent = _show(term.exponent, _ATOM, True)
        return _paren(f"{base}^{exponent}", need > _POWER)
    if isinstance(term, t.Add):
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
    assert isinstance(term, t.Product)
    negative, shown = _negative(term)
    if negative:
        return _paren("-" + _show(shown, _UNARY, last), need > _UNARY)
    prefix = "".join(f"Σ_{i.name} " for i in term.summed)
    bare = (last and need <= _UNARY) if term.summed else need <= _PRODUCT
    inner_last = last if bare else True
    parts: list[str] = []
    factors = term.factors
    for position, factor in enumerate(factors):
        is_last = position == len(factors) - 1 and inner_last
        if (
            parts
            and isinstance(factor, t.Pow)
            and isinstance(factor.exponent, t.Const)
            and factor.exponent.value < 0
        ):
            magnitude = -factor.exponent.value
            shown = factor.base if magnitude == 1.0 else t.Pow(factor.base, t.Const(magnitude))
            parts.append("/ " + _show(shown, _POWER, is_last))
            continue
        parts.append(_show(factor, _POWER if position else _UNARY, is_last))
    body = " ".join(parts) if parts else "1"
    return _paren(prefix + body, not bare)
