"""Claims against the true derivative: each way of being wrong is explained,
right claims pass even when not symbolic, references take derived values,
and NaN is never a pass."""

from __future__ import annotations

import pytest
from support import SAMPLES, run

from shapecheck.numeric.claimcheck import check_claim
from shapecheck.numeric.values import draw_values
from shapecheck.numeric.verdicts import ClaimVerdict, Verdict
from shapecheck.numeric.verify import Settings, Verifier
from shapecheck.pipeline import Options, analyze_path
from shapecheck.symbolic.derive import Deriver

AFFINE = (
    "dim n = 8, d = 3, h = 5\ninput X[n, d]\nparam W[d, h], b[h]\n"
    "Y[i, k] = X[i, j] W[j, k] + b[k]\nL = Y[i, k] Y[i, k]\n"
)
SQUARE = (
    "dim n = 6, d = 4\ninput X[n, d]\nparam W[d, d], b[d]\n"
    "Y[i, k] = X[i, j] W[j, k] + b[k]\nL = Y[i, k] Y[i, k]\n"
)


@pytest.mark.parametrize(
    ("claim", "words"),
    [
        ("dL/dW[j, k] = 2 X[i, k] Y[i, j]", "transpose"),
        ("dL/db[k] = 4 Y[i, k]", "times a constant, 2"),
        ("dL/db[k] = -2 Y[i, k]", "wrong sign"),
        # n = 6: the claim's own factor, not a guess that a sum over n is missing.
        ("dL/db[k] = 2 Y[i, k] / 6", "it has an extra factor `1 / 6`"),
        # Constant along j, equal to the true derivative's mean over j (d = 4).
        ("dL/dW[j, k] = 2 X[i, m] Y[i, k] / 4", "up to a broadcast over `j`"),
    ],
)
def test_wrong_claims_are_explained(claim: str, words: str) -> None:
    report = run(SQUARE + claim + "\n")
    (result,) = report.claims
    assert result.check is not None and result.check.verdict is ClaimVerdict.WRONG
    assert result.check.diagnosis is not None and words in result.check.diagnosis
    (problem,) = [d for d in report.diagnostics if d.is_error]
    assert problem.code == "E402"
    assert words in problem.message, problem.message
    assert problem.hints and problem.hints[0].startswith("worst at d")


def test_right_claims_pass_even_when_not_symbolic() -> None:
    report = analyze_path(SAMPLES / "softmax.idx", Options())
    (claim,) = report.claims
    assert not claim.symbolic.matches
    assert claim.check is not None and claim.check.verdict is ClaimVerdict.OK


def test_claim_using_a_true_derivative() -> None:
    report = run(AFFINE + "dL/db[k] = dL/dY[i, k]\ndL/dW[j, k] = X[i, j] dL/dY[i, k]\n")
    assert report.errors == 0
    assert [c.check.verdict for c in report.claims if c.check] == ["ok", "ok"]


def test_nan_in_a_claim_is_inconclusive() -> None:
    report = run(
        "dim n = 3\nparam x[n] positive\nL = x[i] x[i]\ndL/dx[i] = 2 x[i] + 0 log(-x[i])\n"
    )
    (result,) = report.claims
    assert result.check is not None and result.check.verdict is ClaimVerdict.INCONCLUSIVE
    assert result.check.check.reason == "NaN or Inf in the comparison"
    # `0 log(-x)` simplifies away: the claim is confirmed symbolically, so it is
    # right and its inconclusive check is a warning (spec 6).
    assert result.symbolic.matches and result.confirmed is True
    assert [d.code for d in report.diagnostics] == ["W113"]


def _claim_check(text: str, truth_ok: bool, budget_bytes: int = 2**28):  # type: ignore[no-untyped-def]
    report = run(text, verify=False)
    assert report.checked is not None
    deriver = Deriver(report.checked)
    values = draw_values(report.checked, 0)
    verifier = Verifier(report.checked, deriver, values, Settings(budget_bytes=budget_bytes))
    (symbolic,) = report.claims
    return check_claim(verifier, symbolic.symbolic.derivation, symbolic.symbolic.claim, truth_ok)


def test_a_claim_is_never_checked_against_an_unverified_truth() -> None:
    result = _claim_check(SQUARE + "dL/db[k] = 2 Y[i, k]\n", truth_ok=False)
    assert result.verdict is ClaimVerdict.INCONCLUSIVE
    assert result.check.verdict is Verdict.INCONCLUSIVE
    assert result.check.reason == "the true derivative could not be verified"


def test_a_claim_too_large_to_evaluate_is_not_verified() -> None:
    result = _claim_check(SQUARE + "dL/db[k] = 2 Y[i, k]\n", truth_ok=True, budget_bytes=1000)
    assert result.verdict is ClaimVerdict.INCONCLUSIVE
    assert result.check.verdict is Verdict.NOT_VERIFIED
    assert result.diagnosis == "too large to evaluate"
