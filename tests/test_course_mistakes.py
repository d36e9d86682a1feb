"""samples/course/mistakes/: each classic wrong claim gets the diagnosis it must.

One file per mistake, each failing on purpose. `EXPECTED` is the contract:
the words after `the claim ... is wrong:` (or, for a claim whose transposed
indices make sizes clash, the help line that says so); the whole rendered
output is compared with tests/golden/course_mistakes/<name>.txt
(`UPDATE_GOLDEN=1` rewrites those, read the diff before committing). No
diagnosis may be a guess from sizes: none names a dim for a constant factor.
`shapecheck check samples/course` leaves the folder out (samples/course's
pyproject.toml); naming the folder checks it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, SAMPLES, run

from shapecheck.diagnostics import Code
from shapecheck.pipeline import Options, analyze_path
from shapecheck.render.diagnostics import render_plain

MISTAKES = SAMPLES / "course" / "mistakes"
GOLDEN = ROOT / "tests" / "golden" / "course_mistakes"
TRANSPOSED = (
    "the right-hand side reads its indices as `dL/dw[j, k]` would: "
    "the claim's indices are transposed"
)

EXPECTED = {
    "relu_mask": "it misses the factor `0 < Z[i,k]`",
    "dropout_mask": "it misses the factor `keep[i,j]`",
    "tanh_derivative": "it has `1 - a[i,j]` where the derivation has `1 - a[i,j]^2`",
    "sigmoid_derivative": "it misses the factor `1 - s[i,j]`",
    "missing_upstream": "it misses the factor `dL/da[i,j]`",
    "batchnorm_var": "it has no term through `var` (a chain-rule path is missing)",
    "batchnorm_mu": "it has no term through `mu` (a chain-rule path is missing)",
    "rnn_time_step": "`h1[k]` should be `h2[k]`: a wrong time step",
    "missing_mean": "it misses the factor `1 / n`",
    "attention_scale": "it misses the factor `1 / sqrt(dk)`",
    "transposed_gradient": TRANSPOSED,
    "sum_wrong_index": "`w[k,j]` should be `w[j,k]`: a sum runs over the wrong index of `w`",
    "sign_one_term": "its term `-(2 lam w[j])` has the wrong sign",
    "sign_whole": "it has the wrong sign: it is minus the true derivative",
    "extra_term": "its term `2 lam b[k]` should not be there",
    "cookbook_factor_two": "it is the true derivative times a constant, 0.5",
}
FILES = sorted(MISTAKES.glob("*.idx"))

# Each claim with its diagnosis applied by hand: checked by the tool's own
# finite differences, so a diagnosis that named the wrong fix would fail here.
FIXED = {
    "relu_mask": "dL/dZ[i, k] = dL/dH[i, k] (Z[i, k] > 0)",
    "dropout_mask": "dL/dx[i, j] = dL/dout[i, j] keep[i, j] / p",
    "tanh_derivative": "dL/dz[i, j] = dL/da[i, j] (1 - tanh(z[i, j])^2)",
    "sigmoid_derivative": "dL/dx[i, j] = dL/ds[i, j] s[i, j] (1 - sigmoid(x[i, j]))",
    "missing_upstream": "dL/dz[i, j] = dL/da[i, j] (1 - a[i, j]^2)",
    "batchnorm_var": (
        "dL/dx[i, k] = gamma[k] / sqrt(var[k] + 1e-5) * (dL/dout[i, k] - mean[p](dL/dout[p, k])"
        " - xh[i, k] mean[p](dL/dout[p, k] xh[p, k]))"
    ),
    "batchnorm_mu": (
        "dL/dx[i, k] = gamma[k] / sqrt(var[k] + 1e-5) * (dL/dout[i, k] - mean[p](dL/dout[p, k])"
        " - xh[i, k] mean[p](dL/dout[p, k] xh[p, k]))"
    ),
    "rnn_time_step": "dL/dh1[m] = Wh[m, k] dL/dh2[k] (1 - h2[k]^2)",
    "missing_mean": "dL/dw[j] = 2 X[i, j] r[i] / n",
    "attention_scale": "dL/dQ[i, e] = dL/dS[i, j] K[j, e] / sqrt(dk)",
    "transposed_gradient": "dL/dw[j, k] = x[i, j] dL/dout[i, k]",
    "sum_wrong_index": "dL/dx[i, j] = dL/dout[i, k] w[j, k]",
    "sign_one_term": "dL/dw[j] = 2 / n * X[i, j] r[i] + 2 lam w[j]",
    "sign_whole": "dL/db = -2 / n * (y[i] - X[i, j] w[j] - b)",
    "extra_term": "dL/db[k] = dL/dout[i, k]",
    "cookbook_factor_two": "dT/dX[i, k] = X[i, k] / 0.5",
}


def test_every_mistake_has_its_expected_diagnosis() -> None:
    assert sorted(p.stem for p in FILES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_a_mistake_gets_its_diagnosis(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    report = analyze_path(path.relative_to(ROOT), Options())
    assert report.errors > 0
    said = [
        d.message.partition(" is wrong: ")[2] for d in report.diagnostics if d.code == Code.E402
    ] + [h for d in report.diagnostics if d.code == Code.E201 for h in d.hints if "transposed" in h]
    assert EXPECTED[path.stem] in said
    rendered = "\n\n".join(render_plain(report.source, d) for d in report.diagnostics) + "\n"
    expected_file = GOLDEN / f"{path.stem}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        expected_file.write_text(rendered, encoding="utf-8")
    assert rendered == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_named_fix_makes_the_claim_right(path: Path) -> None:
    *head, claim = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    assert claim.split("=")[0].strip().startswith("d")
    report = run("\n".join([*head, FIXED[path.stem]]) + "\n")
    assert [d.code for d in report.diagnostics if d.is_error] == [], path.stem


def test_no_diagnosis_guesses_from_a_size() -> None:
    for words in EXPECTED.values():
        assert "(=" not in words and "sum over an index of size" not in words


def _check(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shapecheck", "check", *paths, "--quiet", "--format", "jsonl"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def test_the_course_run_leaves_the_mistakes_out_and_naming_them_checks_them() -> None:
    course = _check("samples/course")
    assert course.returncode == 0, course.stdout + course.stderr
    assert "mistakes/" not in course.stdout
    mistakes = _check("samples/course/mistakes")
    assert mistakes.returncode == 1
    for path in FILES:
        assert f"samples/course/mistakes/{path.name}" in mistakes.stdout
