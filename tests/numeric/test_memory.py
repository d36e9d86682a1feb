"""Memory estimates match what verification allocates (issue 14): an upper
bound of the bytes numpy allocates during a check, measured with tracemalloc,
and not absurdly loose; the affine layer at n = 512, d = h = 1024 fits."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import TypeVar

import pytest
from support import rnn, run

from shapecheck.numeric.budget import forward_pass_bytes
from shapecheck.numeric.evaluate import planned
from shapecheck.numeric.values import draw_values
from shapecheck.numeric.verdicts import Mode, Settings, Verdict
from shapecheck.numeric.verify import Verifier, forward_pass
from shapecheck.symbolic.derive import Deriver

T = TypeVar("T")

AFFINE = (
    "dim n = {n}, d = {d}, h = {h}\ninput X[n, d]\nparam W[d, h], b[h]\n"
    "Y[i, k] = X[i, j] W[j, k] + b[k]\nL = Y[i, k] Y[i, k]\n"
)


def _verifier(text: str, budget: int) -> tuple[Verifier, Deriver]:
    report = run(text, verify=False)
    assert report.checked is not None
    deriver = Deriver(report.checked)
    values = draw_values(report.checked, 0, None)
    return Verifier(report.checked, deriver, values, Settings(budget_bytes=budget)), deriver


def _with_peak(call: Callable[[], T]) -> tuple[T, int]:
    """What `call` returns, and the peak of what it allocated (tracemalloc)."""
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize(
    ("sizes", "wrt", "mode"),
    [((64, 96, 128), "W", Mode.DIRECTIONS), ((48, 40, 24), "b", Mode.FULL)],
)
def test_the_estimate_bounds_what_a_check_allocates(
    sizes: tuple[int, int, int], wrt: str, mode: Mode
) -> None:
    n, d, h = sizes
    verifier, deriver = _verifier(AFFINE.format(n=n, d=d, h=h), 8 * 2**20)
    of = "L"
    derivation = deriver.derive(of, wrt)
    plan = verifier.plan(derivation)
    assert (plan.contracted is None) == (mode is Mode.FULL)
    check, peak = _with_peak(lambda: verifier.check(derivation))
    assert check.verdict is Verdict.OK and check.mode is mode
    assert peak <= plan.bytes, (peak, plan)
    assert plan.bytes <= 12 * peak, (peak, plan)


def test_the_affine_gradient_at_full_size_is_verified_along_directions() -> None:
    report = run(AFFINE.format(n=512, d=1024, h=1024) + "derive dL/dW\n")
    (result,) = report.derivatives
    assert result.check is not None
    assert result.check.verdict is Verdict.OK
    assert result.check.mode is Mode.DIRECTIONS
    assert [d.code for d in report.diagnostics] == []


KINKED = (
    "dim n = 12\nparam x[n]\ninput A[n, n, n, n]\nL = sum[i, j, k, l](relu(A[i, j, k, l] x[l]))\n"
)


def test_a_claims_kink_search_keeps_to_the_budget() -> None:
    # The entries of a claim at a kink are found by rerunning every entry's
    # points x ± kh: 73 rows of a 12⁴ intermediate here, which a fuzzed claim
    # once ran all at once (1.6 GB under a 256 MB budget).
    budget = 8 * 2**20
    verifier, deriver = _verifier(KINKED, budget)
    derivation = deriver.derive("L", "x")
    mask, peak = _with_peak(lambda: verifier.kinked_entries(derivation))
    assert mask is not None and mask.shape == (12,)
    assert peak <= budget, peak


def test_a_claim_whose_kink_search_does_not_fit_is_too_large() -> None:
    report = run(KINKED + "dL/dx[l] = sum[i, j, k](A[i, j, k, l] step(A[i, j, k, l] x[l]))\n")
    assert [c.check.verdict for c in report.claims if c.check] == ["ok"]
    tight = run(
        KINKED + "dL/dx[l] = sum[i, j, k](A[i, j, k, l] step(A[i, j, k, l] x[l]))\n",
        budget_bytes=3 * 2**20,
    )
    (claim,) = tight.claims
    assert claim.check is not None
    assert claim.check.check.verdict is Verdict.NOT_VERIFIED, claim.check


# `g` writes dL/db of a 20-step relu RNN out: one product of many factors,
# contracted factor by factor, whose steps multiply two operands out over 15
# and 16 indices of 4 before summing (8 and 32 GiB): the forward pass ran
# out of memory (E999 MemoryError, 10 GB resident) where the estimate counted
# only what each step keeps, and a product of over 32 factors as one einsum.
_WRITTEN_OUT = "g[i] = dL/db[i]\nG = g[i] b[i]\nderive dL/dU"


def test_the_forward_pass_estimate_counts_what_a_step_multiplies_out() -> None:
    report = run(rnn(20, "relu", _WRITTEN_OUT), verify=False)
    assert report.checked is not None
    assert forward_pass_bytes(report.checked, Deriver(report.checked), planned) > 8 * 2**30


def test_a_forward_pass_over_the_budget_is_not_evaluated() -> None:
    report = run(rnn(20, "relu", _WRITTEN_OUT))
    codes = [d.code for d in report.diagnostics]
    assert codes == ["W104", "W104"]  # dL/db read by g, and dL/dU: not E999


@pytest.mark.parametrize("steps", [6, 12])
def test_the_forward_pass_estimate_bounds_what_it_allocates(steps: int) -> None:
    report = run(rnn(steps, "relu", _WRITTEN_OUT), verify=False)
    assert report.checked is not None
    deriver = Deriver(report.checked)
    values = draw_values(report.checked, 0, None)
    _, peak = _with_peak(lambda: forward_pass(deriver, values))
    assert peak <= forward_pass_bytes(report.checked, deriver, planned)
