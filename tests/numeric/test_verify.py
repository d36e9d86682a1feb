"""Numeric verification: mutations fail, correct derivatives pass at any size,
wrong claims are explained, NaN is never a pass, the budget holds."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from support import SAMPLES, run
from typer.testing import CliRunner

from shapecheck.cli import DEFAULT_ATOL, DEFAULT_RTOL, app
from shapecheck.numeric.values import draw_values
from shapecheck.numeric.verify import (
    DEFAULT_ATOL as VERIFY_ATOL,
)
from shapecheck.numeric.verify import (
    DEFAULT_RTOL as VERIFY_RTOL,
)
from shapecheck.numeric.verify import (
    Settings,
    Verifier,
)
from shapecheck.pipeline import Options, analyze_path
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Deriver

AFFINE = (
    "dim n = 8, d = 3, h = 5\ninput X[n, d]\nparam W[d, h], b[h]\n"
    "Y[i, k] = X[i, j] W[j, k] + b[k]\nL = Y[i, k] Y[i, k]\n"
)
SQUARE = (
    "dim n = 6, d = 4\ninput X[n, d]\nparam W[d, d], b[d]\n"
    "Y[i, k] = X[i, j] W[j, k] + b[k]\nL = Y[i, k] Y[i, k]\n"
)


def _verifier(text: str, **options: object) -> tuple[Verifier, Deriver]:
    report = run(text, verify=False)
    assert report.checked is not None and report.errors == 0
    deriver = Deriver(report.checked)
    values = draw_values(report.checked, 0)
    return Verifier(report.checked, deriver, values, Settings(**options)), deriver  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Mutations of a correct formula must fail


def test_mutated_formulas_fail() -> None:
    verifier, deriver = _verifier(SQUARE + "derive dL/dW, dY/dX, dL/db\n")
    gradient = deriver.derive("L", "W")  # Σ_i X[i,j] dL/dY[i,k]
    assert verifier.check(gradient).verdict == "ok"
    j, k = gradient.wrt_indices
    swapped = t.substitute(gradient.formula, {j.name: k, k.name: j})  # the transpose
    mutations: dict[str, t.Term] = {
        "transposed": swapped,
        "constant changed": t.Product((t.Const(2.0), gradient.formula)),
        "sign": t.Product((t.Const(-1.0), gradient.formula)),
    }
    jacobian = deriver.derive("Y", "X")  # W[q,k] δ[i,p]
    assert verifier.check(jacobian).verdict == "ok"
    _, kk = jacobian.of_indices
    _, q = jacobian.wrt_indices
    jacobian_mutations: dict[str, t.Term] = {
        # W[q,k] -> W[k,q] (square here); δ is symmetric, so its indices are not.
        "indices swapped": t.substitute(jacobian.formula, {q.name: kk, kk.name: q}),
        "delta dropped": t.add([t.Tensor("W", (q, kk))], jacobian.indices),
    }
    bias = deriver.derive("L", "b")
    assert verifier.check(bias).verdict == "ok"
    adjoint = bias.adjoints[0]
    bias_dropped_term = replace(
        bias,
        adjoints=(replace(adjoint, formula=t.add([t.Const(0.0)], adjoint.indices)),),
    )
    for name, formula in mutations.items():
        mutated = replace(gradient, formula=formula)
        verifier.derived_values.clear()
        assert verifier.check(mutated).verdict == "failed", name
    for name, formula in jacobian_mutations.items():
        verifier.derived_values.clear()
        assert verifier.check(replace(jacobian, formula=formula)).verdict == "failed", name
    verifier.derived_values.clear()
    assert verifier.check(bias_dropped_term).verdict == "failed"


def test_adjoint_with_a_dropped_term_fails() -> None:
    verifier, deriver = _verifier(
        "dim n = 5\nparam x[n]\ny[i] = x[i]^2 + 3 x[i]\nL = y[i] y[i]\nderive dL/dx\n"
    )
    derivation = deriver.derive("L", "x")
    assert verifier.check(derivation).verdict == "ok"
    # 2 x + 3 with the 3 dropped:
    formula = derivation.formula
    assert isinstance(formula, t.Product | t.Add)
    stack: list[t.Term] = [formula]
    adds = []
    while stack:
        node = stack.pop()
        if isinstance(node, t.Add) and len(node.terms) > 1:
            adds.append(node)
        stack.extend(t.children(node))
    assert adds, "the derivative has a sum to drop a term from"
    target = adds[0]
    smaller = t.Add(target.terms[1:], target.free)

    def swap(node: t.Term) -> t.Term:
        if node == target:
            return smaller
        kids = t.children(node)
        return t.with_children(node, tuple(swap(k) for k in kids)) if kids else node

    verifier.derived_values.clear()
    assert verifier.check(replace(derivation, formula=swap(formula))).verdict == "failed"


# ---------------------------------------------------------------------------
# Correct derivatives pass everywhere


def test_all_samples_pass_numerically() -> None:
    for path in sorted(SAMPLES.glob("*.idx")):
        report = analyze_path(path, Options())
        assert report.errors == 0, (path, report.diagnostics)
        for result in report.derivatives:
            assert result.check is not None and result.check.verdict == "ok", path
        for claim in report.claims:
            assert claim.check is not None and claim.check.verdict == "ok", path


def test_large_affine_has_no_false_failure() -> None:
    report = run(
        AFFINE + "derive dY/dX, dL/dW, dL/dX\ndL/db[k] = 2 Y[i, k]\n",
        sizes=(("n", 64), ("d", 128), ("h", 256)),
    )
    assert report.errors == 0, report.diagnostics
    assert {r.check.mode for r in report.derivatives if r.check} == {"directions"}
    assert all(r.check and r.check.verdict == "ok" for r in report.derivatives)


def test_large_rnn_has_no_false_failure() -> None:
    text = (
        "dim h = 256, d = 128\nparam W[d, h], U[h, h], b[h]\ninput s0[h]\n"
        "for t in 1..4:\n    input x{t}[d]\n"
        "    s{t}[i] = tanh(x{t}[j] W[j, i] / 16 + s{t-1}[k] U[k, i] / 16 + b[i])\n"
        "L = s4[i] s4[i]\nderive dL/dU, dL/dW\n"
    )
    report = run(text)
    assert report.errors == 0, report.diagnostics
    assert all(r.check and r.check.verdict == "ok" for r in report.derivatives)


def test_same_seed_same_numbers() -> None:
    runner = CliRunner()
    path = str(SAMPLES / "mlp.idx")
    first = runner.invoke(app, ["check", "--format", "json", "--seed", "7", path]).output
    second = runner.invoke(app, ["check", "--format", "json", "--seed", "7", path]).output
    assert first == second
    other = runner.invoke(app, ["check", "--format", "json", "--seed", "8", path]).output
    assert (
        json.loads(first)["files"][0]["derivatives"] != json.loads(other)["files"][0]["derivatives"]
    )


def test_values_are_seeded_per_array() -> None:
    report = run(AFFINE, verify=False)
    assert report.checked is not None
    a = draw_values(report.checked, 3)
    b = draw_values(report.checked, 3)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    # Known first value: PCG64 is the same on every machine.
    assert a["W"].shape == (3, 5)


def test_symbolic_sizes_are_distinct() -> None:
    report = run(
        "dim n, m, k = 3\ninput A[n, 2], B[m, n]\nparam w[m]\nL = B[i, j] A[j, q] w[i]\n"
        "derive dL/dw\n"
    )
    assert report.verification is not None
    sizes = {name: value for name, value, _ in report.verification.sizes}
    assert len({sizes["n"], sizes["m"], 2, 3}) == 4
    assert report.errors == 0


# ---------------------------------------------------------------------------
# Claims: each way of being wrong


@pytest.mark.parametrize(
    ("claim", "words"),
    [
        ("dL/dW[j, k] = 2 X[i, k] Y[i, j]", "transpose"),
        ("dL/db[k] = 4 Y[i, k]", "times a constant, 2"),
        ("dL/db[k] = -2 Y[i, k]", "wrong sign"),
        ("dL/db[k] = 2 Y[i, k] / 6", "is a sum over an index of size n missing?"),
        # Constant along j, equal to the true derivative's mean over j (d = 4).
        ("dL/dW[j, k] = 2 X[i, m] Y[i, k] / 4", "up to a broadcast over `j`"),
    ],
)
def test_wrong_claims_are_explained(claim: str, words: str) -> None:
    report = run(SQUARE + claim + "\n")
    (problem,) = [d for d in report.diagnostics if d.is_error]
    assert problem.code == "E402"
    assert words in problem.message, problem.message
    assert problem.hints and problem.hints[0].startswith("worst at d")


def test_right_claims_pass_even_when_not_symbolic() -> None:
    report = analyze_path(SAMPLES / "softmax.idx", Options())
    (claim,) = report.claims
    assert not claim.symbolic.matches
    assert claim.check is not None and claim.check.verdict == "ok"


def test_claim_using_a_true_derivative() -> None:
    report = run(AFFINE + "dL/db[k] = dL/dY[i, k]\ndL/dW[j, k] = X[i, j] dL/dY[i, k]\n")
    assert report.errors == 0
    assert [c.check.verdict for c in report.claims if c.check] == ["ok", "ok"]


# ---------------------------------------------------------------------------
# Never a false pass


def test_nan_is_inconclusive_with_a_hint() -> None:
    report = run("dim n = 4\nparam x[n]\ny[i] = log(x[i])\nL = y[i]\nderive dL/dx\n")
    (problem,) = [d for d in report.diagnostics if d.is_error]
    assert problem.code == "E403"
    assert problem.hints == ("log of a non-positive value in `y`: declare x positive",)
    fixed = run("dim n = 4\nparam x[n] positive\ny[i] = log(x[i])\nL = y[i]\nderive dL/dx\n")
    assert fixed.errors == 0


def test_nan_in_a_claim_is_inconclusive() -> None:
    report = run(
        "dim n = 3\nparam x[n] positive\nL = x[i] x[i]\ndL/dx[i] = 2 x[i] + 0 log(-x[i])\n"
    )
    assert [d.code for d in report.diagnostics if d.is_error] == ["E403"]


# ---------------------------------------------------------------------------
# The memory budget


def test_budget_forces_directions_then_refuses_with_a_size() -> None:
    text = AFFINE + "derive dY/dX\n"
    roomy = run(text)
    assert roomy.derivatives[0].check is not None
    assert roomy.derivatives[0].check.mode == "full"
    tight = run(text, budget_bytes=20_000)
    check = tight.derivatives[0].check
    assert check is not None and check.mode == "directions" and check.verdict == "ok"
    tiny = run(text, sizes=(("n", 4000), ("d", 3000), ("h", 2000)), budget_bytes=2**20)
    check = tiny.derivatives[0].check
    assert check is not None and check.verdict == "not verified"
    assert check.suggested_sizes
    (warning,) = tiny.diagnostics
    assert warning.code == "W104"
    assert "--size" in warning.hints[0]


def test_claim_too_large_is_an_error() -> None:
    report = run(
        AFFINE + "dY/dX[i, k, p, q] = W[q, k] delta[i, p]\n",
        sizes=(("n", 400), ("d", 300), ("h", 200)),
        budget_bytes=2**24,
    )
    assert "E404" in [d.code for d in report.diagnostics]


# ---------------------------------------------------------------------------
# --save, --at, --no-verify


def test_save_writes_arrays_and_derivatives(tmp_path: Path) -> None:
    target = tmp_path / "out.npz"
    text = "dim n = 4\nparam x[n], a\ninput c[n]\ny = a x[i] c[i]\nderive ∂y/∂x, dy/da\n"
    report = run(text, save=target)
    assert report.errors == 0
    with np.load(target) as archive:
        assert sorted(archive.files) == ["a", "c", "dy/da", "dy/dx", "x"]
        assert archive["a"].shape == ()
        assert archive["dy/da"].shape == ()
        np.testing.assert_allclose(archive["dy/dx"], archive["a"] * archive["c"])
        np.testing.assert_allclose(archive["dy/da"], archive["x"] @ archive["c"])


def test_save_uses_signature_order(tmp_path: Path) -> None:
    target = tmp_path / "out.npz"
    run("layout denominator\n" + AFFINE + "derive dY/dX\n", save=target)
    with np.load(target) as archive:
        assert archive["dY/dX"].shape == (8, 3, 8, 5)


def test_at_gives_the_values(tmp_path: Path) -> None:
    values = tmp_path / "at.npz"
    np.savez(values, x=np.array([1.0, 2.0, 3.0]))
    saved = tmp_path / "out.npz"
    report = run("dim n = 3\nparam x[n]\nL = x[i] x[i]\n", at=values, save=saved)
    assert report.errors == 0
    with np.load(saved) as archive:
        np.testing.assert_allclose(archive["dL/dx"], [2.0, 4.0, 6.0])


@pytest.mark.parametrize(
    ("arrays", "words"),
    [
        ({}, "lacks values for: x"),
        ({"x": np.zeros(3), "z": np.zeros(2)}, "does not declare: z"),
        ({"x": np.zeros(4)}, "has shape (4,), but the file declares (3,)"),
    ],
)
def test_bad_at_file_is_a_command_problem(tmp_path: Path, arrays: dict, words: str) -> None:
    source = tmp_path / "f.idx"
    source.write_text("dim n = 3\nparam x[n]\nL = x[i] x[i]\n")
    values = tmp_path / "at.npz"
    np.savez(values, **arrays)
    result = CliRunner().invoke(app, ["check", "--at", str(values), str(source)])
    assert result.exit_code == 2
    assert words in result.output


def test_no_verify_skips_the_numbers() -> None:
    report = run(SQUARE + "dL/db[k] = 4 Y[i, k]\n", verify=False)
    assert report.errors == 0
    assert report.verification is None
    assert report.claims[0].check is None


def test_cli_defaults_match_the_verifier() -> None:
    assert (DEFAULT_RTOL, DEFAULT_ATOL) == (VERIFY_RTOL, VERIFY_ATOL)


def test_at_may_not_override_a_literal(tmp_path: Path) -> None:
    source = tmp_path / "f.idx"
    source.write_text("param x[2] = [1, 2]\nL = x[i] x[i]\n")
    values = tmp_path / "at.npz"
    np.savez(values, x=np.zeros(2))
    result = CliRunner().invoke(app, ["check", "--at", str(values), str(source)])
    assert result.exit_code == 2
    assert "x has a literal value in the file" in result.output


def test_very_long_chains_are_refused_not_run() -> None:
    text = "param a\ny0 = a\nfor t in 1..6000:\n    y{t} = y{t-1} + a\nL = y6000\nderive dL/da\n"
    report = run(text)
    assert [d.code for d in report.diagnostics] == ["E303"]


def test_a_kink_is_inconclusive_not_a_bug() -> None:
    report = run("param x[3] = [0, 1, 2]\nL = relu(x[i]) + abs(x[i] - 1)\nderive dL/dx\n")
    (problem,) = report.diagnostics
    assert problem.code == "E403"
    assert "kink" in problem.message
    assert problem.hints[0].startswith("relu of a value at 0 in `L`")
