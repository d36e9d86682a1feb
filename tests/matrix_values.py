"""Matrix expressions (`symbolic/matrixform.py`) evaluated with numpy's `@`,
`.T` and `*` alone, for the tests of the matrix notation: written here, apart
from the tool's own evaluator of index notation, so that the two forms are
computed independently."""

from __future__ import annotations

from functools import reduce
from typing import Any

import numpy as np

from shapecheck.numeric import standins
from shapecheck.symbolic import matrixform as m

Array = Any

_FUNCTIONS = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0.0),
    "sin": np.sin,
    "cos": np.cos,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "step": lambda x: (x > 0).astype(float),
    "sign": np.sign,
}
_RELATIONS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


def evaluate(expr: m.MatrixExpr, values: dict[str, Array]) -> Array:
    """The matrix expression's value: vectors as columns (n×1), scalars 0-d or 1×1."""
    match expr:
        case m.Leaf():
            value = np.asarray(values[expr.name], dtype=float)
            return value.reshape(-1, 1) if expr.rank == 1 else value
        case m.Number():
            return np.asarray(expr.value)
        case m.SizeLeaf():
            return np.asarray(float(expr.size.value or 0))
        case m.Ones():
            return np.ones((expr.size.value or 0, 1))
        case m.Identity():
            return np.eye(expr.size.value or 0)
        case m.Transpose():
            return evaluate(expr.of, values).T
        case m.MatMul():
            return reduce(lambda a, b: a @ b, (evaluate(f, values) for f in expr.factors))
        case m.Times() | m.Hadamard():
            return reduce(lambda a, b: a * b, (evaluate(f, values) for f in expr.factors))
        case m.Sum():
            return reduce(lambda a, b: a + b, (evaluate(f, values) for f in expr.terms))
        case m.Power():
            return np.power(evaluate(expr.base, values), evaluate(expr.exponent, values))
        case _:
            return _evaluate_call(expr, values)


def _evaluate_call(expr: m.MatrixExpr, values: dict[str, Array]) -> Array:
    match expr:
        case m.Apply() if expr.function in _FUNCTIONS and expr.order == 0:
            return _FUNCTIONS[expr.function](evaluate(expr.arg, values))
        case m.Apply():
            coefficients = values[standins.key(expr.function)]
            return standins.apply(coefficients, expr.order, evaluate(expr.arg, values))
        case m.Relation():
            left, right = evaluate(expr.left, values), evaluate(expr.right, values)
            return _RELATIONS[expr.op](left, right).astype(float)
        case m.Extremum():
            pick = np.maximum if expr.name == "max" else np.minimum
            return pick(evaluate(expr.first, values), evaluate(expr.second, values))
        case m.Diag():
            return np.diag(evaluate(expr.of, values).ravel())
        case m.Trace():
            return np.asarray(np.trace(evaluate(expr.of, values)))
        case m.WholeMatrix():
            whole = np.asarray(values[expr.array], dtype=float)
            if expr.function == "inv":
                return np.linalg.inv(whole)
            return np.asarray(np.linalg.det(whole) if expr.function == "det" else np.trace(whole))
    raise AssertionError(f"not a matrix expression: {expr}")


def as_result(value: Array, shape: tuple[int, ...]) -> Array:
    """A vector result may be a row or a column; a scalar 0-d or 1×1."""
    value = np.asarray(value, dtype=float)
    if len(shape) < 2:
        return value.reshape(shape) if value.size == int(np.prod(shape)) else value
    return value
