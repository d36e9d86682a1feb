"""A size chosen for a dim without a value can coincide with a constant (found
in review): at n = 2, `X[i,j] r[i]` equals the true `2 / n X[i,j] r[i]`, and
`1 / n` missing is `2` too many. Verdicts and diagnoses must not rest on such a
coincidence (spec 6 and 10): claims are checked again at other sizes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from support import codes, rendered, run, saved

MSE = "dim n, d\ninput X[n, d], y[n]\nparam w[d]\nr[i] = X[i, j] w[j] - y[i]\nL = mean[i](r[i]^2)\n"


def test_a_claim_right_only_at_the_chosen_size_is_wrong(tmp_path: Path) -> None:
    # The numbers first: at the sizes chosen (n = 2) the claim X^T r equals the
    # true gradient 2/n X^T r, computed here with numpy.
    _, values = saved(MSE + "derive dL/dw\n", tmp_path)
    x, w, y = values["X"], values["w"], values["y"]
    assert x.shape[0] == 2
    np.testing.assert_allclose(values["dL/dw"], x.T @ (x @ w - y), rtol=1e-9)
    # ... so only a second choice of sizes shows it wrong.
    text = MSE + "dL/dw[j] = X[i, j] r[i]\n"
    assert codes(text) == ["E402"]
    shown = rendered(run(text))
    assert "only by a coincidence of sizes; it is wrong at n = 4, d = 5" in shown


def test_the_right_claim_stays_right() -> None:
    assert codes(MSE + "dL/dw[j] = 2 / n * X[i, j] r[i]\n") == []


def test_a_diagnosis_that_holds_at_one_size_only_is_not_given() -> None:
    # The claim divides by n once too often; at n = 2 "it misses the factor 2"
    # would fix it, at n = 8 not: no diagnosis, the reason as a hint.
    text = (
        "dim n, d\ninput X[n, d], t[n]\nparam w[d]\no[i] = X[i, j] w[j]\n"
        "L = mean[i]((o[i] - t[i])^2)\ndL/dw[j] = 2 (o[i] - t[i]) X[i, j] / n^2\n"
    )
    report = run(text)
    (problem,) = [d for d in report.diagnostics if d.code == "E402"]
    assert problem.message == "the claim dL/dw[j] is wrong"
    assert any("cannot be told for certain" in h for h in problem.hints)
    (claim,) = report.claims
    assert claim.check is not None and claim.check.diagnosis is None


def test_two_numbers_that_fix_a_claim_alike_are_not_named() -> None:
    # n = 2 by value: `1 / n` missing and `2` too many are one number here,
    # so the constant is said as a fact, not as a guessed mistake.
    text = (
        "dim n = 2, d = 3\ninput X[n, d], t[n]\nparam w[d]\no[i] = X[i, j] w[j]\n"
        "L = 0.5 mean[i]((o[i] - t[i])^2)\ndL/dw[j] = 2 (o[i] - t[i]) X[i, j] / n\n"
    )
    (problem,) = [d for d in run(text).diagnostics if d.code == "E402"]
    assert problem.message == (
        "the claim dL/dw[j] is wrong: it is the true derivative times a constant, 2"
    )
