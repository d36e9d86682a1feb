"""The matrix notation of every result of every sample, evaluated with numpy.

Each derivative's and adjoint's matrix form (spec 10: display only) is
evaluated by the small evaluator below, written with numpy's `@`, `.T` and `*`
alone, at the values `--save` wrote, and compared with the saved derivative
(the index form's value); an adjoint's with its index form's value at the
same point. Where a result has a matrix form, it must mean the same.
"""

from __future__ import annotations

from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import SAMPLES, run, saved

from shapecheck.numeric import standins
from shapecheck.numeric.values import draw_values
from shapecheck.numeric.verify import Settings, Verifier
from shapecheck.render import matrixform as shown
from shapecheck.render.derivatives import matrix_form
from shapecheck.symbolic import matrixform as m
from shapecheck.symbolic.derive import Deriver

Array = Any

SAMPLE_FILES = sorted(
    [*SAMPLES.glob("*.idx"), *(SAMPLES / "course").glob("*.idx")]
    + [*(SAMPLES / "cookbook").glob("*.idx")]
)

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


def _as_result(value: Array, shape: tuple[int, ...]) -> Array:
    """A vector result may be a row or a column; a scalar 0-d or 1×1."""
    value = np.asarray(value, dtype=float)
    if len(shape) < 2:
        return value.reshape(shape) if value.size == int(np.prod(shape)) else value
    return value


def _compare(label: str, form: m.MatrixExpr, values: dict[str, Array], truth: Array) -> None:
    got = _as_result(evaluate(form, values), np.shape(truth))
    assert np.shape(got) == np.shape(truth), (label, shown.text(form), np.shape(got))
    scale = max(1.0, float(np.max(np.abs(truth))) if np.size(truth) else 1.0)
    assert np.allclose(got, truth, rtol=1e-9, atol=1e-9 * scale), (label, shown.text(form))


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_matrix_form_means_its_index_form(path: Path, tmp_path: Path) -> None:
    report, arrays = saved(path.read_text(encoding="utf-8"), tmp_path)
    if report.checked is None or not report.derivatives:
        pytest.skip("no derivative")
    checked = report.checked
    # The saved inputs, params and upstream gradients, and the stand-ins of `fn`
    # functions (drawn from the same seed: `--save` does not write them).
    leaves = {k: v for k, v in draw_values(checked, 0, None).items() if k not in arrays}
    leaves.update({k: v for k, v in arrays.items() if "/" not in k or k.startswith("dloss/")})
    verifier = Verifier(checked, Deriver(checked), leaves, Settings())
    for result in report.derivatives:
        derivation = result.derivation
        values, _ = verifier.derived.adjoints(derivation)
        form = matrix_form(result)
        if form is not None:
            _compare(derivation.label, form, values, arrays[derivation.label])
        for adjoint in derivation.adjoints:
            adjoint_form = shown.adjoint_form(adjoint)
            if adjoint_form is not None:
                # Aligned to the adjoint's indices where it was evaluated.
                _compare(adjoint.label, adjoint_form, values, values[adjoint.label])


def test_the_samples_show_matrix_forms() -> None:
    """The sweep above is not empty: the course's textbook results have forms."""
    forms = 0
    for path in SAMPLE_FILES:
        report = run(path.read_text(encoding="utf-8"), verify=False)
        forms += sum(matrix_form(r) is not None for r in report.derivatives)
    assert forms >= 40
