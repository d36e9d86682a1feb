"""`sum[t in A..B](body)` (spec 9.4): its expansion by syntax/unroll.py, in and
outside `for` blocks, the golden wording of every misuse (E101, E111, E150,
E206), its printing, and derivatives through it against numbers computed here
with numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import assert_clean, central, codes, rendered, run, saved

from shapecheck.render import math
from shapecheck.render.notation import notation
from shapecheck.source import Source
from shapecheck.syntax import ast
from shapecheck.syntax.parse import parse
from shapecheck.syntax.unroll import MAX_LOOP_STEPS, unroll

HEADER = "dim n = 3, T = 3\ninput x[n], l1, l2, l3, a1[n], a2[n], a3[n]\n"


def expanded(text: str, sizes: dict[str, int] | None = None) -> list[str]:
    program, problems = parse(Source("t.idx", text))
    assert problems == [], [p.message for p in problems]
    unrolled, problems = unroll(program, sizes)
    assert problems == [], [p.message for p in problems]
    return [str(s) for s in unrolled.statements if isinstance(s, ast.Definition | ast.Claim)]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("L = sum[t in 1..3](l{t})", "L = l1 + l2 + l3"),
        ("L = Σ[t in 1..T](l{t})", "L = l1 + l2 + l3"),
        ("L = sum[t in 2..2](l{t})", "L = l2"),
        # An empty range is 0.
        ("L = sum[t in 3..2](l{t})", "L = 0"),
        ("L = sum[t in 5..1](l{t})", "L = 0"),
        # A parenthesised sum: a body that is a sum adds its terms ...
        ("L = sum[t in 1..2](l{t} + x[1])", "L = l1 + x[1] + l2 + x[1]"),
        # ... and the sum keeps its parentheses inside a product.
        ("L = l3 sum[t in 1..2](l{t})", "L = l3 (l1 + l2)"),
        ("L = exp(sum[t in 1..2](l{t} - 1))", "L = exp(l1 - 1 + l2 - 1)"),
        # A bare `t` is the number, in an index position too.
        ("L = sum[t in 1..2](0.9^t x[t])", "L = 0.9^1 x[1] + 0.9^2 x[2]"),
        ("y[i] = sum[t in 1..2](a{t}[i] (t <= 1))", "y[i] = a1[i] (1 <= 1) + a2[i] (2 <= 1)"),
        # Nested sums; an inner bound from the outer variable, with an offset.
        ("L = sum[t in 1..3](sum[s in 1..t-1](l{s}))", "L = 0 + l1 + l1 + l2"),
        ("L = sum[t in 1..2](sum[s in t+1..3](x[s]))", "L = x[2] + x[3] + x[3]"),
    ],
)
def test_expansion_outside_loops(line: str, expected: str) -> None:
    assert expanded(HEADER + line + "\n") == [expected]


def test_inside_a_for_block_bounds_may_use_the_loop_variable() -> None:
    text = HEADER + "for t in 1..3:\n    c{t}[i] = sum[s in 1..t-1](a{s}[i]) + t\n"
    assert expanded(text) == [
        "c1[i] = 0 + 1",
        "c2[i] = a1[i] + 2",
        "c3[i] = (a1[i] + a2[i]) + 3",
    ]


def test_a_bare_loop_variable_in_arithmetic_is_its_number() -> None:
    text = HEADER + "for t in 1..2:\n    y{t} = 0.9^t l{t}\n"
    assert expanded(text) == ["y1 = 0.9^1 l1", "y2 = 0.9^2 l2"]


def test_a_size_override_sets_a_dim_bound() -> None:
    assert expanded(HEADER + "L = sum[t in 1..T](x[t])\n", {"T": 2}) == ["L = x[1] + x[2]"]


def test_claims_take_range_sums() -> None:
    text = HEADER + "L = sum[t in 1..3](x[t] l{t})\ndL/dx[p] = sum[t in 1..3](l{t} delta[p, t])\n"
    assert expanded(text)[1] == ("dL/dx[p] = l1 delta[p, 1] + l2 delta[p, 2] + l3 delta[p, 3]")
    report = run(text)
    assert [d.code for d in report.diagnostics if d.code != "W101"] == []
    (claim,) = report.claims
    assert claim.symbolic.matches, "confirmed symbolically"
    wrong = run(text.replace("l{t} delta", "2 l{t} delta"))
    assert [d.code for d in wrong.diagnostics if d.code != "W101"] != []


def test_the_definitions_table_shows_the_expanded_sum() -> None:
    report = run(HEADER + "L = sum[t in 1..3](0.5^t l{t})\n")
    assert report.checked is not None
    definition = report.checked.definition("L")
    assert definition is not None
    assert notation(definition.rhs) == "0.5^1 l1 + 0.5^2 l2 + 0.5^3 l3"


def test_a_range_sum_node_prints_as_written() -> None:
    program, _ = parse(Source("t.idx", "L = 2 sum[t in 1..T-1](0.9^t l{t})\n"))
    statement = program.statements[0]
    assert isinstance(statement, ast.Definition)
    assert str(statement) == "L = 2 sum[t in 1..T-1](0.9^t l{t})"
    assert notation(statement.rhs) == "2 Σ[t in 1..T-1](0.9^t l{t})"
    assert math.expr(statement.rhs) == r"2 \sum_{t=1}^{T-1} \left(0.9^{t} \mathit{l\{t\}}\right)"


# ---- misuse, word for word


def test_a_missing_unrolled_name_is_named_with_the_step() -> None:
    report = run(HEADER + "L = sum[t in 1..4](l{t})\nM = 2 L\n")
    assert rendered(report) == (
        "test.idx:3:20: error[E101]: unknown name `l4`\n"
        "  3 | L = sum[t in 1..4](l{t})\n"
        "    |                    ^^^^\n"
        "  = note: unrolled with t = 4\n"
        "  = help: `l{t}` is `l4` at this step: declare or define `l4` above this line, "
        "or change the range"
    )


def test_the_variable_may_not_be_an_index_of_the_statement() -> None:
    report = run(HEADER + "y[t] = sum[t in 1..3](l{t}) x[t]\n")
    assert rendered(report) == (
        "test.idx:3:12: error[E150]: `t` is also an index of this statement\n"
        "  3 | y[t] = sum[t in 1..3](l{t}) x[t]\n"
        "    |            ^\n"
        "  = help: the steps of `sum[t in A..B]` are numbers, not an index; "
        "name them differently"
    )


def test_the_variable_may_not_be_an_enclosing_loop_variable() -> None:
    report = run(HEADER + "for t in 1..2:\n    y{t} = sum[t in 1..3](l{t})\n")
    assert rendered(report) == (
        "test.idx:4:16: error[E150]: `t` is already the variable of an enclosing `for`\n"
        "  4 |     y{t} = sum[t in 1..3](l{t})\n"
        "    |                ^\n"
        "  = help: name the steps of this sum differently: `sum[s in ...]`"
    )


def test_the_variable_may_not_name_a_dim_or_an_array() -> None:
    assert rendered(run(HEADER + "L = sum[n in 1..3](l{n})\n")) == (
        "test.idx:3:9: error[E150]: `n` already names a dim or an array\n"
        "  3 | L = sum[n in 1..3](l{n})\n"
        "    |         ^\n"
        "  = help: inside the sum `n` would be the step's number; name the steps differently"
    )


def test_a_nested_sum_may_not_reuse_the_variable() -> None:
    assert rendered(run(HEADER + "L = sum[t in 1..2](sum[t in 1..2](l1))\n")) == (
        "test.idx:3:24: error[E150]: `t` is already the variable of an enclosing `sum`\n"
        "  3 | L = sum[t in 1..2](sum[t in 1..2](l1))\n"
        "    |                        ^\n"
        "  = note: unrolled with t = 1\n"
        "  = help: name the steps of this sum differently: `sum[s in ...]`"
    )


def test_bounds_word_their_problems() -> None:
    assert rendered(run("dim m\ninput l1\nL = sum[t in 1..m](l1)\n")) == (
        "test.idx:3:17: error[E111]: `m` has no value, so the number of steps is unknown\n"
        "  3 | L = sum[t in 1..m](l1)\n"
        "    |                 ^\n"
        "  = help: give it one: `dim m = 3`"
    )
    assert rendered(run("input l1\nL = sum[t in 1..z](l1)\n")) == (
        "test.idx:2:17: error[E101]: unknown name `z` in a range bound\n"
        "  2 | L = sum[t in 1..z](l1)\n"
        "    |                 ^\n"
        "  = help: a range bound is a whole number, a `dim` declared above with a value, "
        "or the variable of an enclosing `for` (`1..t-1`)"
    )
    assert rendered(run("input l1\nL = sum[t in 1..2.5](l1)\n")) == (
        "test.idx:2:17: error[E111]: a range bound must be a whole number, not `2.5`\n"
        "  2 | L = sum[t in 1..2.5](l1)\n"
        "    |                 ^^^"
    )


def test_the_step_limit_of_for_applies() -> None:
    stop = MAX_LOOP_STEPS + 1
    assert rendered(run(f"input l1\nL = sum[t in 1..{stop}](l1)\n")) == (
        f"test.idx:2:5: error[E111]: the range 1..{stop} has 10,001 steps; "
        "the limit is 10,000\n"
        f"  2 | L = sum[t in 1..{stop}](l1)\n"
        "    |     ^^^^^^^^^^^^^^^^^^^^^^"
    )
    assert codes(f"input l1\nL = sum[t in 1..{MAX_LOOP_STEPS}](l1)\n") == []


def test_nested_sums_are_bounded_as_a_whole() -> None:
    text = "input l1\nL = sum[t in 1..1000](sum[s in 1..1000](l1))\n"
    assert codes(text) == ["E111"]
    assert "makes more than 1,000,000 expression nodes in this file" in rendered(run(text))
    assert codes("input l1\nL = sum[t in 1..30](sum[s in 1..30](l1))\n") == []


def test_the_variable_cannot_be_bound_by_an_inner_index_sum() -> None:
    assert codes(HEADER + "L = sum[t in 1..2](sum[t](x[t]))\n") == ["E206"]


def test_a_dropped_definition_is_not_reported_again_where_it_is_used() -> None:
    assert codes(HEADER + "L = sum[t in 1..4](l{t})\nM = 2 L\n") == ["E101"]


def test_a_missing_bound_is_a_syntax_error() -> None:
    assert rendered(run("input l1\nL = sum[t in 1..](l1)\n")) == (
        "test.idx:2:17: error[E003]: unexpected `]`; expected a name or a number\n"
        "  2 | L = sum[t in 1..](l1)\n"
        "    |                 ^"
    )


# ---- derivatives through a range sum, against numbers computed here


def test_a_discounted_sum_derives_to_the_closed_form(tmp_path: Path) -> None:
    text = (
        "dim n = 3\nparam w[n]\n"
        "for t in 1..4:\n    input a{t}[n]\n"
        "L = sum[t in 1..4](0.5^t tanh(a{t}[i] w[i]))\n"
        "derive dL/dw\n"
    )
    report, values = saved(text, tmp_path)
    assert_clean(report)
    w = values["w"]
    steps = [values[f"a{t}"] for t in range(1, 5)]
    closed = sum(0.5**t * (1 - np.tanh(a @ w) ** 2) * a for t, a in enumerate(steps, 1))
    np.testing.assert_allclose(values["dL/dw"], closed, rtol=1e-10)

    def loss(v: np.ndarray) -> float:
        return float(sum(0.5**t * np.tanh(a @ v) for t, a in enumerate(steps, 1)))

    np.testing.assert_allclose(values["dL/dw"], central(loss, w), rtol=1e-6)


def test_a_bounded_inner_sum_inside_a_loop_derives_right(tmp_path: Path) -> None:
    # An average of the past states (a causal attention with equal weights).
    text = (
        "dim h = 3\nparam U[h, h]\ninput s1[h], s2[h], s3[h]\n"
        "for t in 2..3:\n    c{t}[k] = sum[s in 1..t-1](s{s}[m] U[m, k]) / (t - 1)\n"
        "L = sum[t in 2..3](c{t}[k] c{t}[k])\n"
        "derive dL/dU\n"
    )
    report, values = saved(text, tmp_path)
    assert_clean(report)
    states = [values[f"s{t}"] for t in range(1, 4)]

    def loss(u: np.ndarray) -> float:
        total = 0.0
        for t in (2, 3):
            context = sum(states[s] @ u for s in range(t - 1)) / (t - 1)
            total += float(context @ context)
        return total

    np.testing.assert_allclose(values["dL/dU"], central(loss, values["U"]), rtol=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 6), st.integers(-2, 2))
def test_expansion_has_one_term_per_step(start: int, offset: int) -> None:
    header = "param " + ", ".join(f"l{k}" for k in range(9)) + "\n"
    bound = f"t{offset:+d}" if offset else "t"
    text = header + f"for t in 2..2:\n    y{{t}} = sum[s in {start}..{bound}](l{{s}})\n"
    stop = 2 + offset
    steps = [f"l{k}" for k in range(start, stop + 1)]
    assert expanded(text) == ["y2 = " + (" + ".join(steps) if steps else "0")]


def test_a_selection_in_a_position_is_substituted_too() -> None:
    # `argmax[j](e)` in an index position is a sub-expression of the reference:
    # a range sum and templates inside it are expanded like anywhere else.
    text = (
        "dim n = 3\ninput X[n, n]\n"
        "z[i] = X[i, argmax[j](sum[t in 1..2](X[i, j] t))]\n"
        "for t in 1..2:\n    input Y{t}[n, n]\n    w{t}[i] = Y{t}[i, argmax[j](Y{t}[i, j])]\n"
    )
    assert expanded(text) == [
        "z[i] = X[i, argmax[j](X[i, j] 1 + X[i, j] 2)]",
        "w1[i] = Y1[i, argmax[j](Y1[i, j])]",
        "w2[i] = Y2[i, argmax[j](Y2[i, j])]",
    ]
    assert codes(text) == []
