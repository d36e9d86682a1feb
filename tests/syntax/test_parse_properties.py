"""Property tests for the parser: printing and re-parsing is a fixed point."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shapecheck.source import Source
from shapecheck.syntax import ast
from shapecheck.syntax.parse import parse

_names = st.sampled_from(["a", "b", "X", "W", "s{t}", "y_2"])
_comparisons = st.sampled_from([">", ">=", "<", "<=", "==", "!=", "≥", "≤", "≠"])
_indices = st.lists(st.sampled_from(["i", "j", "k", "1", "2"]), min_size=1, max_size=3)


def _atoms() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["2", "0.5", "1e-3", ".5", "3"]),
        _names,
        st.builds(lambda n, ix: f"{n}[{', '.join(ix)}]", _names, _indices),
        st.builds(lambda ix: f"delta[i, {', '.join(ix)}]", _indices),
        st.builds(lambda n: f"loss({n})", _names),
        st.just("dA/dB[i]"),
    )


def _expressions() -> st.SearchStrategy[str]:
    return st.recursive(
        _atoms(),
        lambda inner: st.one_of(
            st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from("+-*/"), inner),
            st.builds(lambda a, b: f"{a} ({b})", inner, inner),
            st.builds(lambda a: f"-{a}", inner),
            st.builds(lambda a, b: f"({a})^{b}", inner, st.sampled_from(["2", "-1", "x^2"])),
            st.builds(
                lambda f, a: f"{f}({a})",
                st.sampled_from(["exp", "tanh", "sqrt", "step", "sign"]),
                inner,
            ),
            # Comparisons (a factor needs its parentheses) and max/min (spec 9.2).
            st.builds(lambda a, op, b: f"({a} {op} {b})", inner, _comparisons, inner),
            st.builds(
                lambda f, a, b: f"{f}({a}, {b})", st.sampled_from(["max", "min"]), inner, inner
            ),
            st.builds(lambda a: f"sum[j]({a})", inner),
            st.builds(lambda a: f"({a})", inner),
        ),
        max_leaves=12,
    )


def _parse_one(text: str) -> ast.Statement:
    program, problems = parse(Source("p.idx", text))
    assert problems == [], (text, [p.message for p in problems])
    (statement,) = program.statements
    return statement


@settings(max_examples=400, deadline=None)
@given(_expressions())
def test_print_then_parse_is_a_fixed_point(expression: str) -> None:
    first = _parse_one(f"y[i] = {expression}")
    printed = str(first)
    second = _parse_one(printed)
    assert str(second) == printed


@settings(max_examples=200, deadline=None)
@given(_expressions(), st.sampled_from(["\n    ", "\n", " "]))
def test_line_breaks_inside_brackets_change_nothing(expression: str, gap: str) -> None:
    flat = str(_parse_one(f"y[i] = ({expression})"))
    broken = str(_parse_one(f"y[i] = ({gap}{expression}{gap})"))
    assert flat == broken


@settings(max_examples=200, deadline=None)
@given(_expressions())
def test_with_children_of_children_gives_back_the_node(expression: str) -> None:
    statement = _parse_one(f"y[i] = {expression}")
    assert isinstance(statement, ast.Definition)
    for node in ast.walk(statement.rhs):
        assert ast.with_children(node, ast.children(node)) == node


@settings(max_examples=200, deadline=None)
@given(_expressions())
def test_walk_visits_parents_first_in_source_order(expression: str) -> None:
    statement = _parse_one(f"y[i] = {expression}")
    assert isinstance(statement, ast.Definition)
    starts = [node.span.start for node in ast.walk(statement.rhs)]
    assert starts == sorted(starts)
    assert len(starts) == 1 + sum(len(ast.children(n)) for n in ast.walk(statement.rhs))


@settings(max_examples=200, deadline=None)
@given(_expressions(), _comparisons, _expressions())
def test_a_whole_right_hand_side_comparison_is_one_comparison(
    left: str, op: str, right: str
) -> None:
    statement = _parse_one(f"y[i] = {left} {op} {right}")
    assert isinstance(statement, ast.Definition)
    assert isinstance(statement.rhs, ast.Compare)
    printed = str(statement)
    assert str(_parse_one(printed)) == printed


@settings(max_examples=100, deadline=None)
@given(_expressions(), _comparisons, _expressions(), _comparisons, _expressions())
def test_a_chain_of_comparisons_is_always_e016(
    a: str, first: str, b: str, second: str, c: str
) -> None:
    _, problems = parse(Source("p.idx", f"y[i] = {a} {first} {b} {second} {c}\n"))
    assert [p.code for p in problems] == ["E016"]
