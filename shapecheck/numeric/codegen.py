"""The numpy code that computes a term: what `derive` prints per derivative.

`numpy_code(term)` writes the same steps `evaluate.Evaluator` runs — one
`np.einsum` per product, with axes aligned and broadcast exactly as the
evaluator aligns them — e.g. `np.einsum("ab,ac->bc", X, dL_dY)`. The tests run
this code and compare it with finite differences. No numpy is needed to print it.
"""

from __future__ import annotations

import string
from collections.abc import Callable

from shapecheck.check.program import Size
from shapecheck.exhaustive import assert_never
from shapecheck.symbolic import terms as t

_LETTERS = string.ascii_letters


class CodeError(Exception):
    """A product with more indices than einsum can name."""


def python_name(name: str) -> str:
    """`dL/dY` -> `dL_dY`: an identifier for an array or derivative."""
    return name.replace("/", "_")


def numpy_code(term: t.Term, target: tuple[t.Idx, ...] | None = None) -> str:
    """Numpy code computing `term` with axes in `target` order (default: its free order).

    Axes of `target` that the term lacks become length-1 axes (numpy then
    broadcasts them), exactly as `Evaluator` aligns terms.
    """
    wanted = target if target is not None else term.free
    if isinstance(term, t.Product) and {i.name for i in wanted} == set(t.names(term.free)):
        # An einsum can write its output in any order: no separate transpose.
        code, axes = _product_code(term, t.names(wanted))
    else:
        code, axes = _code(term)
    return _aligned(code, axes, wanted)


def _aligned(code: str, axes: tuple[str, ...], wanted: tuple[t.Idx, ...]) -> str:
    """`code` (with axes `axes`) transposed to `wanted`'s order, missing axes as length 1."""
    present = tuple(i.name for i in wanted if i.name in axes)
    if present != axes:
        letters = {n: _LETTERS[k] for k, n in enumerate(axes)}
        source = "".join(letters[a] for a in axes)
        destination = "".join(letters[a] for a in present)
        code = f'np.einsum("{source}->{destination}", {code})'
    missing = tuple(k for k, i in enumerate(wanted) if i.name not in axes)
    if missing and axes:
        code = f"np.expand_dims({code}, {missing if len(missing) > 1 else missing[0]})"
    return code


def _shape(indices: tuple[t.Idx, ...]) -> str:
    sizes = [str(i.size.value) for i in indices]
    return "(" + ", ".join(sizes) + ("," if len(sizes) == 1 else "") + ")"


def _code(term: t.Term) -> tuple[str, tuple[str, ...]]:
    """Code for `term` and the axes its value has (in order)."""
    match term:
        case t.Const():
            return repr(term.value + 0.0), ()  # + 0.0: never `-0.0`
        case t.SizeOf():
            return str(term.size.value), ()
        case t.Zero():
            return f"np.zeros({_shape(term.free)})", t.names(term.free)
        case t.Tensor():
            return _tensor_code(term), t.names(term.free)
        case t.Delta():
            return _delta_code(term), t.names(term.free)
        case t.Loss():
            return f"np.sum(dloss_d{term.array} * {term.array})", ()
        case t.Matrix():
            return matrix_code(term, python_name(term.array)), t.names(term.free)
        case t.Func():
            inner, axes = _code(term.arg)
            return _FUNCTION_CODE.get(term.name, f"np.{term.name}({{}})").format(inner), axes
        case t.Opaque():
            inner, axes = _code(term.arg)
            return opaque_code(python_name(term.name), term.order, inner), axes
        case t.Pow():
            base = numpy_code(term.base, term.free)
            exponent = numpy_code(term.exponent, term.free)
            return f"np.power({base}, {exponent})", t.names(term.free)
        case t.IndexedFunc() | t.Compare() | t.Extremum() | t.IndexValue():
            return _function_code(term)
        case t.Add():
            return _add_code(term), t.names(term.free)
        case t.Product():
            return _product_code(term, t.names(term.free))
        case _:
            assert_never(term)


def _function_code(
    term: t.IndexedFunc | t.Compare | t.Extremum | t.IndexValue,
) -> tuple[str, tuple[str, ...]]:
    """softmax and its kin, a comparison, max/min, an index value."""
    match term:
        case t.IndexedFunc() if t.read_at_gather(term):
            written = t.as_written(term)
            return numpy_code(written, term.free), t.names(term.free)
        case t.IndexedFunc():
            inner, axes = _code(term.arg)
            return indexed_code(term, inner, axes, _INDEXED_CODE[term.name])
        case t.Compare():
            left = numpy_code(term.left, term.free)
            right = numpy_code(term.right, term.free)
            return f"np.{COMPARE_CODE[term.op]}({left}, {right}).astype(float)", t.names(term.free)
        case t.Extremum():
            first = numpy_code(term.first, term.free)
            second = numpy_code(term.second, term.free)
            return f"np.{term.name}imum({first}, {second})", t.names(term.free)
        case t.IndexValue():
            return f"np.arange(1.0, {term.index.size.value} + 1.0)", t.names(term.free)
        case _:
            assert_never(term)


def opaque_code(function: str, order: int, argument: str) -> str:
    """`f(x)`, `f(x, 1)`: an `fn` function's stand-in (`numeric/standins.py`)
    called with the order of its derivative, as `--emit numpy` defines it."""
    return f"{function}({argument})" if order == 0 else f"{function}({argument}, {order})"


# numpy's name for each comparison (also the emitted module's, render/numpy_module.py).
COMPARE_CODE = {
    ">": "greater",
    ">=": "greater_equal",
    "<": "less",
    "<=": "less_equal",
    "==": "equal",
    "!=": "not_equal",
}


# Functions numpy does not have under the language's name.
_FUNCTION_CODE = {
    "relu": "np.maximum({}, 0.0)",
    "step": "np.greater({}, 0.0).astype(float)",
    "sigmoid": "(1.0 / (1.0 + np.exp(-({}))))",
}


def picks_code(indices: tuple[t.Index, ...], free: tuple[t.Idx, ...]) -> list[str]:
    """Each position's 0-based picks as code broadcasting over `free`'s axes,
    as `Evaluator.picks` computes them: `np.arange(4)`, `0`, `y - 1`."""
    found: list[str] = []
    for index in indices:
        match index:
            case t.Idx():
                found.append(_aligned(f"np.arange({index.size.value})", (index.name,), free))
            case t.Fixed():
                found.append(str(index.value - 1))
            case t.Gather():
                inner = t.Tensor(index.name, index.indices)
                found.append(_aligned(f"({_tensor_code(inner)} - 1)", t.names(inner.free), free))
            case t.Select():
                choice = index.choice
                code = f"({numpy_code(choice, choice.free)}).astype(int) - 1"
                found.append(_aligned(f"({code})", t.names(choice.free), free))
            case t.Shift():
                parts = picks_code(tuple(p for p, _ in index.parts), free)
                found.append(shifted_code(index, parts, lambda s: str(s.value)))
            case _:
                assert_never(index)
    return found


def shifted_code(index: t.Shift, parts: list[str], size: Callable[[Size], str]) -> str:
    """`2 a + u - 2` as 0-based picks from its parts' 0-based picks A and U:
    the value is Σ c (P + 1) + offset, so the pick is Σ c P + (Σ c + offset - 1),
    `(2 * A + U)`; sizes as `size` writes them."""
    constant = index.offset + t.SizeSum.number(-1)
    terms: list[str] = []
    for pick, (_, coefficient) in zip(parts, index.parts, strict=True):
        constant = constant + coefficient
        number = coefficient.constant
        terms.append(pick if number == 1 else f"{_size_code(coefficient, size)} * {pick}")
    if constant.terms:
        terms.append(_size_code(constant, size))
    return "(" + " + ".join(terms) + ")"


def _size_code(value: t.SizeSum, size: Callable[[Size], str]) -> str:
    terms = [" * ".join([str(c), *(size(s) for s in sizes)]) for c, sizes in value.terms]
    number = value.constant
    return str(number) if number is not None else "(" + " + ".join(terms) + ")"


# softmax, logsumexp and norm over the axes `{axis}` of `{x}`, written as one
# expression each; softmax and logsumexp subtract the largest entry first, as
# the evaluator does, so that an argument of 1000 does not overflow.
_INDEXED_CODE = {
    "softmax": "(lambda a: (lambda e: e / e.sum(axis={axis}, keepdims=True))"
    "(np.exp(a - a.max(axis={axis}, keepdims=True))))({x})",
    "logsumexp": "(lambda a: (lambda m: np.log(np.exp(a - m).sum(axis={axis})) "
    "+ m.squeeze(axis={axis}))(a.max(axis={axis}, keepdims=True)))({x})",
    "norm": "np.sqrt(np.square({x}).sum(axis={axis}))",
    # np.argmax and np.argmin give the FIRST extreme, as the language does.
    "max": "{x}.max(axis={axis})",
    "min": "{x}.min(axis={axis})",
    "argmax": "({x}.argmax(axis={one}) + 1)",
    "argmin": "({x}.argmin(axis={one}) + 1)",
}


def indexed_code(
    term: t.IndexedFunc, inner: str, axes: tuple[str, ...], template: str
) -> tuple[str, tuple[str, ...]]:
    """Code for softmax, logsumexp or norm of `inner` (whose axes are `axes`),
    from a template over `{x}` and `{axis}`, and the axes of its value."""
    missing = [o.name for o in term.over if o.name not in axes]
    if missing:
        raise CodeError(f"{term.name} over {', '.join(missing)}, an axis its argument lacks")
    axis = tuple(axes.index(o.name) for o in term.over)
    code = template.format(x=inner, axis=axis, one=axis[0])
    if term.name != "softmax":
        bound = {o.name for o in term.over}
        return code, tuple(a for a in axes if a not in bound)
    return _read_at(term, code, axes)


def _read_at(term: t.IndexedFunc, code: str, axes: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """softmax values (axes `axes`) read at `term.at`: a literal picks an
    entry, an index already on another axis takes a diagonal, and any other
    index just names the axis."""
    places = t.read_at_places(term, axes)
    if places is None:
        raise CodeError("softmax read at an argmax or argmin")
    positions, labels = places
    if any(p is not None for p in positions):
        picks = (":" if p is None else str(p) for p in positions)
        code = f"{code}[{', '.join(picks)}]"
    if len(set(labels)) == len(labels):
        return code, tuple(labels)
    output = t.names(term.free)
    letters = {n: _LETTERS[k] for k, n in enumerate(dict.fromkeys([*labels, *output]))}
    source = "".join(letters[n] for n in labels)
    return f'np.einsum("{source}->{"".join(letters[n] for n in output)}", {code})', output


# numpy's matrix functions (the determinant as the verifier computes it is
# slogdet's; printed code reads better with det, which agrees to rounding).
MATRIX_CODE = {"det": "np.linalg.det({})", "inv": "np.linalg.inv({})", "trace": "np.trace({})"}


def matrix_code(term: t.Matrix, array: str) -> str:
    """`np.linalg.det(X)`, `np.trace(X)`, or `np.linalg.inv(X)` read at its indices
    as an array would be; `array` is the matrix's code."""
    code = MATRIX_CODE[term.name].format(array)
    if term.name != "inv":
        return code
    return _tensor_code(t.Tensor(term.array, term.indices), code)


def _tensor_code(term: t.Tensor, written: str | None = None) -> str:
    """An array by name (or the code `written`): literal indices pick, a repeated
    index takes a diagonal, integer arrays in positions pick by fancy indexing
    (spec 9.3)."""
    name = python_name(term.name) if written is None else written
    if t.picks_entries(term.indices):
        return f"{name}[{', '.join(picks_code(term.indices, term.free))}]"
    if any(isinstance(i, t.Fixed) for i in term.indices):
        picks = ", ".join(str(i.value - 1) if isinstance(i, t.Fixed) else ":" for i in term.indices)
        name = f"{name}[{picks}]"
    names = [i.name for i in term.indices if isinstance(i, t.Idx)]
    if len(set(names)) == len(names):
        return name
    letters = {n: _LETTERS[k] for k, n in enumerate(dict.fromkeys(names))}
    inner = "".join(letters[n] for n in names)
    out = "".join(letters[i.name] for i in term.free)
    return f'np.einsum("{inner}->{out}", {name})'


def _add_code(term: t.Add) -> str:
    """A sum, broadcast to its free indices when no term has them all."""
    parts = " + ".join(numpy_code(x, term.free) for x in term.terms) or "0.0"
    if not any(set(t.names(x.free)) == set(t.names(term.free)) for x in term.terms):
        parts = f"np.broadcast_to({parts}, {_shape(term.free)})"
    return parts


def _product_code(term: t.Product, out_axes: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """One einsum over the factors with axes, scalar factors multiplied in front."""
    letters = _letters(term)
    scalars = [_scalar_factor_code(f) for f in term.factors if not f.free]
    arrays = [f for f in term.factors if f.free]
    if not arrays:
        return " * ".join(scalars) if scalars else "1.0", ()
    prefix = "".join(f"{s} * " for s in scalars)
    inputs = ",".join("".join(letters[i.name] for i in f.free) for f in arrays)
    output = "".join(letters[name] for name in out_axes)
    operands = ", ".join(numpy_code(f, f.free) for f in arrays)
    if len(arrays) == 1 and inputs == output:
        return prefix + _grouped(operands, arrays[0], prefix), out_axes
    return prefix + f'np.einsum("{inputs}->{output}", {operands})', out_axes


def _scalar_factor_code(factor: t.Term) -> str:
    """A scalar factor's code, a sum in parentheses: `np.power(3, -1.0) * (2.0 * v + -2.0 * R)`."""
    code = _code(factor)[0]
    return f"({code})" if isinstance(factor, t.Add) and len(factor.terms) > 1 else code


def _grouped(code: str, term: t.Term, prefix: str) -> str:
    """`2.0 * (a + b)`: a sum after scalar factors keeps its parentheses."""
    return f"({code})" if prefix and isinstance(term, t.Add) and len(term.terms) > 1 else code


def _letters(term: t.Product) -> dict[str, str]:
    """An einsum letter for each index of the product's factors."""
    names = list(dict.fromkeys([*(i.name for f in term.factors for i in f.free)]))
    if len(names) > len(_LETTERS):
        raise CodeError(f"a product with {len(names)} indices")
    return {n: _LETTERS[k] for k, n in enumerate(names)}


def _unit_code(literals: list[int], free: tuple[t.Idx, ...]) -> str:
    """A delta with a literal: `δ[1, p, q] = e₁[p] e₁[q]`; 0 everywhere for two
    different literals, or one past a free index's range (`δ[q, 2 2 2]`)."""
    if len(literals) > 1 or any(literals[0] > (i.size.value or 0) for i in free):
        return f"np.zeros({_shape(free)})"
    units = ", ".join(f"np.eye({i.size.value})[{literals[0] - 1}]" for i in free)
    if len(free) == 1:
        return units
    letters = _LETTERS[: len(free)]
    return f'np.einsum("{",".join(letters)}->{letters}", {units})'


def _delta_code(term: t.Delta) -> str:
    free = term.free
    if t.picks_entries(term.indices):
        # 1 where every position picks the same entry: `δ[k, y[i]]` one-hot.
        first, *others = picks_code(term.indices, free)
        tests = " & ".join(f"np.equal({first}, {other})" for other in others)
        return f"np.broadcast_to({tests}, {_shape(free)}).astype(float)"
    literals = sorted({i.value for i in term.indices if isinstance(i, t.Fixed)})
    if literals:
        return _unit_code(literals, free)
    letters = _LETTERS[: len(free)]
    n = free[0].size.value
    if len(free) == 2:
        return f"np.eye({n})"
    # δ[i, j, k] = δ[i, j] δ[j, k]
    pairs = ",".join(letters[k : k + 2] for k in range(len(free) - 1))
    eyes = ", ".join(f"np.eye({n})" for _ in range(len(free) - 1))
    return f'np.einsum("{pairs}->{letters}", {eyes})'
