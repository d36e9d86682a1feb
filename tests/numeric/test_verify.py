"""The verifier: mutations fail, correct derivatives pass at any size, NaN and
kinks are never a pass, the budget chooses full, directions or no check."""

from __future__ import annotations

from dataclasses import replace

from support import SAMPLES, run

from shapecheck.cli import DEFAULT_ATOL, DEFAULT_RTOL
from shapecheck.numeric.values import draw_values
from shapecheck.numeric.verify import (
    DEFAULT_ATOL as VERIFY_ATOL,
)
from shapecheck.numeric.verify import (
    DEFAULT_RTOL as VERIFY_RTOL,
)
from shapecheck.numeric.verify import (
    ClaimVerdict,
    Mode,
    Settings,
    Verdict,
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
    assert verifier.check(gradient).verdict is Verdict.OK
    j, k = gradient.wrt_indices
    swapped = t.substitute(gradient.formula, {j.name: k, k.name: j})  # the transpose
    mutations: dict[str, t.Term] = {
        "transposed": swapped,
        "constant changed": t.Product((t.Const(2.0), gradient.formula)),
        "sign": t.Product((t.Const(-1.0), gradient.formula)),
    }
    jacobian = deriver.derive("Y", "X")  # W[q,k] δ[i,p]
    assert verifier.check(jacobian).verdict is Verdict.OK
    _, kk = jacobian.of_indices
    _, q = jacobian.wrt_indices
    jacobian_mutations: dict[str, t.Term] = {
        # W[q,k] -> W[k,q] (square here); δ is symmetric, so its indices are not.
        "indices swapped": t.substitute(jacobian.formula, {q.name: kk, kk.name: q}),
        "delta dropped": t.add([t.Tensor("W", (q, kk))], jacobian.indices),
    }
    bias = deriver.derive("L", "b")
    assert verifier.check(bias).verdict is Verdict.OK
    adjoint = bias.adjoints[0]
    bias_dropped_term = replace(
        bias,
        adjoints=(replace(adjoint, formula=t.add([t.Const(0.0)], adjoint.indices)),),
    )
    for name, formula in mutations.items():
        mutated = replace(gradient, formula=formula)
        verifier.derived.values.clear()
        assert verifier.check(mutated).verdict is Verdict.FAILED, name
    for name, formula in jacobian_mutations.items():
        verifier.derived.values.clear()
        assert verifier.check(replace(jacobian, formula=formula)).verdict is Verdict.FAILED, name
    verifier.derived.values.clear()
    assert verifier.check(bias_dropped_term).verdict is Verdict.FAILED


def test_adjoint_with_a_dropped_term_fails() -> None:
    verifier, deriver = _verifier(
        "dim n = 5\nparam x[n]\ny[i] = x[i]^2 + 3 x[i]\nL = y[i] y[i]\nderive dL/dx\n"
    )
    derivation = deriver.derive("L", "x")
    assert verifier.check(derivation).verdict is Verdict.OK
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

    verifier.derived.values.clear()
    assert verifier.check(replace(derivation, formula=swap(formula))).verdict is Verdict.FAILED


# ---------------------------------------------------------------------------
# Correct derivatives pass everywhere


def test_all_samples_pass_numerically() -> None:
    for path in sorted(SAMPLES.glob("*.idx")):
        report = analyze_path(path, Options())
        assert report.errors == 0, (path, report.diagnostics)
        for result in report.derivatives:
            assert result.check is not None and result.check.verdict is Verdict.OK, path
        for claim in report.claims:
            assert claim.check is not None and claim.check.verdict is ClaimVerdict.OK, path


def test_large_affine_has_no_false_failure() -> None:
    report = run(
        AFFINE + "derive dY/dX, dL/dW, dL/dX\ndL/db[k] = 2 Y[i, k]\n",
        sizes=(("n", 64), ("d", 128), ("h", 256)),
    )
    assert report.errors == 0, report.diagnostics
    assert {r.check.mode for r in report.derivatives if r.check} == {Mode.DIRECTIONS}
    assert all(r.check and r.check.verdict is Verdict.OK for r in report.derivatives)


def test_large_rnn_has_no_false_failure() -> None:
    text = (
        "dim h = 256, d = 128\nparam W[d, h], U[h, h], b[h]\ninput s0[h]\n"
        "for t in 1..4:\n    input x{t}[d]\n"
        "    s{t}[i] = tanh(x{t}[j] W[j, i] / 16 + s{t-1}[k] U[k, i] / 16 + b[i])\n"
        "L = s4[i] s4[i]\nderive dL/dU, dL/dW\n"
    )
    report = run(text)
    assert report.errors == 0, report.diagnostics
    assert all(r.check and r.check.verdict is Verdict.OK for r in report.derivatives)


# ---------------------------------------------------------------------------
# Never a false pass


def test_nan_is_inconclusive_with_a_hint() -> None:
    verifier, deriver = _verifier("dim n = 4\nparam x[n]\ny[i] = log(x[i])\nL = y[i]\n")
    check = verifier.check(deriver.derive("L", "x"))
    assert check.verdict is Verdict.INCONCLUSIVE
    assert check.reason == "NaN or Inf in the comparison"
    assert check.hints == ("log of a non-positive value in `y`: declare x positive",)


# ---------------------------------------------------------------------------
# The memory budget


def test_budget_forces_directions_then_refuses_with_a_size() -> None:
    text = AFFINE + "derive dY/dX\n"
    roomy = run(text)
    assert roomy.derivatives[0].check is not None
    assert roomy.derivatives[0].check.mode is Mode.FULL
    tight = run(text, budget_bytes=20_000)
    check = tight.derivatives[0].check
    assert check is not None and check.mode is Mode.DIRECTIONS and check.verdict is Verdict.OK
    tiny = run(text, sizes=(("n", 4000), ("d", 3000), ("h", 2000)), budget_bytes=2**20)
    check = tiny.derivatives[0].check
    assert check is not None and check.verdict is Verdict.NOT_VERIFIED
    assert check.suggested_sizes
    (warning,) = tiny.diagnostics
    assert warning.code == "W104"
    assert "--size" in warning.hints[0]


def test_cli_defaults_match_the_verifier() -> None:
    assert (DEFAULT_RTOL, DEFAULT_ATOL) == (VERIFY_RTOL, VERIFY_ATOL)


def test_very_long_chains_are_refused_not_run() -> None:
    text = "param a\ny0 = a\nfor t in 1..6000:\n    y{t} = y{t-1} + a\nL = y6000\nderive dL/da\n"
    report = run(text)
    assert [d.code for d in report.diagnostics] == ["E303"]


def test_a_kink_is_left_out_not_a_bug() -> None:
    # At x = 0 (relu) and x = 1 (abs) no derivative exists: the central
    # differences there straddle a change of branch, so those entries are left
    # out at a kink (and the kink named); the entry at x = 2 is compared.
    verifier, deriver = _verifier("param x[3] = [0, 1, 2]\nL = relu(x[i]) + abs(x[i] - 1)\n")
    check = verifier.check(deriver.derive("L", "x"))
    assert check.verdict is Verdict.OK
    assert (check.compared, check.undecidable, check.at_kink) == (1, 0, 2)
    assert any(h.startswith("relu of a value at 0 in `L`") for h in check.hints)
    report = run("param x[3] = [0, 1, 2]\nL = relu(x[i]) + abs(x[i] - 1)\nderive dL/dx\n")
    assert [d.code for d in report.diagnostics] == []


def test_nothing_but_kinks_is_inconclusive_not_a_bug() -> None:
    verifier, deriver = _verifier("param x[2] = [0, 0]\nL = relu(x[i])\n")
    check = verifier.check(deriver.derive("L", "x"))
    assert check.verdict is Verdict.INCONCLUSIVE
    assert any(h.startswith("relu of a value at 0 in `L`") for h in check.hints)
    assert check.reason == "all entries at a kink"
    report = run("param x[2] = [0, 0]\nL = relu(x[i])\nderive dL/dx\n")
    # Not verified, but nothing is wrong: a warning (spec 9.2).
    assert [d.code for d in report.diagnostics] == ["W110"]
