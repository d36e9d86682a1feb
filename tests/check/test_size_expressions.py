"""Size expressions in `dim` (spec 9.4): reading, exact checks, choices for numeric checks."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from support import codes, rendered, run
from typer.testing import CliRunner

from shapecheck.check.sizeexpr import Poly
from shapecheck.cli import app
from shapecheck.numeric.sizes import choose_sizes, coinciding
from shapecheck.pipeline import ValuesProblem

GOLDEN = {
    "negative": (
        "dim n = 2, k = 5, m = n - k + 1\nparam x[m]\nL = x[i]\n",
        "test.idx:1:19: error[E105]: `m = n - k + 1` is -2: sizes run from 1 to 2,147,483,647\n"
        "  1 | dim n = 2, k = 5, m = n - k + 1\n"
        "    |                   ^^^^^^^^^^^^^\n"
        "  = help: with n = 2, k = 5",
    ),
    "not_whole": (
        "dim n = 7, p = (n - 2) / 2 + 1\nparam x[p]\nL = x[i]\n",
        "test.idx:1:12: error[E105]: `p = (n - 2) / 2 + 1` is 7/2, not a whole number\n"
        "  1 | dim n = 7, p = (n - 2) / 2 + 1\n"
        "    |            ^^^^^^^^^^^^^^^^^^^\n"
        "  = help: with n = 7",
    ),
    "symbolic_divisor": (
        "dim n, k, m = n / k\nparam x[m]\nL = x[i]\n",
        "test.idx:1:19: error[E141]: `k` has no value, and a size divides only by a number\n"
        "  1 | dim n, k, m = n / k\n"
        "    |                   ^",
    ),
    "by_zero": (
        "dim n, m = n / (2 - 2)\nparam x[m]\nL = x[i]\n",
        "test.idx:1:17: error[E141]: `n / (2 - 2)` divides by zero\n"
        "  1 | dim n, m = n / (2 - 2)\n"
        "    |                 ^^^^^",
    ),
    "later_dim": (
        "dim m = n + 1, n\nparam x[m]\nL = x[i]\n",
        "test.idx:1:9: error[E103]: size `n` is used before its `dim`\n"
        "  1 | dim m = n + 1, n\n"
        "    |         ^\n"
        "  = help: move the `dim` line above",
    ),
    "never_positive": (
        "dim n, m = 1 - n\nparam x[m]\nL = x[i]\n",
        "test.idx:1:8: error[E143]: no sizes make `m = 1 - n` a positive whole number\n"
        "  1 | dim n, m = 1 - n\n"
        "    |        ^^^^^^^^^\n"
        "  = help: numeric checks need one; give the sizes it is computed from values",
    ),
}


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_golden_diagnostics(case: str) -> None:
    text, expected = GOLDEN[case]
    assert rendered(run(text)) == expected


def test_valued_expressions_are_sizes_at_once() -> None:
    report = run("dim n = 10, k = 3, m = n - k + 1, p = (n - 2) / 2 + 1, q = 2 n, r = 2*(k+1)\n")
    assert report.checked is not None
    values = {d.name: d.value for d in report.checked.dims}
    assert values == {"n": 10, "k": 3, "m": 8, "p": 5, "q": 20, "r": 8}


def test_an_expression_prints_as_written() -> None:
    report = run("dim n, k, m = n - (k - 1), p = 2 n^2 / 4\nparam x[m], y[p]\nL = x[i] + y[j]\n")
    assert report.checked is not None
    written = {d.name: d.written for d in report.checked.dims if d.computed}
    assert written == {"m": "n - (k - 1)", "p": "2 n^2 / 4"}


def test_equal_expressions_are_one_size() -> None:
    # m and q are both n - 1 after k = 2 is substituted: rule 1 holds.
    text = "dim n, k = 2, m = n - k + 1, q = n - 1\nparam x[m], y[q]\nL = x[i] y[i]\n"
    assert codes(text) == []
    assert codes("dim n, m = n - 1, q = n - 2\nparam x[m], y[q]\nL = x[i] y[i]\n") == ["E201"]


def test_chosen_sizes_make_every_computed_size_whole_positive_and_distinct() -> None:
    text = "dim n, k, m = n - k + 1, p = (n - 2) / 2 + 1\nparam x[m], y[p]\nL = x[i] + y[j]\n"
    report = run(text, verify=False)
    assert report.checked is not None and report.errors == 0, rendered(report)
    chosen = choose_sizes(report.checked)
    n, k = chosen["n"], chosen["k"]
    assert chosen["m"] == n - k + 1 and Fraction(n - 2, 2) + 1 == chosen["p"]
    assert len(set(chosen.values())) == len(chosen)
    assert min(chosen.values()) >= 2


def test_sizes_coincide_only_where_no_choice_keeps_them_apart() -> None:
    # m = n + 1 over n in a range that only allows... here distinct choices exist.
    text = "dim n, m = n + 1, q = 2 n\nparam x[m], y[q], z[n]\nL = x[i] + y[j] + z[a]\n"
    report = run(text, verify=False)
    assert report.checked is not None
    assert coinciding(report.checked, choose_sizes(report.checked)) == []
    # n + 0 and n are one polynomial: not a coincidence to report.
    text = "dim n, m = n + 0\nparam x[m], z[n]\nL = x[i] z[i]\n"
    assert codes(text) == []


def test_a_valued_size_takes_part_in_the_distinctness() -> None:
    # k = 2 is taken: n - 1 may not be 2, so n is not 3.
    report = run(
        "dim k = 2, n, m = n - 1\nparam x[m], z[n], w[k]\nL = x[i] + z[j] + w[a]\n", verify=False
    )
    assert report.checked is not None
    chosen = choose_sizes(report.checked)
    assert 2 not in chosen.values()
    assert chosen["m"] == chosen["n"] - 1


def test_the_polynomial_arithmetic_is_exact() -> None:
    n, k = Poly.dim("n"), Poly.dim("k")
    m = n - k + Poly.constant(1)
    assert str(m) == "n - k + 1"
    assert (m + k - Poly.constant(1)) == n
    assert (n * n - k * k) == (n - k) * (n + k)
    assert m.at({"n": 10, "k": 3}) == 8
    assert n.scaled(Fraction(1, 2)).at({"n": 3}) == Fraction(3, 2)


def test_a_tower_of_powers_is_refused_not_computed() -> None:
    text = "dim n = ((((2^64)^64)^64)^64)^64\n"
    assert codes(text) == ["E141"]
    assert codes("dim n, m = (n^64)^2\nparam x[m]\nL = x[i]\n") == ["E141"]


def test_size_may_not_set_a_computed_size() -> None:
    text = "dim n, k, m = n - k + 1\nparam x[m]\nL = x[i]\n"
    with pytest.raises(ValuesProblem) as raised:
        run(text, sizes=(("m", 3),))
    assert str(raised.value) == (
        "`--size m=...` sets a computed size: `m = n - k + 1`; `--size` sets the sizes "
        "that have no expression; set those it is computed from"
    )
    assert run(text, sizes=(("n", 9), ("k", 4))).checked.array("x").shape[0].value == 6


def test_the_command_line_stops_with_status_2(tmp_path: Path) -> None:
    path = tmp_path / "conv.idx"
    path.write_text("dim n, k, m = n - k + 1\nparam x[m]\nL = x[i]\n")
    result = CliRunner().invoke(app, ["check", str(path), "--size", "m=3"])
    assert result.exit_code == 2
    assert "computed size" in result.output


def test_sizes_that_must_coincide_are_named() -> None:
    report = run("dim n, m = 2 - n\nparam x[n], y[m]\nL = x[i] y[j]\n")
    assert rendered(report) == (
        "test.idx:1:8: warning[W120]: sizes `n` and `m` are both 1 in the numeric checks: "
        "no small choice keeps every size distinct\n"
        "  1 | dim n, m = 2 - n\n"
        "    |        ^^^^^^^^^\n"
        "  = help: a swapped index along these two cannot be told apart; give values with `dim`"
    )


def test_a_number_too_large_for_a_float_is_a_located_error_not_a_crash() -> None:
    # `31e400` reads as infinity (a fuzzed file made it an E999).
    report = run("dim n = 31e400 m\nparam w[n]\nL = w[i]\n")
    problems = [(d.code, d.message) for d in report.diagnostics if d.is_error]
    assert ("E141", "this number is too large for a size") in problems
    assert "E999" not in codes("dim n = 31e400 m\nparam w[n]\nL = w[i]\n")
