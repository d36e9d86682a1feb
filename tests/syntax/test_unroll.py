"""Unrolling `for` blocks: loop values in names and indices, and the loop's own errors."""

from __future__ import annotations

import pytest

from shapecheck.diagnostics import Diagnostic
from shapecheck.source import Source
from shapecheck.syntax import ast
from shapecheck.syntax.parse import parse
from shapecheck.syntax.unroll import MAX_LOOP_STEPS, expand_name, loop_context, unroll


def unrolled(
    text: str, sizes: dict[str, int] | None = None
) -> tuple[ast.Program, list[Diagnostic]]:
    program, problems = parse(Source("t.idx", text))
    assert problems == [], [p.message for p in problems]
    return unroll(program, sizes)


def test_expand_name_substitutes_templates() -> None:
    assert expand_name("s{t-1}", {"t": 3}) == "s2"
    assert expand_name("x{t}_{u+1}", {"t": 1, "u": 4}) == "x1_5"
    assert expand_name("plain", {}) == "plain"


def test_loop_context_names_every_value() -> None:
    assert loop_context(()) is None
    assert loop_context((("t", 2), ("u", 1))) == "unrolled with t = 2, u = 1"


def test_body_repeats_with_names_and_indices_substituted() -> None:
    program, problems = unrolled("for t in 1..2:\n    s{t}[i, t] = s{t-1}[i, t] + loss(y{t})\n")
    assert problems == []
    assert [str(s) for s in program.statements] == [
        "s1[i, 1] = s0[i, 1] + loss(y1)",
        "s2[i, 2] = s1[i, 2] + loss(y2)",
    ]
    assert [s.loop for s in program.statements] == [(("t", 1),), (("t", 2),)]
    assert [str(h) for h in program.loops] == ["for t in 1..2:"]


def test_nested_loops_and_a_bound_from_a_dim() -> None:
    text = "dim n = 2\nfor t in 1..n:\n    for u in t..2:\n        derive da{t}/db{u}\n"
    program, problems = unrolled(text)
    assert problems == []
    assert [str(s) for s in program.statements[1:]] == [
        "derive da1/db1",
        "derive da1/db2",
        "derive da2/db2",
    ]


def test_size_override_sets_a_bound() -> None:
    program, problems = unrolled("dim n = 2\nfor t in 1..n:\n    y{t} = 1\n", {"n": 3})
    assert problems == []
    assert [str(s) for s in program.statements[1:]] == ["y1 = 1", "y2 = 1", "y3 = 1"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("y{t} = 1\n", "E112"),  # a template outside any loop
        ("for t in 1..2:\n    y{u} = 1\n", "E112"),  # not a loop variable
        ("for t in 1..2:\n    y{t-2} = 1\n", "E112"),  # numbered below 0
        ("for t in 1..2:\n    y{t} = sum[t](x[t])\n", "E206"),
        ("for t in 1..m:\n    y{t} = 1\n", "E101"),
        ("dim m\nfor t in 1..m:\n    y{t} = 1\n", "E111"),  # a dim without a value
        ("for t in 3..1:\n    y{t} = 1\n", "E111"),  # empty
        (f"for t in 1..{MAX_LOOP_STEPS + 1}:\n    y{{t}} = 1\n", "E111"),
        ("for t in 1..2:\n    for t in 1..2:\n        y{t} = 1\n", "E111"),
    ],
)
def test_loop_errors(text: str, code: str) -> None:
    _, problems = unrolled(text)
    assert [p.code for p in problems] == [code] * len(problems)
    assert problems


def test_an_error_drops_only_its_statement() -> None:
    program, problems = unrolled("for t in 1..2:\n    y{u} = 1\n    z{t} = 2\n")
    assert [p.code for p in problems] == ["E112", "E112"]
    assert [p.context for p in problems] == ["unrolled with t = 1", "unrolled with t = 2"]
    assert [str(s) for s in program.statements] == ["z1 = 2", "z2 = 2"]
