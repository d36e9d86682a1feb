"""Verdicts as diagnostics (E401-E404, W104), `--save`, `--at`, and the
record of how the numbers were made."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import run
from typer.testing import CliRunner

from shapecheck.cli import app
from shapecheck.numeric import claimcheck, verify
from shapecheck.numeric.report import ValuesProblem
from shapecheck.numeric.verdicts import Check, ClaimCheck, ClaimVerdict, Mode, Verdict, Worst
from shapecheck.pipeline import ValuesProblem as PipelineValuesProblem

AFFINE = (
    "dim n = 8, d = 3, h = 5\ninput X[n, d]\nparam W[d, h], b[h]\n"
    "Y[i, k] = X[i, j] W[j, k] + b[k]\nL = Y[i, k] Y[i, k]\n"
)
SQUARE = (
    "dim n = 6, d = 4\ninput X[n, d]\nparam W[d, d], b[d]\n"
    "Y[i, k] = X[i, j] W[j, k] + b[k]\nL = Y[i, k] Y[i, k]\n"
)
HUGE = (("n", 4000), ("d", 3000), ("h", 2000))


def test_a_failed_derivative_is_an_e401_naming_the_worst_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failed = Check(Verdict.FAILED, Mode.FULL, 6, 0.4, 0.5, Worst((3, 1), None, 0.412, 0.824))
    monkeypatch.setattr(verify.Verifier, "check", lambda self, derivation, clearing=None: failed)
    report = run("dim n = 3\nparam x[n]\nL = x[i] x[i]\nderive dL/dx\n")
    (problem,) = report.diagnostics
    assert problem.code == "E401"
    assert problem.message == "dL/dx as derived disagrees with finite differences"
    assert problem.hints == (
        "worst at dL/dx[3,1]: derived 0.412, finite differences 0.824",
        "this is a bug in shapecheck; please report it with the file",
    )


def test_a_failure_along_a_direction_names_the_direction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failed = Check(Verdict.FAILED, Mode.DIRECTIONS, 2, 1.0, 1.0, Worst(None, 2, 1.5, 0.5))
    monkeypatch.setattr(verify.Verifier, "check", lambda self, derivation, clearing=None: failed)
    report = run("dim n = 3\nparam x[n]\nL = x[i] x[i]\nderive dL/dx\n")
    assert report.diagnostics[0].hints[0] == (
        "worst at dL/dx along random direction 2: derived 1.5, finite differences 0.5"
    )


def test_an_inconclusive_derivative_is_a_w113_warning_with_the_hints() -> None:
    report = run("dim n = 4\nparam x[n]\ny[i] = log(x[i])\nL = y[i]\nderive dL/dx\n")
    (problem,) = report.diagnostics
    assert (problem.code, problem.is_error) == ("W113", False)
    assert problem.message == (
        "dL/dx is not verified: the numeric check is inconclusive: NaN or Inf in the comparison"
    )
    assert problem.hints == ("log of a non-positive value in `y`: declare x positive",)
    fixed = run("dim n = 4\nparam x[n] positive\ny[i] = log(x[i])\nL = y[i]\nderive dL/dx\n")
    assert fixed.diagnostics == ()


def test_an_inconclusive_claim_is_an_e403_carrying_the_reason_and_hints() -> None:
    text = "dim n = 4\nparam x[n]\ny[i] = log(x[i])\nL = y[i]\ndL/dx[i] = 1 / abs(x[i])\n"
    (problem,) = [d for d in run(text).diagnostics if d.is_error]
    assert problem.code == "E403"
    assert problem.message == (
        "the claim dL/dx[i] could not be verified: the true derivative could not be verified "
        "(NaN or Inf in the comparison)"
    )
    assert problem.hints == ("log of a non-positive value in `y`: declare x positive",)


def test_a_claim_confirmed_symbolically_is_right_when_the_numbers_cannot_decide() -> None:
    text = "dim n = 4\nparam x[n]\ny[i] = log(x[i])\nL = y[i]\ndL/dx[i] = 1 / x[i]\n"
    report = run(text)
    (claim,) = report.claims
    assert claim.confirmed is True
    # The default derive of dL/dx, then the claim: two warnings, no error.
    assert [(d.code, d.is_error) for d in report.diagnostics] == [("W113", False)] * 2
    assert report.diagnostics[1].message.startswith(
        "the claim dL/dx[i] is confirmed symbolically; its numeric check is inconclusive"
    )


def test_a_claim_confirmed_symbolically_that_the_numbers_contradict_is_a_bug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = Check(Verdict.FAILED, Mode.FULL, 3, 1.0, 1.0, Worst((2,), None, 1.5, 0.5))
    monkeypatch.setattr(
        claimcheck, "check_claim", lambda *args: ClaimCheck(ClaimVerdict.WRONG, wrong)
    )
    report = run("dim n = 3\nparam x[n]\nL = x[i] x[i]\ndL/dx[i] = 2 x[i]\n")
    (claim,) = report.claims
    assert claim.symbolic.matches and claim.confirmed is True
    (problem,) = [d for d in report.diagnostics if d.is_error]
    assert problem.code == "E401"
    assert problem.message == (
        "the claim dL/dx[i] is confirmed symbolically but disagrees with finite differences"
    )
    assert problem.hints == (
        "worst at dL/dx[2]: claimed 1.5, finite differences 0.5",
        "this is a bug in shapecheck; please report it with the file",
    )


def test_too_large_to_check_is_a_w104_warning_with_a_size() -> None:
    report = run(AFFINE + "derive dY/dX\n", sizes=HUGE, budget_bytes=2**20)
    (warning,) = report.diagnostics
    assert warning.code == "W104"
    assert warning.message.startswith("dY/dX is not verified: evaluating it would need more")
    assert warning.hints[0].startswith("check it at a smaller size: --size ")


def test_claim_too_large_is_an_e404() -> None:
    report = run(
        # Twice the truth: not confirmed symbolically, so only the numbers could judge it.
        AFFINE + "dY/dX[i, k, p, q] = 2 W[q, k] delta[i, p]\n",
        sizes=(("n", 400), ("d", 300), ("h", 200)),
        budget_bytes=2**24,
    )
    (error,) = [d for d in report.diagnostics if d.is_error]
    assert error.code == "E404"
    assert error.message.startswith("the claim dY/dX[i,k,p,q] could not be verified: evaluating")


def test_a_derivative_is_checked_and_reported_once() -> None:
    report = run(
        AFFINE + "derive dY/dX\ndY/dX[i, k, p, q] = 2 W[q, k] delta[i, p]\n",
        sizes=HUGE,
        budget_bytes=2**20,
    )
    assert [d.code for d in report.diagnostics] == ["W104", "E404"]


def test_save_writes_arrays_and_derivatives(tmp_path: Path) -> None:
    target = tmp_path / "out.npz"
    text = "dim n = 4\nparam x[n], a\ninput c[n]\ny = a x[i] c[i]\nderive ∂y/∂x, dy/da\n"
    report = run(text, save=target)
    assert report.errors == 0
    assert report.verification is not None and report.verification.saved_to == str(target)
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
        # dY[i,k]/dX[p,q] = W[q,k] δ[i,p], stored as [p, q, i, k] (X's indices first).
        expected = np.einsum("qk,ip->pqik", archive["W"], np.eye(8))
        np.testing.assert_allclose(archive["dY/dX"], expected)


def test_save_leaves_out_what_is_too_large(tmp_path: Path) -> None:
    target = tmp_path / "out.npz"
    report = run(
        AFFINE + "derive dY/dX, dL/db\n",
        sizes=(("n", 400), ("d", 300), ("h", 200)),
        budget_bytes=2**24,
        save=target,
    )
    assert "dY/dX is too large for the memory budget: not saved" in [
        d.message for d in report.diagnostics
    ]
    with np.load(target) as archive:
        assert "dY/dX" not in archive.files and "dL/db" in archive.files


def test_nothing_is_saved_when_the_values_do_not_fit(tmp_path: Path) -> None:
    target = tmp_path / "out.npz"
    report = run(AFFINE + "derive dY/dX\n", sizes=HUGE, budget_bytes=2**20, save=target)
    assert f"nothing saved to {target}: the values do not fit the memory budget" in [
        d.message for d in report.diagnostics
    ]
    assert not target.exists()
    assert report.verification is not None and report.verification.saved_to is None


def test_at_gives_the_values(tmp_path: Path) -> None:
    values = tmp_path / "at.npz"
    np.savez(values, x=np.array([1.0, 2.0, 3.0]))
    saved = tmp_path / "out.npz"
    report = run("dim n = 3\nparam x[n]\nL = x[i] x[i]\n", at=values, save=saved)
    assert report.errors == 0
    assert report.verification is not None and report.verification.values_from == str(values)
    with np.load(saved) as archive:
        np.testing.assert_allclose(archive["dL/dx"], [2.0, 4.0, 6.0])


def test_bad_at_values_are_a_values_problem(tmp_path: Path) -> None:
    values = tmp_path / "at.npz"
    np.savez(values, x=np.zeros(4))
    assert ValuesProblem is PipelineValuesProblem
    with pytest.raises(ValuesProblem, match=r"has shape \(4,\)"):
        run("dim n = 3\nparam x[n]\nL = x[i] x[i]\n", at=values)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("dim n = 3\nparam x[n]\nL = x[i] x[i]\n", "lacks values for: x"),
        ("param x[2] = [1, 2]\nL = x[i] x[i]\n", "x has a literal value in the file"),
    ],
)
def test_bad_at_file_is_a_command_problem(tmp_path: Path, text: str, words: str) -> None:
    source = tmp_path / "f.idx"
    source.write_text(text)
    values = tmp_path / "at.npz"
    np.savez(values, **({"x": np.zeros(2)} if "= [1, 2]" in text else {}))
    result = CliRunner().invoke(app, ["check", "--at", str(values), str(source)])
    assert result.exit_code == 2
    assert words in result.output


def test_verification_records_how_the_numbers_were_made() -> None:
    report = run(
        "dim n, m, k = 3\ninput A[n, 2], B[m, n]\nparam w[m]\nL = B[i, j] A[j, q] w[i]\n"
        "derive dL/dw\n",
        seed=5,
        rtol=1e-4,
        atol=1e-7,
    )
    info = report.verification
    assert info is not None
    assert (info.seed, info.rtol, info.atol, info.values_from) == (5, 1e-4, 1e-7, "seeded draws")
    sizes = {name: value for name, value, _ in info.sizes}
    chosen = {name for name, _, by_us in info.sizes if by_us}
    assert chosen == {"n", "m"}
    # Chosen sizes are distinct from each other and from the file's sizes.
    assert len({sizes["n"], sizes["m"], 2, 3}) == 4
    assert report.errors == 0


def test_no_verify_skips_the_numbers() -> None:
    report = run(SQUARE + "dL/db[k] = 4 Y[i, k]\n", verify=False)
    assert report.errors == 0
    assert report.verification is None
    assert report.claims[0].check is None
