"""Comparisons, max/min, step/sign and index values in every printed form:
the notes' notation, LaTeX, JSON, and the emitted numpy module (run here)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from support import formulas, load_module, rhs_of, run, run_quiet

from shapecheck.numeric.values import draw_values
from shapecheck.render import math, numpy_module
from shapecheck.render.json import render as render_json
from shapecheck.render.notation import notation

TEXT = (
    "dim n = 3\nparam x[n], G[n, n]\n"
    "h[i] = max(0, x[i]) + min(x[i], 1) + step(x[i]) sign(x[i])\n"
    "M[i, j] = G[i, j] (j <= i)\n"
    "L = h[i] 0.9^i + M[i, j] + (x[i] ≠ 0)\n"
    "derive dL/dx, dL/dG, dh/dx\n"
)


def test_definitions_in_the_notes_notation() -> None:
    report = run_quiet(TEXT)
    assert notation(rhs_of(report, "h")) == "max(0, x[i]) + min(x[i], 1) + step(x[i]) sign(x[i])"
    assert notation(rhs_of(report, "M")) == "G[i,j] (j <= i)"
    assert notation(rhs_of(report, "L")) == "Σ_i h[i] 0.9^i + Σ_{i,j} M[i,j] + Σ_i (x[i] != 0)"


def test_derivatives_print_with_comparisons() -> None:
    report = run_quiet(TEXT)
    shown = formulas(report)
    assert shown["dL/dG"] == "dL/dM[i,j] (j <= i)"
    # The delta both terms have is written once (spec 10: common factors).
    assert shown["dh/dx"] == "((0 < x[i]) + (x[i] <= 1)) δ[i,p]"


def test_latex() -> None:
    report = run_quiet(TEXT)
    assert math.expr(rhs_of(report, "M")) == r"G_{i,j} \left(j \leq i\right)"
    assert math.expr(rhs_of(report, "h")) == (
        r"\max\left(0, x_{i}\right) + \min\left(x_{i}, 1\right) "
        r"+ \operatorname{step}\left(x_{i}\right) \operatorname{sign}\left(x_{i}\right)"
    )
    (dh,) = [r for r in report.derivatives if r.derivation.label == "dh/dx"]
    assert math.term(dh.derivation.formula) == (
        r"\left(\left(0 < x_{i}\right) + \left(x_{i} \leq 1\right)\right) \delta_{i,p}"
    )


def test_json_counts_entries_at_a_kink() -> None:
    report = run("param x[3] = [0, 1, 2]\nL = relu(x[i])\nderive dL/dx\n")
    document = json.loads(render_json([report], strict=False, exit_status=0))
    (derivative,) = document["files"][0]["derivatives"]
    assert derivative["check"]["at_kink"] == 1
    assert derivative["check"]["redraws"] == 0
    assert derivative["check"]["compared"] == 2


def test_the_emitted_module_computes_forward_and_backward(tmp_path: Path) -> None:
    saved = tmp_path / "values.npz"
    report = run(TEXT, save=saved)
    module = load_module(numpy_module.render([report]), tmp_path)
    assert report.checked is not None
    arguments = draw_values(report.checked, 0)
    x, g = arguments["x"], arguments["G"]
    forward = module.forward(**arguments)
    h = np.maximum(0, x) + np.minimum(x, 1) + (x > 0) * np.sign(x)
    np.testing.assert_allclose(forward["h"], h)
    np.testing.assert_allclose(forward["M"], np.tril(g))
    np.testing.assert_allclose(
        forward["L"], (h * 0.9 ** np.arange(1, 4)).sum() + np.tril(g).sum() + (x != 0).sum()
    )
    backward = module.backward(**arguments)
    with np.load(saved) as archive:
        for label, value in backward.items():
            np.testing.assert_allclose(value, archive[label], atol=1e-12)
    expected = 0.9 ** np.arange(1, 4) * ((x > 0) * 1.0 + (x <= 1) * 1.0)
    np.testing.assert_allclose(backward["dL/dx"], expected, atol=1e-12)
