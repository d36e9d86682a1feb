"""Terms in the notes' notation: one test per way a term is shown."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import run

from shapecheck.check.program import Size
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.formula import exact_fraction, formula, indices

IDX_I, IDX_J = t.Idx("i", Size("n", 3)), t.Idx("j", Size("d", 2))
x, X = t.Tensor("x", (IDX_I,)), t.Tensor("X", (IDX_I, IDX_J))
a, b, s = t.Tensor("a", ()), t.Tensor("b", ()), t.Tensor("s", ())


@pytest.mark.parametrize(
    ("term", "shown"),
    [
        (t.Const(2.0), "2"),
        (t.Const(0.125), "0.125"),
        (t.Const(2 / 3), "2/3"),
        (t.Const(-1 / 6), "-1/6"),
        (t.Const(0.9), "0.9"),
        (t.Const(1e-5), "1e-05"),
        (t.Const(1 / 1009), "0.00099108"),
        (t.Product((t.Const(2 / 3), x)), "2/3 x[i]"),
        (t.Product((x, t.Const(2 / 3))), "x[i] (2/3)"),
        (t.Pow(t.Const(2 / 3), t.Const(2.0)), "(2/3)^2"),
        (t.Const(1e20), "1e+20"),
        (t.Const(-3.0), "-3"),
        (t.SizeOf(Size("n", 3)), "n"),
        (t.Zero(), "0"),
        (x, "x[i]"),
        (t.Delta((IDX_I, IDX_J)), "δ[i,j]"),
        (t.Loss("Y"), "loss(Y)"),
        (t.Func("exp", x), "exp(x[i])"),
        (t.Pow(x, t.Const(2.0)), "x[i]^2"),
        (t.Add((a, b), ()), "a + b"),
        (t.Product((a, b)), "a b"),
    ],
)
def test_every_term_kind_is_shown(term: t.Term, shown: str) -> None:
    assert formula(term) == shown


def test_a_leading_minus_one_is_a_minus_sign() -> None:
    assert formula(t.Add((a, t.Product((t.Const(-1.0), b))), ())) == "a - b"
    assert formula(t.Func("exp", t.Product((t.Const(-1.0), x)))) == "exp(-x[i])"
    assert formula(t.Product((t.Const(-1.0),))) == "-1"


def test_a_negative_power_is_a_division() -> None:
    assert formula(t.Pow(s, t.Const(-1.0))) == "1 / s"
    assert formula(t.Product((x, t.Pow(s, t.Const(-1.0))))) == "x[i] / s"
    assert formula(t.Product((x, t.Pow(s, t.Const(-2.0))))) == "x[i] / s^2"


def test_a_sum_followed_by_a_factor_is_parenthesised() -> None:
    summed = t.Product((X,), (IDX_J,))
    assert formula(summed) == "Σ_j X[i,j]"
    assert formula(t.Product((summed, x))) == "(Σ_j X[i,j]) x[i]"


def test_a_negative_or_compound_base_is_parenthesised() -> None:
    assert formula(t.Pow(t.Add((a, b), ()), t.Const(2.0))) == "(a + b)^2"
    assert formula(t.Pow(t.Const(-3.0), t.Const(2.0))) == "(-3)^2"


def test_empty_sums_and_products() -> None:
    assert formula(t.Add((), ())) == "0"
    assert formula(t.Product(())) == "1"


def test_indices_of_a_scalar_are_empty() -> None:
    assert indices(()) == ""
    assert indices((IDX_I, t.Fixed(1))) == "[i,1]"


@given(st.integers(-999, 999), st.integers(1, 1000))
def test_a_ratio_of_small_whole_numbers_prints_exactly(numerator: int, denominator: int) -> None:
    value = numerator / denominator
    ratio = exact_fraction(value)
    if ratio is None:
        # Six digits give the value back (0.125, 0.9), or it is whole.
        assert value.is_integer() or float(f"{value:.6g}") == value
    else:
        assert Fraction(*ratio) == Fraction(numerator, denominator)
        assert formula(t.Const(value)) == f"{ratio[0]}/{ratio[1]}"


def test_a_printed_ratio_pasted_back_as_a_claim_is_confirmed_symbolically() -> None:
    text = "param x[6]\ny[i] = x[i] / 6\nM = y[i] y[i]\nderive dM/dx\n"
    (result,) = run(text).derivatives
    shown = formula(result.derivation.formula)
    assert shown == "1/6 dM/dy[i]"
    pasted = run(text + f"dM/dx{indices(result.derivation.signature)} = {shown}\n")
    (claim,) = pasted.claims
    assert claim.symbolic.matches
