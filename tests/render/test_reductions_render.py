"""`max[j]`, `min[j]`, `argmax[j]`, `argmin[j]` (spec 9.2) in every printed form:
the notes' notation, LaTeX, JSON, the `derive` numpy lines, and the emitted
numpy module (run here); printed `.idx` forms parse back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from support import formulas, load_module, rhs_of, run, run_quiet

from shapecheck.numeric.codegen import numpy_code
from shapecheck.numeric.values import draw_values
from shapecheck.render import math, numpy_module
from shapecheck.render.json import render as render_json
from shapecheck.render.notation import notation
from shapecheck.symbolic.formula import formula

TEXT = (
    "dim n = 3, c = 4\nparam S[n, c], P[n, c]\n"
    "m[i] = max[k](S[i, k]) - min[u, v](S[u, v])\n"
    "z[i] = P[i, argmax[k](S[i, k])] argmin[k](P[i, k] + S[i, k])\n"
    "L = m[i] + z[i]\n"
    "derive dm/dS, dL/dP, dL/dS\n"
)


def test_definitions_in_the_notes_notation() -> None:
    report = run_quiet(TEXT)
    assert notation(rhs_of(report, "m")) == "max[k](S[i,k]) - min[u,v](S[u,v])"
    assert notation(rhs_of(report, "z")) == "P[i, argmax[k](S[i,k])] argmin[k](P[i,k] + S[i,k])"


def test_derivatives_print_with_argmax() -> None:
    shown = formulas(run_quiet(TEXT))
    # min[u, v] is min[u](min[v](e)): the first row holding the minimum, then
    # the first column of that row (row-major order).
    assert shown["dm/dS"] == (
        "δ[q, argmax[k](S[i,k])] δ[i,p] - δ[q, argmin[r](S[argmin[u](min[v](S[u,v])), r])] "
        "δ[p, argmin[u](min[v](S[u,v]))]"
    )
    assert shown["dL/dP"] == "dL/dz[p] argmin[k](P[p,k] + S[p,k]) δ[q, argmax[k](S[p,k])]"


def test_printed_derivatives_parse_back_and_are_confirmed() -> None:
    report = run_quiet(TEXT)
    claims = "".join(
        f"{r.derivation.label}[{','.join(i.name for i in r.derivation.indices)}] = "
        f"{formula(r.derivation.formula)}\n"
        for r in report.derivatives
        if r.derivation.label == "dm/dS"
    )
    again = run(TEXT + claims)
    assert [d.code for d in again.diagnostics] == []
    assert all(c.symbolic.matches for c in again.claims)


def test_latex() -> None:
    report = run_quiet(TEXT)
    assert math.expr(rhs_of(report, "z")) == (
        r"P_{i,\operatorname{argmax}_{k}\left(S_{i,k}\right)} "
        r"\operatorname{argmin}_{k}\left(P_{i,k} + S_{i,k}\right)"
    )
    (dp,) = [r for r in report.derivatives if r.derivation.label == "dL/dP"]
    assert r"\delta_{q,\operatorname{argmax}_{k}\left(S_{p,k}\right)}" in math.term(
        dp.derivation.formula
    )


def test_json_and_numpy_lines() -> None:
    report = run_quiet(TEXT)
    document = json.loads(render_json([report], strict=False, exit_status=0))
    texts = json.dumps(document)
    assert "argmax[k](S[p,k])" in texts
    (dp,) = [r for r in report.derivatives if r.derivation.label == "dL/dP"]
    assert ".argmax(axis=1)" in numpy_code(dp.derivation.formula, dp.derivation.formula.free)


def test_the_emitted_module_computes_forward_and_backward(tmp_path: Path) -> None:
    saved = tmp_path / "values.npz"
    report = run(TEXT, save=saved)
    source = numpy_module.render([report])
    assert "np.argmax(" in source and "np.max(" in source
    module = load_module(source, tmp_path)
    assert report.checked is not None
    arguments = draw_values(report.checked, 0)
    s, p = arguments["S"], arguments["P"]
    forward = module.forward(**arguments)
    rows = np.arange(3)
    np.testing.assert_allclose(forward["m"], s.max(axis=1) - s.min())
    z = p[rows, s.argmax(axis=1)] * (np.argmin(p + s, axis=1) + 1)
    np.testing.assert_allclose(forward["z"], z)
    backward = module.backward(**arguments)
    with np.load(saved) as archive:
        for label, value in backward.items():
            np.testing.assert_allclose(value, archive[label], atol=1e-12)
    by_hand = np.zeros_like(p)
    by_hand[rows, s.argmax(axis=1)] = np.argmin(p + s, axis=1) + 1
    np.testing.assert_allclose(backward["dL/dP"], by_hand, atol=1e-12)
