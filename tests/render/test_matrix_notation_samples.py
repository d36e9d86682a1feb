"""The matrix notation of every result of every sample, evaluated with numpy.

Each derivative's and adjoint's matrix form (spec 10: display only) is
evaluated by the small evaluator of `tests/matrix_values.py`, written with
numpy's `@`, `.T` and `*` alone, at the values `--save` wrote, and compared
with the saved derivative (the index form's value); an adjoint's with its
index form's value at the same point. Where a result has a matrix form, it
must mean the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matrix_values import Array, as_result, evaluate
from support import SAMPLES, run, saved

from shapecheck.numeric.values import draw_values
from shapecheck.numeric.verify import Settings, Verifier
from shapecheck.render import matrixform as shown
from shapecheck.render.derivatives import matrix_form
from shapecheck.symbolic import matrixform as m
from shapecheck.symbolic.derive import Deriver

SAMPLE_FILES = sorted(
    path
    for folder in (SAMPLES, SAMPLES / "course", SAMPLES / "cookbook")
    for path in folder.glob("*.idx")
)


def _compare(label: str, form: m.MatrixExpr, values: dict[str, Array], truth: Array) -> None:
    got = as_result(evaluate(form, values), np.shape(truth))
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
