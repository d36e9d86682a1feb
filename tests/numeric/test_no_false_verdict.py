"""No false verdict, ever (issue 14 item 1): a fuzz campaign's saved programs,
whose derivatives are right, never get E401 or E402; a step far outside the
linear regime, or a claim written with heavy cancellation, is inconclusive
(E403) where the numbers cannot decide, never wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import run

from shapecheck.numeric import branches
from shapecheck.numeric.verdicts import ClaimVerdict, Verdict
from shapecheck.numeric.verify import forward_pass
from shapecheck.pipeline import FileReport
from shapecheck.symbolic.derive import Deriver

FUZZ = sorted((Path(__file__).parent / "data" / "fuzz").glob("*.idx"))


def _errors(text: str) -> list[str]:
    return [d.code for d in run(text).diagnostics if d.is_error]


@pytest.mark.parametrize("path", FUZZ, ids=[p.stem for p in FUZZ])
def test_fuzz_reproducers_get_no_false_verdict(path: Path) -> None:
    report = run(path.read_text(encoding="utf-8"))
    codes = [d.code for d in report.diagnostics if d.is_error]
    assert set(codes) <= {"E403"}, (path.name, report.diagnostics)  # a claim's, if any
    for result in report.derivatives:
        assert result.check is not None
        assert result.check.verdict in (Verdict.OK, Verdict.INCONCLUSIVE)
        if result.check.verdict is Verdict.OK:
            assert result.check.compared > 0


def test_4197_cos_of_a_huge_argument_is_inconclusive_not_e401() -> None:
    # dL/dW1 is about 2·10¹⁰: over one step the argument of cos moves by 10⁵
    # radians, and the finite differences (−48714 before) are garbage.
    report = run((Path(__file__).parent / "data" / "fuzz" / "4197.idx").read_text())
    assert _errors_of(report) == []
    assert [d.code for d in report.diagnostics] == ["W113"]
    (result,) = report.derivatives
    assert result.check is not None and result.check.verdict is Verdict.INCONCLUSIVE
    assert "could be resolved numerically" in (result.check.reason or "")


def _errors_of(report: FileReport) -> list[str]:
    return [d.code for d in report.diagnostics if d.is_error]


SIN6 = "param x = 20\nL = sin(x^6)\nderive dL/dx\n"


def test_sin_of_x_to_the_sixth_at_20_is_never_wrong() -> None:
    # d/dx sin(x⁶) = 6 x⁵ cos(x⁶) ≈ 2·10⁷: the step 1.2·10⁻⁴ moves x⁶ by 2300 rad.
    assert set(_errors(SIN6)) <= {"E403"}
    report = run(SIN6 + "dL/dx = 6 x^5 cos(x^6)\n")
    assert set(_errors_of(report)) <= {"E403"}
    (claim,) = report.claims
    assert claim.check is not None and claim.check.verdict is not ClaimVerdict.WRONG
    # A wrong claim is never called right either.
    wrong = run(SIN6 + "dL/dx = 5 x^5 cos(x^6)\n")
    (claim,) = wrong.claims
    assert claim.check is not None and claim.check.verdict is not ClaimVerdict.OK


def test_the_same_function_at_a_small_argument_is_verified() -> None:
    report = run("param x = 0.7\nL = sin(x^6)\nderive dL/dx\ndL/dx = 6 x^5 cos(x^6)\n")
    assert _errors_of(report) == []
    (claim,) = report.claims
    assert claim.check is not None and claim.check.verdict is ClaimVerdict.OK


CANCEL = "dim n = 3\nparam x[n]\nL = x[i] x[i]\n"


@pytest.mark.parametrize("big", ["1e8", "1e12", "1e15"])
def test_a_right_claim_with_heavy_cancellation_is_never_wrong(big: str) -> None:
    report = run(CANCEL + f"dL/dx[i] = (x[i] + {big}) - {big} + x[i]\n")
    assert set(_errors_of(report)) <= {"E403"}, report.diagnostics
    (claim,) = report.claims
    assert claim.check is not None and claim.check.verdict is not ClaimVerdict.WRONG
    if big == "1e8":
        # ε · 2·10⁸ ≈ 4·10⁻⁸ is well inside the tolerance: decided, and right.
        assert claim.check.verdict is ClaimVerdict.OK
    else:
        assert claim.check.check.reason is not None
        assert "rounding error" in claim.check.check.reason


def test_a_wrong_claim_with_mild_cancellation_is_still_wrong() -> None:
    report = run(CANCEL + "dL/dx[i] = (x[i] + 1e4) - 1e4 + 1.1 x[i]\n")
    assert "E402" in _errors_of(report)


def test_cancellation_inside_a_function_is_bounded_too() -> None:
    # exp((x + 1e12) - 1e12) x: the argument's rounding error is amplified by exp.
    text = "dim n = 3\nparam x[n]\nL = exp(x[i]) x[i]\n"
    claim = "dL/dx[i] = exp((x[i] + 1e12) - 1e12) (1 + x[i])\n"
    report = run(text + claim)
    (result,) = report.claims
    assert result.check is not None and result.check.verdict is not ClaimVerdict.WRONG


def test_a_fast_small_oscillation_under_a_large_smooth_function_is_not_decided() -> None:
    # cos(1e9 v) adds a derivative term of 10⁹ · 2y ≈ 10²² to dL/dv ≈ 7·10²⁵
    # (above the tolerance), while its samples alias to values far below it: the
    # differences look asymptotic and agree to 10⁻⁸, and would call the right
    # derivative wrong. The argument of cos moves by 10⁴ radians over a step.
    text = (
        "dim n = 2, m = 3\nparam A[n, m], v[n], w[m], s\n"
        "y[i] = cos(1e9 * (v[i])) + (1 + (exp(10 * tanh(v[i])))^2)^1.5\nL = y[i] y[i]\n"
    )
    assert set(_errors(text)) <= {"E403"}


def test_an_oscillation_the_step_resolves_is_still_verified() -> None:
    report = run("dim n = 3\nparam v[n]\nL = cos(30 v[i]) + v[i] v[i]\nderive dL/dv\n")
    assert _errors_of(report) == []
    (result,) = report.derivatives
    assert result.check is not None and result.check.compared == 3


_COMPUTED_MATRIX = """dim n = 2
param x[n, n]
input c[n, n]
M[i, j] = sqrt((x[i, j] + c[i, j])^2) - c[i, j]
{body}
"""


@pytest.mark.parametrize(
    "body",
    [
        "D = det(M)\nderive dD/dx",
        "L = inv(M)[i, j]\nderive dL/dx",
        "D = log(abs(det(M)))\nderive dD/dx",
        "D = det(M)\ndD/dx[i, j] = D inv(M)[j, i] (x[i, j] + c[i, j]) / abs(x[i, j] + c[i, j])",
    ],
)
@pytest.mark.parametrize("offset", [1e14, 1e15])
def test_det_and_inv_of_a_computed_matrix_carry_its_rounding(
    tmp_path: Path, body: str, offset: float
) -> None:
    # M is x, computed off by up to 0.7 at c = 1e14: finite differences
    # through det(M) or inv(M) are that noisy, which the condition number of
    # M as given does not see (E401 "as derived disagrees" before).
    at = tmp_path / "at.npz"
    np.savez(at, c=np.full((2, 2), offset), x=np.array([[0.3, -1.2], [0.7, 0.45]]))
    report = run(_COMPUTED_MATRIX.format(body=body), at=at)
    assert {d.code for d in report.diagnostics} <= {"W113", "E403"}, report.diagnostics
    for result in report.derivatives:
        assert result.check is not None and result.check.verdict is Verdict.INCONCLUSIVE
    for claim in report.claims:
        assert claim.confirmed is not False


_DROPOUT = (
    Path(__file__).parents[2] / "samples" / "course" / "mistakes" / "dropout_mask.idx"
).read_text(encoding="utf-8")


@pytest.mark.parametrize("seed", [2, 7, 8])
def test_a_claim_right_by_a_coincidence_of_values_is_wrong_at_another_draw(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    # At these seeds every r[i,j] < p: the mask keep is all ones, and the
    # claim that forgets it agrees with the truth at every entry.
    import shapecheck.pipeline as pipeline

    monkeypatch.setattr(pipeline, "OTHER_DRAWS", 0)
    monkeypatch.setattr(branches, "MAX_SEARCHED", 0)
    assert run(_DROPOUT, seed=seed).claims[0].confirmed is True
    monkeypatch.undo()
    report = run(_DROPOUT, seed=seed)
    (claim,) = report.claims
    assert claim.confirmed is False
    (problem,) = [d for d in report.diagnostics if d.is_error]
    assert problem.code == "E402"
    assert problem.message == "the claim dL/dx[i,j] is wrong: it misses the factor `keep[i,j]`"
    coincidence = f"drawn with seed {seed} only by a coincidence of values"
    assert any(coincidence in hint for hint in problem.hints)


@pytest.mark.parametrize("seed", [224, 225])
def test_a_claim_right_at_three_draws_by_one_branch_is_wrong_where_it_takes_another(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    # At seeds 224 to 227 every r[i,j] < p: the three draws all agree (the
    # only such seeds of 0 to 399); the mask takes its other branch at 228.
    monkeypatch.setattr(branches, "MAX_SEARCHED", 0)
    assert run(_DROPOUT, seed=seed).claims[0].confirmed is True
    monkeypatch.undo()
    report = run(_DROPOUT, seed=seed)
    assert report.claims[0].confirmed is False
    (problem,) = [d for d in report.diagnostics if d.is_error]
    assert problem.code == "E402"
    assert problem.message == "the claim dL/dx[i,j] is wrong: it misses the factor `keep[i,j]`"
    seeds = f"seeds {seed}, {seed + 1} and {seed + 2}, where a comparison"
    assert any(seeds in hint and "with seed 228," in hint for hint in problem.hints)


_MASKS = """dim n = {n}
input x[n], r[n]
param p positive
keep[i] = r[i] {op} p
out[i] = x[i] keep[i] / p
L = loss(out)
dL/dx[i] = dL/dout[i] {mask}/ p
"""


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 3),
    op=st.sampled_from(["<", ">", "<=", ">="]),
    seed=st.integers(0, 10**6),
)
def test_a_claim_that_forgets_a_mask_is_never_confirmed(n: int, op: str, seed: int) -> None:
    # With one to three entries the mask often keeps all or none of them at
    # a draw: where it keeps all, the claim without it agrees there.
    wrong = run(_MASKS.format(n=n, op=op, mask=""), seed=seed)
    assert wrong.claims[0].confirmed is not True
    right = run(_MASKS.format(n=n, op=op, mask="keep[i] "), seed=seed)
    assert right.claims[0].confirmed is True


def test_the_right_dropout_claim_stays_confirmed_where_the_mask_took_one_branch() -> None:
    right = _DROPOUT.replace("dL/dout[i, j] / p", "dL/dout[i, j] keep[i, j] / p")
    report = run(right, seed=224)
    assert report.claims[0].confirmed is True
    assert [d.code for d in report.diagnostics] == []


_BRANCHES = """dim n = 3
input x[n], y[n]
param a
m[i] = max(x[i], 0) + relu(x[i]^2) + (y[i] > a)
L = m[i] m[i]
"""


def test_the_branches_taken_are_those_of_each_entry() -> None:
    report = run(_BRANCHES, verify=False)
    assert report.checked is not None
    deriver = Deriver(report.checked)
    leaves = {"x": np.array([-1.0, 0.0, 2.0]), "y": np.array([1.0, 2.0, 3.0]), "a": np.array(0.5)}
    taken = branches.branches_taken(deriver, forward_pass(deriver, leaves))
    # max(x, 0): below, at and above; relu(x^2): at and above; y > a: above.
    assert sorted(sorted(sides) for sides in taken.values()) == [[-1, 0, 1], [0, 1], [1]]


def _seeds(text: str, drawn: list[int], budget: int = 2**28) -> list[int]:
    report = run(text, verify=False)
    assert report.checked is not None
    return branches.other_branch_seeds(report.checked, Deriver(report.checked), drawn, budget)


def test_seeds_are_searched_only_for_a_term_that_took_one_branch() -> None:
    # s > w goes one way at the draws of seeds 0 to 3 and the other at 4;
    # then no term is left that took one branch only.
    assert _seeds("input s\nparam w\nm = (s > w) s\nL = m m\n", [0, 1, 2]) == [4]
    assert _seeds("input s\nparam w\nm = (s > w) s\nL = m m\n", [0, 1, 2], budget=8) == []
    # Only relu(x^2), at 0 or above by construction, took one branch: it never turns.
    assert _seeds(_BRANCHES, [0, 1, 2]) == []
    assert _seeds("dim n = 3\ninput x[n]\nL = x[i] x[i]\n", [0]) == []


def test_the_claims_are_checked_again_at_the_draws_that_turn_the_most() -> None:
    node = [("m", k) for k in range(4)]
    turns = {3: {node[0]}, 4: {node[1], node[2]}, 5: {node[3]}, 6: set()}
    assert branches._covering(turns) == [3, 4]  # 4 turns two, then 3 before 5
    assert branches._covering({7: set()}) == []


_RELU_STEPS = """param w, c positive
input s0
for t in 1..30:
    input x{t}
    s{t} = tanh(w s{t-1} + x{t}) + relu(x{t} - 1.5)
L = s30 s30 c
dL/dw = dL/dw abs(c) / c
"""


def test_a_right_claim_is_checked_again_at_most_at_two_turning_draws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each relu(x{t} - 1.5) is mostly 0: every draw turns some of them (the
    # claim, right for a positive c, is not confirmed symbolically). It was
    # checked at every turning draw, 8 whole numeric checks.
    from shapecheck.numeric import report as numeric_report

    calls: list[int] = []
    verify = numeric_report.verify_numerically

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return verify(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(numeric_report, "verify_numerically", counted)
    report = run(_RELU_STEPS)
    assert report.claims[0].confirmed is True
    assert not report.claims[0].symbolic.matches
    assert len(calls) == 1 + 2 + branches.MAX_CHECKED


def test_a_right_claim_confirmed_numerically_stays_confirmed_at_other_draws() -> None:
    # Not confirmed symbolically (the canonical form keeps `1 / abs(x)`), and
    # right wherever the truth is defined: no draw makes it wrong.
    report = run("dim n = 4\nparam x[n] positive\nL = log(x[i])\ndL/dx[p] = 1 / abs(x[p])\n")
    (claim,) = report.claims
    assert not claim.symbolic.matches
    assert claim.confirmed is True
    assert not report.diagnostics
