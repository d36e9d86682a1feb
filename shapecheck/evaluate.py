"""Evaluate terms with numpy, and write the same computation as numpy code.

`Evaluator.value(term)` returns an array whose axes are the term's free
indices in `term.free` order. Products are `numpy.einsum` calls whose
contraction path is planned once per term and shape (`numpy.einsum_path`) and
reused, since finite differences evaluate the same terms many times. Deltas
between free indices are built as identity blocks (the result has that
structure anyway); deltas on summed indices never reach here, because the
simplifier eats them.

`numpy_code(term)` prints the same steps as Python, e.g.
`np.einsum("ij,ik->jk", X, dL_dY)`, for the derivative table.

numpy is imported here and in `verify` only, so that a plain `check` without
numeric work does not pay for it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

import numpy as np

from shapecheck import terms as t
from shapecheck.checked import Size

Array = Any  # numpy.ndarray; kept loose so that mypy does not need numpy's stubs here

_LETTERS = string.ascii_letters


class EvaluationError(Exception):
    """A value is missing, or a product has more indices than einsum can name."""


def _sigmoid(x: Array) -> Array:
    # 0.5 (1 + tanh(x/2)) is the logistic function without overflow.
    return 0.5 * (1.0 + np.tanh(0.5 * x))


_FUNCTIONS: dict[str, Any] = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda x: np.maximum(x, 0.0),
    "sin": np.sin,
    "cos": np.cos,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "step": lambda x: (x > 0).astype(np.float64),
    "sign": np.sign,
}


def size_value(size: Size) -> int:
    if size.value is None:
        raise EvaluationError(f"size {size} has no value")
    return int(size.value)


def _align(array: Array, axes: tuple[str, ...], target: tuple[t.Idx, ...]) -> Array:
    """Transpose and broadcast `array` (axes `axes`) to the axes of `target`."""
    order = [axes.index(i.name) for i in target if i.name in axes]
    array = np.transpose(array, order) if order != list(range(len(order))) else array
    present = [i.name in axes for i in target]
    if all(present):
        return array
    shape = []
    position = 0
    for here in present:
        if here:
            shape.append(array.shape[position])
            position += 1
        else:
            shape.append(1)
    array = array.reshape(shape)
    return np.broadcast_to(array, tuple(size_value(i.size) for i in target))


class Evaluator:
    """Values of terms given the values of the arrays they name."""

    def __init__(self, values: Mapping[str, Array]) -> None:
        self.values = values
        self._paths: dict[tuple[int, tuple[tuple[int, ...], ...]], Any] = {}

    def value(self, term: t.Term) -> Array:
        result = self._value(term)
        return np.asarray(result, dtype=np.float64)

    def _value(self, term: t.Term) -> Array:
        if isinstance(term, t.Const):
            return np.float64(term.value)
        if isinstance(term, t.SizeOf):
            return np.float64(size_value(term.size))
        if isinstance(term, t.Zero):
            return np.zeros(tuple(size_value(i.size) for i in term.free))
        if isinstance(term, t.Tensor):
            return self._tensor(term)
        if isinstance(term, t.Delta):
            return self._delta(term)
        if isinstance(term, t.Loss):
            upstream = self._lookup(f"dloss/d{term.array}")
            return np.float64(np.sum(upstream * self._lookup(term.array)))
        if isinstance(term, t.Func):
            with np.errstate(all="ignore"):
                return _FUNCTIONS[term.name](self._value(term.arg))
        if isinstance(term, t.Pow):
            base = _align(self._value(term.base), _names(term.base.free), term.free)
            exponent = _align(self._value(term.exponent), _names(term.exponent.free), term.free)
            with np.errstate(all="ignore"):
                return np.power(base, exponent)
        if isinstance(term, t.Add):
            total = np.zeros(tuple(size_value(i.size) for i in term.free))
            for part in term.terms:
                total = total + _align(self._value(part), _names(part.free), term.free)
            return total
        assert isinstance(term, t.Product)
        return self._product(term)

    def _lookup(self, name: str) -> Array:
        try:
            return self.values[name]
        except KeyError:
            raise EvaluationError(f"no value for `{name}`") from None

    def _tensor(self, term: t.Tensor) -> Array:
        array = np.asarray(self._lookup(term.name))
        if any(isinstance(i, t.Fixed) for i in term.indices):
            picks = tuple(
                i.value - 1 if isinstance(i, t.Fixed) else slice(None) for i in term.indices
            )
            array = array[picks]
        names = [i.name for i in term.indices if isinstance(i, t.Idx)]
        if len(set(names)) < len(names):
            # A repeated index is a diagonal: einsum("ii->i", A).
            letters = {n: _LETTERS[k] for k, n in enumerate(dict.fromkeys(names))}
            subscripts = "".join(letters[n] for n in names)
            output = "".join(letters[i.name] for i in term.free)
            array = np.einsum(f"{subscripts}->{output}", array)
        return array

    def _delta(self, term: t.Delta) -> Array:
        literals = {i.value for i in term.indices if isinstance(i, t.Fixed)}
        free = term.free
        if len(literals) > 1:
            return np.zeros(tuple(size_value(i.size) for i in free))
        if literals:
            (value,) = literals
            array = np.zeros(tuple(size_value(i.size) for i in free))
            array[(value - 1,) * len(free)] = 1.0
            return array
        n = size_value(free[0].size)
        array = np.zeros((n,) * len(free))
        diagonal = np.arange(n)
        array[(diagonal,) * len(free)] = 1.0
        return array

    def _product(self, term: t.Product) -> Array:
        operands = [self._value(f) for f in term.factors]
        names = list(dict.fromkeys([*(i.name for f in term.factors for i in f.free)]))
        if len(names) > len(_LETTERS):
            raise EvaluationError(f"a product with {len(names)} indices")
        letters = {n: _LETTERS[k] for k, n in enumerate(names)}
        inputs = ["".join(letters[i.name] for i in f.free) for f in term.factors]
        output = "".join(letters[i.name] for i in term.free)
        subscripts = ",".join(inputs) + "->" + output
        shapes = tuple(np.shape(o) for o in operands)
        key = (id(term), shapes)
        path = self._paths.get(key)
        if path is None:
            path = np.einsum_path(subscripts, *operands, optimize="greedy")[0]
            self._paths[key] = path
        with np.errstate(all="ignore"):
            return np.einsum(subscripts, *operands, optimize=path)


def _names(indices: tuple[t.Idx, ...]) -> tuple[str, ...]:
    return tuple(i.name for i in indices)


# ---------------------------------------------------------------------------
# The same computation as numpy code, for people to read and reuse


def python_name(name: str) -> str:
    """`dL/dY` -> `dL_dY`: an identifier for an array or derivative."""
    return name.replace("/", "_")


def numpy_code(term: t.Term, target: tuple[t.Idx, ...] | None = None) -> str:
    """Numpy code computing `term` with axes in `target` order (default: its free order).

    Axes of `target` that the term lacks become length-1 axes (numpy then
    broadcasts them), exactly as `Evaluator` aligns terms.
    """
    wanted = target if target is not None else term.free
    if isinstance(term, t.Product) and {i.name for i in wanted} == set(_names(term.free)):
        # An einsum can write its output in any order: no separate transpose.
        code, axes = _product_code(term, _names(wanted))
    else:
        code, axes = _code(term)
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
    if isinstance(term, t.Const):
        return repr(term.value), ()
    if isinstance(term, t.SizeOf):
        return str(term.size.value), ()
    if isinstance(term, t.Zero):
        return f"np.zeros({_shape(term.free)})", _names(term.free)
    if isinstance(term, t.Tensor):
        name = python_name(term.name)
        if any(isinstance(i, t.Fixed) for i in term.indices):
            picks = ", ".join(
                str(i.value - 1) if isinstance(i, t.Fixed) else ":" for i in term.indices
            )
            name = f"{name}[{picks}]"
        names = [i.name for i in term.indices if isinstance(i, t.Idx)]
        if len(set(names)) < len(names):
            letters = {n: _LETTERS[k] for k, n in enumerate(dict.fromkeys(names))}
            inner = "".join(letters[n] for n in names)
            out = "".join(letters[i.name] for i in term.free)
            return f'np.einsum("{inner}->{out}", {name})', _names(term.free)
        return name, _names(term.free)
    if isinstance(term, t.Delta):
        return _delta_code(term), _names(term.free)
    if isinstance(term, t.Loss):
        return f"np.sum(dloss_d{term.array} * {term.array})", ()
    if isinstance(term, t.Func):
        inner, axes = _code(term.arg)
        templates = {
            "relu": "np.maximum({}, 0.0)",
            "step": "np.greater({}, 0.0).astype(float)",
            "sigmoid": "(1.0 / (1.0 + np.exp(-({}))))",
        }
        template = templates.get(term.name, f"np.{term.name}({{}})")
        return template.format(inner), axes
    if isinstance(term, t.Pow):
        base = numpy_code(term.base, term.free)
        exponent = numpy_code(term.exponent, term.free)
        return f"np.power({base}, {exponent})", _names(term.free)
    if isinstance(term, t.Add):
        parts = " + ".join(numpy_code(x, term.free) for x in term.terms) or "0.0"
        if not any(set(_names(x.free)) == set(_names(term.free)) for x in term.terms):
            parts = f"np.broadcast_to({parts}, {_shape(term.free)})"
        return parts, _names(term.free)
    assert isinstance(term, t.Product)
    return _product_code(term, _names(term.free))


def _product_code(term: t.Product, out_axes: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    names = list(dict.fromkeys([*(i.name for f in term.factors for i in f.free)]))
    if len(names) > len(_LETTERS):
        raise EvaluationError(f"a product with {len(names)} indices")
    letters = {n: _LETTERS[k] for k, n in enumerate(names)}
    scalars = [_code(f)[0] for f in term.factors if not f.free]
    arrays = [f for f in term.factors if f.free]
    if not arrays:
        return " * ".join(scalars) if scalars else "1.0", ()
    prefix = "".join(f"{s} * " for s in scalars)
    inputs = ",".join("".join(letters[i.name] for i in f.free) for f in arrays)
    output = "".join(letters[name] for name in out_axes)
    operands = ", ".join(numpy_code(f, f.free) for f in arrays)
    if len(arrays) == 1 and inputs == output:
        return prefix + operands, out_axes
    return prefix + f'np.einsum("{inputs}->{output}", {operands})', out_axes


def _delta_code(term: t.Delta) -> str:
    free = term.free
    literals = sorted({i.value for i in term.indices if isinstance(i, t.Fixed)})
    if len(literals) > 1:
        return f"np.zeros({_shape(free)})"
    letters = _LETTERS[: len(free)]
    if literals:
        # δ[1, p, q] = e₁[p] e₁[q]
        units = ", ".join(f"np.eye({i.size.value})[{literals[0] - 1}]" for i in free)
        if len(free) == 1:
            return units
        return f'np.einsum("{",".join(letters)}->{letters}", {units})'
    n = free[0].size.value
    if len(free) == 2:
        return f"np.eye({n})"
    # δ[i, j, k] = δ[i, j] δ[j, k]
    pairs = ",".join(letters[k : k + 2] for k in range(len(free) - 1))
    eyes = ", ".join(f"np.eye({n})" for _ in range(len(free) - 1))
    return f'np.einsum("{pairs}->{letters}", {eyes})'
