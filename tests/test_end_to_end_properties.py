"""End to end: for random valid programs, every derived gradient agrees with
finite differences of the program's own definitions (no E401, ever)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import run

from shapecheck.numeric.verdicts import Verdict

HEADER = "dim n = 2, m = 3\nparam A[n, m], v[n], w[m], s\n"

# Expressions over the arrays, each tagged with the indices it leaves free
# (i has size n, j has size m); j is summed wherever it is not on the left.
atoms_i = st.sampled_from(["v[i]", "A[i, j] w[j]", "A[i, 1]", "s v[i]", "delta[i, 2] v[i]"])
atoms_j = st.sampled_from(["w[j]", "A[1, j]", "v[k] A[k, j]"])
scalars = st.sampled_from(["s", "v[1]", "w[2] s", "2", "0.5"])


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, b: f"{a} + {b}", inner, inner),
        st.builds(lambda a, b: f"{a} - {b}", inner, inner),
        st.builds(lambda a, b: f"({a}) * ({b})", inner, scalars),
        st.builds(lambda f, a: f"{f}({a})", st.sampled_from(["tanh", "sin", "exp"]), inner),
        st.builds(lambda a: f"({a})^2", inner),
        st.builds(lambda a, b: f"({a}) / (1 + ({b})^2)", inner, scalars),
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
