"""Comparing a claim symbolically, within bounds (symbolic/claims.py).

A claim that refers to the derivation's own adjoint lines is compared with the
derivative as derived, the lines not written out: confirmed whatever the
number of unrolled steps between, and its near misses never confirmed (each
case is labelled right or wrong by hand, and the numeric check, finite
differences of the forward pass, agrees). A derivative too large to write out,
or to simplify, is not compared: the claim is judged numerically, with the
reason, and never E303, since the derivative was derived.
"""

from __future__ import annotations

import pytest
from support import rnn, run

from shapecheck.check.program import Size
from shapecheck.symbolic import claims
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.canonical import key, unfold_definitions
from shapecheck.symbolic.simplify import normal_form

BACKPROP = "dL/ds0[k] = dL/ds1[i] (1 - s1[i]^2) U[k, i]"


def test_a_claim_written_as_backprop_is_confirmed_whatever_the_steps() -> None:
    # Written out, dL/ds0 multiplies 30 factors (1 - tanh²) out: past every
    # bound (before, E303 after seconds); through its lines it is one step.
    report = run(rnn(30, "tanh", BACKPROP), verify=False)
    (claim,) = report.claims
    assert claim.symbolic.matches
    assert "E303" not in [d.code for d in report.diagnostics]


@pytest.mark.parametrize(
    ("claim", "right"),
    [
        (BACKPROP, True),
        ("dL/ds0[k] = U[k, i] dL/ds1[i] - dL/ds1[i] s1[i]^2 U[k, i]", True),
        ("dL/ds0[k] = dL/ds1[i] U[k, i]", False),  # the tanh' factor missing
        ("dL/ds0[k] = dL/ds1[i] (1 - s1[i]^2) U[i, k]", False),  # U transposed
        ("dL/ds0[k] = dL/ds2[i] (1 - s1[i]^2) U[k, i]", False),  # the wrong step
        ("dL/ds0[k] = dL/ds1[i] (1 - s0[i]^2) U[k, i]", False),  # the wrong state
        ("dL/ds0[k] = dL/ds1[i] (1 + s1[i]^2) U[k, i]", False),
    ],
)
def test_claims_through_adjoint_lines_are_confirmed_only_when_right(
    claim: str, right: bool
) -> None:
    report = run(rnn(3, "tanh", claim))
    (result,) = report.claims
    assert result.symbolic.matches == right
    codes = [d.code for d in report.diagnostics]
    assert codes == ([] if right else ["E402"])


TWO_STEPS = "dL/ds0[k] = dL/ds2[i] (1 - s2[i]^2) U[j, i] (1 - s1[j]^2) U[k, j]"
EVERY_STEP = "dL/db[k] = dL/ds2[i] (1 - s2[i]^2) U[k, i] (1 - s1[k]^2) + " + " + ".join(
    f"dL/ds{step}[k] (1 - s{step}[k]^2)" for step in range(2, 11)
)


@pytest.mark.parametrize(
    ("claim", "right"),
    [
        (TWO_STEPS, True),
        (EVERY_STEP, True),
        (TWO_STEPS.replace("U[k, j]", "U[j, k]"), False),
        (EVERY_STEP.replace("(1 - s1[k]^2)", "(1 - s2[k]^2)"), False),
    ],
)
def test_the_lines_a_claim_skips_are_written_out_down_to_those_it_reads(
    claim: str, right: bool
) -> None:
    # dL/ds1 is not read: the truth's line for it is inlined, down to dL/ds2
    # (found in review: written out in full, these pass the comparison's
    # budget at 10 steps, where finite differences cannot decide either).
    report = run(rnn(10, "tanh", claim), verify=False)
    (result,) = report.claims
    assert result.symbolic.matches == right
    if right:
        assert result.symbolic.reason is None
    # Where the numbers decide (3 steps), they agree.
    small = run(rnn(3, "tanh", claim.split(" + dL/ds4")[0].replace("s10", "s3")))
    assert [d.code for d in small.diagnostics] == ([] if right else ["E402"])


LAYOUTS = """layout {layout}
dim n = 3, m = 3
param x[n]
input A[m, n], B[m, m]
z[i] = A[i, j] x[j]
y[i] = B[i, k] tanh(z[k])
"""


@pytest.mark.parametrize(
    ("layout", "claim", "right"),
    [
        ("numerator", "dy/dx[i, p] = dy/dz[i, k] A[k, p]", True),
        ("numerator", "dy/dx[i, p] = dy/dz[k, i] A[k, p]", False),
        ("numerator", "dy/dx[i, p] = dy/dz[i, k] A[p, k]", False),
        ("denominator", "dy/dx[p, i] = A[k, p] dy/dz[k, i]", True),
        ("denominator", "dy/dx[i, p] = A[k, i] dy/dz[k, p]", True),
        ("denominator", "dy/dx[p, i] = A[k, p] dy/dz[i, k]", False),
        ("denominator", "dy/dx[p, i] = A[p, k] dy/dz[k, i]", False),
    ],
)
def test_a_reference_is_read_as_its_line_in_either_layout(
    layout: str, claim: str, right: bool
) -> None:
    # Square sizes, so that a reference read in the wrong order is no shape
    # error and only the values tell.
    report = run(LAYOUTS.format(layout=layout) + claim + "\n")
    (result,) = report.claims
    assert result.symbolic.matches == right
    assert [d.code for d in report.diagnostics] == ([] if right else ["E402"])


def test_a_derivative_too_large_to_write_out_is_not_written_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # dL/db of a relu RNN sums a chain per step: written out it is quadratic
    # in the steps (200 steps took two minutes to compare).
    def expand(*_: object) -> None:
        raise AssertionError("the derivative was written out")

    monkeypatch.setattr(claims, "expand", expand)
    report = run(rnn(200, "relu", "dL/db[i] = 1"), verify=False)
    (result,) = report.claims
    assert not result.symbolic.matches
    assert result.symbolic.reason is not None
    assert "written out in full" in result.symbolic.reason
    assert "about 221,301 terms and factors, 48 times as many as its lines" in (
        result.symbolic.reason
    )
    assert "E303" not in [d.code for d in report.diagnostics]


def test_a_comparison_past_its_work_is_left_to_the_numeric_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Small written out, but its normal form multiplies the factors (1 - tanh²)
    # out (at 10 steps 360,000 nodes visited); the claim is wrong, and the
    # numbers say so.
    monkeypatch.setattr(claims, "MAX_COMPARISON_WORK", 5_000)
    report = run(rnn(5, "tanh", "dL/db[i] = 1"))
    (result,) = report.claims
    assert not result.symbolic.matches
    assert result.symbolic.reason == (
        "it is too large to compare symbolically (simplifying would visit more than 5,000 nodes)"
    )
    assert [d.code for d in report.diagnostics] == ["E402"]


LINEAR = """dim h = 4
param U[h, h], b[h]
input s0[h]
for t in 1..{steps}:
    s{{t}}[i] = 0.1 * s{{t-1}}[k] U[k, i] + b[i]
L = s{steps}[i]
dL/db[i] = dL/ds{steps}[k] ds{steps}/db[k, i]
dL/dU[k, i] = 1
"""


def test_claims_past_the_bounds_are_judged_numerically() -> None:
    # The chain rule through another derivative, ds{T}/db, which has no line
    # in dL/db's derivation: compared written out at 3 steps, numerically at
    # 40 (written out, about 4,800 nodes); and a wrong claim beside it.
    small = run(LINEAR.format(steps=3))
    assert [c.symbolic.matches for c in small.claims] == [True, False]
    assert [d.code for d in small.diagnostics] == ["E402"]
    large = run(LINEAR.format(steps=40))
    right, wrong = large.claims
    for claim in (right, wrong):
        assert not claim.symbolic.matches
        assert claim.symbolic.reason is not None
        assert "written out in full" in claim.symbolic.reason
    assert right.confirmed
    assert [d.message for d in large.diagnostics] == ["the claim dL/dU[k,i] is wrong"]


def _unfolded_level_by_level(
    definitions: dict[str, tuple[tuple[t.Idx, ...], t.Term]], term: t.Term
) -> t.Term:
    """The way unfold_definitions worked before it unfolded each definition
    once: every defined array read replaced by its definition, a level a round."""

    def definition(node: t.Term) -> t.Term | None:
        if isinstance(node, t.Tensor) and node.kind == t.ARRAY and node.name in definitions:
            lhs, rhs = definitions[node.name]
            return t.substitute(rhs, dict(zip(t.names(lhs), node.indices, strict=True)))
        return None

    for _ in range(len(definitions) + 1):
        term = t.replace_nodes(term, definition)
    return term


def test_unfolding_each_definition_once_is_unfolding_level_by_level() -> None:
    i, j, k = (t.Idx(name, Size("n", 3)) for name in "ijk")
    v, m = t.Tensor("v", (i,)), t.Tensor("M", (i, j))
    definitions: dict[str, tuple[tuple[t.Idx, ...], t.Term]] = {
        "D0": ((i,), t.Func("tanh", v)),
        # Each reads the one before twice, once under a sum over its own j.
        "D1": ((i,), t.Product((t.Tensor("D0", (j,)), m, t.Tensor("D0", (i,))), (j,))),
        "D2": ((i,), t.Product((t.Tensor("D1", (j,)), t.Tensor("M", (j, i))), (j,))),
        "D3": ((k,), t.Add((t.Tensor("D2", (k,)), t.Func("exp", t.Tensor("D1", (k,)))), (k,))),
    }
    term = t.Product((t.Tensor("D3", (j,)), t.Tensor("D2", (j,)), t.Tensor("M", (i, j))), (j,))
    once = unfold_definitions(definitions, term, 10_000)
    assert once is not None
    assert t.arrays_read(once) == {"v", "M"}
    assert key(normal_form(once)) == key(normal_form(_unfolded_level_by_level(definitions, term)))
    assert unfold_definitions(definitions, term, 20) is None


def test_a_claim_in_the_files_names_is_confirmed_through_lines_by_its_canonical_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `(H[i,k] > 0)` for relu's derivative at X W1 + b1 needs the canonical
    # form; through the line dL/dH it is found without writing dL/dH out.
    def written_out(*_: object) -> None:
        raise AssertionError("compared written out")

    monkeypatch.setattr(claims, "_compared", written_out)
    report = run(
        "dim n = 4, d = 3, h = 5\n"
        "input X[n, d]\n"
        "param W1[d, h], b1[h], W2[h]\n"
        "H[i, k] = relu(X[i, j] W1[j, k] + b1[k])\n"
        "L = mean[i](tanh(H[i, k] W2[k]))\n"
        "dL/db1[k] = sum[i](dL/dH[i, k] (H[i, k] > 0))\n"
        "dL/dW1[j, k] = X[i, j] dL/dH[i, k] (H[i, k] > 0)\n"
    )
    assert [c.symbolic.matches for c in report.claims] == [True, True]
    assert [d.code for d in report.diagnostics] == []
