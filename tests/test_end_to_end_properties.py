"""End to end: for random valid programs, every derived gradient agrees with
finite differences of the program's own definitions (no E401, ever)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import run

from shapecheck.numeric.verdicts import ClaimVerdict, Verdict

HEADER = "dim n = 2, m = 3\nparam A[n, m], v[n], w[m], s\nfn f, g\n"

# Expressions over the arrays, each tagged with the indices it leaves free
# (i has size n, j has size m); j is summed wherever it is not on the left.
atoms_i = st.sampled_from(
    [
        "v[i]",
        "A[i, j] w[j]",
        "A[i, 1]",
        "s v[i]",
        "delta[i, 2] v[i]",
        # Spec 9.1: means and sizes standing as numbers.
        # (`e` over m: one index name has one size in a statement, and the
        # reductions below bind `u` over n.)
        "mean[e](A[i, e])",
        "v[i] / n",
        "mean[e](w[e] - v[i]) m",
        # Spec 9.4: a sum over a range of steps, with the step as a number.
        "sum[t in 1..2](0.5^t A[i, t])",
    ]
)
atoms_j = st.sampled_from(["w[j]", "A[1, j]", "v[k] A[k, j]"])
scalars = st.sampled_from(["s", "v[1]", "w[2] s", "2", "0.5", "n", "mean[p, q](A[p, q])"])
# Arguments of logsumexp[u] and norm[u], which bind u (spec 9.5).
atoms_u = st.sampled_from(["v[u]", "A[u, j] w[j]", "s v[u]", "1e3 v[u]", "A[u, 2] - v[u]"])


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, b: f"{a} + {b}", inner, inner),
        st.builds(lambda a, b: f"{a} - {b}", inner, inner),
        st.builds(lambda a, b: f"({a}) * ({b})", inner, scalars),
        st.builds(lambda f, a: f"{f}({a})", st.sampled_from(["tanh", "sin", "exp"]), inner),
        # Opaque functions and their derivatives (spec 9.5), seeded stand-ins.
        st.builds(
            lambda f, primes, a: f"{f}{primes}({a})",
            st.sampled_from(["f", "g"]),
            st.sampled_from(["", "'", "''"]),
            inner,
        ),
        st.builds(lambda a: f"({a})^2", inner),
        st.builds(lambda a, b: f"({a}) / (1 + ({b})^2)", inner, scalars),
        # spec 9.5: softmax keeps i; logsumexp and norm reduce a fresh index u.
        st.builds(lambda a: f"softmax[i]({a})", inner),
        st.builds(lambda a, b: f"({a}) logsumexp[u]({b})", inner, atoms_u),
        st.builds(lambda a, b: f"({a}) norm[u]({b} + 2)", inner, atoms_u),
        # Piecewise (spec 9.2): kinks are left out of the checks, never a failure.
        st.builds(lambda f, a, b: f"{f}({a}, {b})", st.sampled_from(["max", "min"]), inner, inner),
        st.builds(lambda f, a: f"{f}({a})", st.sampled_from(["relu", "abs"]), inner),
        st.builds(lambda a, b: f"({a}) ({b} > 0)", inner, inner),
        st.builds(lambda a: f"({a}) (i <= 1) + 0.5^i ({a})", inner),
        # Sides equal as formulas but computed differently (at y = z): rounding
        # picks the branch, and the derived formula may round the other way.
        st.builds(lambda a: f"({a}) (v[i] A[y, 1] / A[z, 1] >= v[i])", inner),
        # Reductions and selections (spec 9.2): ties are kinks, left out.
        st.builds(
            lambda f, a, b: f"({a}) {f}[u]({b})", st.sampled_from(["max", "min"]), inner, atoms_u
        ),
        st.builds(lambda a: f"({a}) - max[u, e](A[u, e] v[u])", inner),
        st.builds(
            lambda a, f: f"({a}) A[i, {f}[e](A[i, e] + w[e])]",
            inner,
            st.sampled_from(["argmax", "argmin"]),
        ),
        st.builds(lambda a: f"({a}) argmax[u](v[u])", inner),
        st.builds(lambda a: f"({a}) sum[t in 1..m](w[t] (t <= 2) - s)", inner),
    )


expressions_i = st.recursive(atoms_i, _grow, max_leaves=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions_i, st.sampled_from(["L = y[i] y[i]", "L = tanh(y[i]) w[1]", "L = y[1]"]))
def test_derived_gradients_agree_with_finite_differences(expression: str, loss: str) -> None:
    text = f"{HEADER}y[i] = {expression}\n{loss}\n"
    report = run(text)
    codes = [d.code for d in report.diagnostics if d.is_error]
    assert "E401" not in codes, (text, report.diagnostics)
    assert codes == [] or set(codes) == {"E403"}, (text, report.diagnostics)
    for result in report.derivatives:
        assert result.check is not None
        assert result.check.verdict in (Verdict.OK, Verdict.INCONCLUSIVE), (
            text,
            result.derivation.label,
        )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions_i)
def test_jacobians_agree_with_finite_differences(expression: str) -> None:
    text = f"{HEADER}y[i] = {expression}\nderive dy/dA, dy/dv, dy/dw, dy/ds\n"
    report = run(text)
    codes = [d.code for d in report.diagnostics if d.is_error]
    assert "E401" not in codes, (text, report.diagnostics)
    for result in report.derivatives:
        assert result.check is not None
        assert result.check.verdict in (Verdict.OK, Verdict.INCONCLUSIVE), (
            text,
            result.derivation.label,
        )


# Deeper programs (issue 14): nestings of exp, powers, products and sums, with
# large and small magnitudes, where finite differences lose digits to round-off
# (exp of a fourth power next to a small entry) or truncation (near a pole).
DEEP_HEADER = "dim n = 2, m = 3\nparam A[n, m], v[n], w[m], s, B[n, n]\n"
deep_atoms = st.sampled_from(
    ["v[i]", "A[i, j] w[j]", "B[i, k] v[k]", "s v[i]", "1e3 v[i]", "1e-3 v[i]", "v[i] + 2"]
)
magnitudes = st.sampled_from(["s", "1e4", "1e-4", "3", "w[2]"])


def _deepen(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, b: f"{a} + {b}", inner, inner),
        st.builds(lambda a, b: f"({a}) * ({b})", inner, inner),
        st.builds(lambda a, c: f"({a}) * {c}", inner, magnitudes),
        st.builds(lambda a: f"exp({a})", inner),
        st.builds(lambda a: f"exp(-({a})^2)", inner),
        st.builds(lambda a, p: f"(({a})^2)^{p}", inner, st.sampled_from(["2", "-1", "-2", "3"])),
        st.builds(lambda a: f"tanh({a})", inner),
    )


deep_expressions = st.recursive(deep_atoms, _deepen, max_leaves=6)
deep_losses = st.sampled_from(["L = y[i] y[i]", "L = y[i] B[i, 1]", "L = exp(y[1]) + y[2]"])


def _no_false_failure(text: str) -> None:
    report = run(text)
    codes = [d.code for d in report.diagnostics if d.is_error]
    assert "E401" not in codes, (text, report.diagnostics)
    for result in report.derivatives:
        assert result.check is not None
        assert result.check.verdict in (Verdict.OK, Verdict.INCONCLUSIVE), (text, result)
        if result.check.verdict == Verdict.OK:
            assert result.check.compared > 0, (text, result)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(deep_expressions, deep_losses)
def test_deep_programs_never_get_a_false_e401(expression: str, loss: str) -> None:
    _no_false_failure(f"{DEEP_HEADER}y[i] = {expression}\n{loss}\n")


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(deep_expressions)
def test_deep_jacobians_never_get_a_false_e401(expression: str) -> None:
    _no_false_failure(f"{DEEP_HEADER}y[i] = {expression}\nderive dy/dB, dy/dv, dy/ds\n")


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(deep_expressions, st.sampled_from(["scaled", "transposed"]))
def test_wrong_claims_are_caught_where_the_numbers_decide(expression: str, how: str) -> None:
    # A claim written with a reference to the true derivative, then spoiled; the
    # B v term makes dL/dB non-zero and, for these values, not symmetric.
    claim = {
        "scaled": "dL/dB[i, k] = 1.01 * dL/dB[i, k]",
        "transposed": "dL/dB[i, k] = dL/dB[k, i]",
    }[how]
    text = f"{DEEP_HEADER}y[i] = {expression} + B[i, k] v[k]\nL = y[i] y[i] + y[1]\n{claim}\n"
    report = run(text)
    codes = [d.code for d in report.diagnostics if d.is_error]
    assert "E401" not in codes, (text, report.diagnostics)
    (result,) = report.claims
    assert result.check is not None
    if result.check.verdict is ClaimVerdict.INCONCLUSIVE:
        # Only when the true derivative itself could not be verified: never a pass.
        assert (result.check.check.reason or "").startswith(
            "the true derivative could not be verified"
        )
        assert "E403" in codes
    else:
        assert result.check.verdict is ClaimVerdict.WRONG, (text, result)
        assert "E402" in codes


# Large arguments (issue 14, fuzz case 4197): cos and sin of arguments that move
# by many radians over one finite-difference step, and exp of large ones. The
# differences are garbage there (and may alias to a smooth-looking curve); the
# check must call them undecidable, never E401, and never a pass without a
# compared entry.
LARGE_HEADER = "dim n = 2, m = 3\nparam A[n, m], v[n], w[m], s\n"
large_atoms = st.sampled_from(["v[i]", "A[i, j] w[j]", "s v[i]", "v[i] + 2", "(v[i])^3"])
large_scales = st.sampled_from(["1e2", "1e4", "1e6", "1e9", "3", "(1 + (s)^2)^3"])


def _enlarge(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(
            lambda f, c, a: f"{f}({c} * ({a}))",
            st.sampled_from(["cos", "sin"]),
            large_scales,
            inner,
        ),
        st.builds(
            lambda f, a, p: f"{f}(({a})^{p})",
            st.sampled_from(["cos", "sin"]),
            inner,
            st.sampled_from(["4", "6"]),
        ),
        st.builds(lambda a, c: f"exp({c} * tanh({a}))", inner, st.sampled_from(["10", "300"])),
        st.builds(lambda a, b: f"({a}) * ({b})", inner, inner),
        st.builds(lambda a, b: f"{a} + {b}", inner, inner),
        st.builds(lambda a: f"(1 + ({a})^2)^1.5", inner),
    )


large_expressions = st.recursive(large_atoms, _enlarge, max_leaves=4)
large_losses = st.sampled_from(
    ["L = y[i] y[i]", "L = cos(y[i] y[i] s)", "L = sin((1 + (y[1])^2)^1.5 v[2] v[2])"]
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(large_expressions, large_losses)
def test_large_arguments_never_get_a_false_e401(expression: str, loss: str) -> None:
    _no_false_failure(f"{LARGE_HEADER}y[i] = {expression}\n{loss}\n")


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(large_expressions)
def test_large_argument_jacobians_never_get_a_false_e401(expression: str) -> None:
    _no_false_failure(f"{LARGE_HEADER}y[i] = {expression}\nderive dy/dA, dy/dv, dy/ds\n")


# Strided windows (spec 9.4): a stride, a kernel and an output size computed by
# a size expression; the derived gradients against a numpy loop written here.
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3), st.integers(1, 3), st.sampled_from(["", " + b", " - w[u] w[u]"]))
def test_strided_windows_agree_with_a_numpy_loop(stride: int, kernel: int, extra: str) -> None:
    import tempfile
    from pathlib import Path

    import numpy as np

    text = (
        f"dim s = {stride}, k = {kernel}, n, m = (n - k) / s + 1\n"
        "input x[n]\nparam w[k], b\n"
        f"y[a:m] = x[s a + u - s] w[u]{extra}\nL = loss(y)\nderive dL/dx, dL/dw\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.npz"
        report = run(text, save=path)
        assert report.errors == 0, (text, report.diagnostics)
        with np.load(path) as data:
            v = {name: data[name] for name in data.files}
    x, w, g = v["x"], v["w"], v["dloss/dy"]
    assert (x.size - kernel) % stride == 0 and g.size == (x.size - kernel) // stride + 1
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for a in range(g.size):
        for u in range(kernel):
            dx[stride * a + u] += g[a] * w[u]
            dw[u] += g[a] * x[stride * a + u]
    if extra == " - w[u] w[u]":
        dw -= 2 * w * g.sum()
    np.testing.assert_allclose(v["dL/dx"], dx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(v["dL/dw"], dw, rtol=1e-9, atol=1e-12)


# Matrix functions (spec 9.5): det, inv and trace of a defined matrix built at
# random. An ill-conditioned draw is redrawn, and one that stays so is
# inconclusive (W111); never a false E401.
MATRIX_HEADER = "dim n = 3\nparam B[n, n], v[n], s\n"
matrix_atoms = st.sampled_from(
    ["B[a, b]", "B[b, a]", "s delta[a, b]", "v[a] v[b]", "B[a, c] B[c, b]", "2 delta[a, b]"]
)
matrix_losses = st.sampled_from(
    [
        "L = det(K)",
        "L = log(abs(det(K)))",
        "L = trace(K) + v[a] inv(K)[a, b] v[b]",
        "L = inv(K)[1, 2] s + det(K) trace(K)",
        "y[a] = inv(K)[a, b] v[b]\nL = y[a] y[a]",
    ]
)


def _matrices(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda x, y: f"{x} + {y}", inner, inner),
        st.builds(lambda x, y: f"({x}) * ({y})", inner, inner),
        st.builds(lambda x: f"tanh({x})", inner),
        st.builds(lambda x, c: f"({x}) * {c}", inner, st.sampled_from(["s", "3", "0.1"])),
    )


matrix_expressions = st.recursive(matrix_atoms, _matrices, max_leaves=4)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(matrix_expressions, matrix_losses)
def test_matrix_functions_never_get_a_false_e401(expression: str, loss: str) -> None:
    text = f"{MATRIX_HEADER}K[a, b] = {expression}\n{loss}\n"
    report = run(text)
    codes = [d.code for d in report.diagnostics]
    assert "E401" not in codes and "E999" not in codes, (text, report.diagnostics)
    for result in report.derivatives:
        assert result.check is not None
        assert result.check.verdict in (Verdict.OK, Verdict.INCONCLUSIVE), (text, result)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions_i)
def test_second_derivatives_agree_with_finite_differences(expression: str) -> None:
    """Spec 9.6: a named gradient differentiated again, and `d2A/dB2`, are
    checked against finite differences of the first derivative's evaluation:
    never a false failure (kinks and selections included)."""
    text = (
        # `gw`, not `g`: HEADER declares `fn f, g`.
        f"{HEADER}y[i] = {expression}\nL = tanh(y[i]) y[i]\ngw[j] = dL/dw[j]\n"
        "r = dL/dv[i] v[i]\nderive dgw/dw, d2L/dw2, d2L/ds2, dr/dA\n"
    )
    report = run(text)
    codes = [d.code for d in report.diagnostics if d.is_error]
    assert "E401" not in codes, (text, report.diagnostics)
    assert codes == [] or set(codes) == {"E403"}, (text, report.diagnostics)
    for result in report.derivatives:
        assert result.check is not None
        assert result.check.verdict is not Verdict.FAILED, (text, result.derivation.label)


# A right claim at a tie (issue 14): the derivative as the tool prints it
# (`--expand`, every adjoint inlined), times a factor that is 1 in float64 but
# not to the canonical form, so only the numbers judge it. Rounding may take
# other branches in it than in the derivation wherever a comparison sits at
# its tie; the entries such a tie reaches are left out, so a right claim is
# never called wrong.
TIE_HEADER = "dim n = 2, m = 3\nparam A[n, m], v[n], w[m], s\n"
tie_atoms = st.sampled_from(
    ["v[i]", "A[i, j] w[j]", "s v[i]", "(v[i] A[y, 1] / A[z, 1] >= v[i])", "relu(v[i] - v[k])"]
)
tie_expressions = st.recursive(
    tie_atoms,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a}) * ({b})", inner, inner),
        st.builds(lambda a, b: f"{a} + {b}", inner, inner),
        st.builds(lambda a: f"tanh({a})", inner),
        st.builds(lambda a, b: f"max({a}, {b})", inner, inner),
    ),
    max_leaves=4,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tie_expressions, st.sampled_from(["v", "A", "w"]))
def test_a_right_claim_at_a_tie_is_never_wrong(expression: str, wrt: str) -> None:
    from shapecheck.symbolic.formula import formula

    program = f"{TIE_HEADER}y[i] = {expression}\nL = y[i] y[i]\n"
    derived = run(f"{program}derive dL/d{wrt}\n", expand=True, verify=False)
    (result,) = derived.derivatives
    assert result.expanded is not None
    signature = ", ".join(i.name for i in result.derivation.signature)
    claim = f"dL/d{wrt}[{signature}] = (1 + 1e-300 s) * ({formula(result.expanded)})"
    report = run(f"{program}{claim}\n")
    codes = [d.code for d in report.diagnostics if d.is_error]
    assert "E402" not in codes and "E401" not in codes, (program, claim, report.diagnostics)
