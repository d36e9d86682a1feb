"""Property tests for the parser: printing and re-parsing is a fixed point."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shapecheck.source import Source
from shapecheck.syntax import ast
from shapecheck.syntax.parse import parse

_names = st.sampled_from(["a", "b", "X", "W", "s{t}", "y_2"])
_bound = st.lists(st.sampled_from(["i", "j", "u"]), min_size=1, max_size=2)
_plain = st.sampled_from(["i", "j", "k", "1", "2"])
# An index is a name, a literal, an integer array standing in the position
# (`y[i]`, spec 9.3), which may itself hold one (`y[z[i]]`), or a selection
# `argmax[j](X[i, j])` (spec 9.2).
_index = st.recursive(
    _plain,
    lambda inner: st.one_of(
        st.builds(
            lambda n, ix: f"{n}[{', '.join(ix)}]",
            st.sampled_from(["y", "idx", "t{t}"]),
            st.lists(inner, min_size=1, max_size=2),
        ),
        st.builds(
            lambda f, j, ix: f"{f}[{j}](X[{', '.join([*ix, j])}])",
            st.sampled_from(["argmax", "argmin"]),
            st.sampled_from(["j", "u"]),
            st.lists(inner, max_size=1),
        ),
    ),
    max_leaves=4,
)
_indices = st.lists(_index, min_size=1, max_size=3)
_comparisons = st.sampled_from([">", ">=", "<", "<=", "==", "!=", "≥", "≤", "≠"])


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
            st.builds(lambda ix, a: f"mean[{', '.join(ix)}]({a})", _bound, inner),
            st.builds(
                lambda f, ix, a: f"{f}[{', '.join(ix)}]({a})",
                st.sampled_from(["softmax", "logsumexp", "norm", "max", "min"]),
                st.lists(st.sampled_from(["i", "j", "k"]), min_size=1, max_size=2, unique=True),
                inner,
            ),
            st.builds(
                lambda f, j, a: f"{f}[{j}]({a})",
                st.sampled_from(["argmax", "argmin"]),
                st.sampled_from(["i", "j", "k"]),
                inner,
            ),
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


# Pieces of numpy, LaTeX and matrix notation (spec 9.7) and second-edition
# keywords (9.8), mixed into otherwise valid expressions.
_FOREIGN = st.sampled_from(
    [
        " @ W",
        ".T",
        "'",
        "ᵀ",
        "^T",
        "np.",
        "np.exp(",
        "numpy.linalg.det(X)",
        ".dot(",
        "[:, 1:h]",
        "[:",
        ":",
        "\\sum_j ",
        "\\delta_{ij}",
        "\\frac{1}{n}",
        "\\",
        "x_i",
        "sum(",
        "Σ(",
        "maximum(",
        "transpose(",
        "mean",
        "max(",
        "det(",
        "inv",
        "fn ",
        "'ij,jk->ik'",
        ",",
        "(",
        ")",
        "[",
        "]",
        "dout/dx",
        "d",
        "=",
    ]
)


def _foreign_program(expression: str, insertions: list[tuple[int, str]]) -> str:
    """`y[i] = expression` with foreign pieces inserted, under a fixed header."""
    text = f"y[i] = {expression}"
    for at, piece in insertions:
        at = min(at, len(text))
        text = text[:at] + piece + text[at:]
    return "dim n = 3, h = 2\ninput X[n, n], x[n]\nparam W[n, h]\n" + text + "\n"


@settings(max_examples=400, deadline=None)
@given(_expressions(), st.lists(st.tuples(st.integers(0, 200), _FOREIGN), max_size=4))
def test_foreign_notation_never_raises_and_every_error_is_located(
    expression: str, insertions: list[tuple[int, str]]
) -> None:
    source = Source("p.idx", _foreign_program(expression, insertions))
    _, problems = parse(source)
    for problem in problems:
        assert problem.span is not None, problem
        assert 0 <= problem.span.start < problem.span.end <= len(source.text), problem
        assert problem.message and not any("declare" in h for h in problem.hints)


@settings(max_examples=150, deadline=None)
@given(_expressions(), st.lists(st.tuples(st.integers(0, 200), _FOREIGN), max_size=3))
def test_foreign_notation_through_the_checker_is_never_an_internal_error(
    expression: str, insertions: list[tuple[int, str]]
) -> None:
    from support import run

    report = run(_foreign_program(expression, insertions), verify=False)
    assert all(d.code != "E999" for d in report.diagnostics), [
        d.message for d in report.diagnostics
    ]
    assert all(d.span is not None for d in report.diagnostics if d.code != "W105")


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["y", "idx", "t{t}"]),
    st.lists(st.sampled_from(["n", "3", "c"]), max_size=2),
    st.sampled_from(["c", "4", "n"]),
    st.one_of(st.none(), st.lists(st.integers(1, 9), min_size=1, max_size=3)),
)
def test_integer_array_declarations_round_trip(
    name: str, shape: list[str], classes: str, values: list[int] | None
) -> None:
    text = f"input {name}" + (f"[{', '.join(shape)}]" if shape else "") + f" in {classes}"
    if values is not None:
        text += " = [" + ", ".join(str(v) for v in values) + "]"
    statement = _parse_one(text)
    assert isinstance(statement, ast.DeclStmt)
    (entry,) = statement.entries
    assert str(entry.classes) == classes and not entry.positive
    assert str(_parse_one(str(statement))) == str(statement)


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


# The cheap test before E025's search (`parse._may_write_a_call`) may only
# skip lines in which the search finds nothing: text made of names, function
# keywords, numbers, brackets and comments, written tight and loose.
_CALL_PIECES = st.sampled_from(
    [
        *("x", "W1", "tanh", "max", "sum", "softmax", "h{t}", "dL/dW", "2", "1e5", "[i]"),
        *("transpose", "maximum", "relu", "(", ")", " ", "+", "*", ",", "# c(", "_", "e", "."),
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_CALL_PIECES, max_size=12).map("".join))
def test_the_call_prefilter_never_skips_a_name_written_as_a_call(text: str) -> None:
    from shapecheck.syntax.errors import tokens_before
    from shapecheck.syntax.notation import FileNames, Rejection, unknown_call
    from shapecheck.syntax.parse import _may_write_a_call

    line = "y = " + text
    names = FileNames.of([], ("x", "W1", "y"))
    found = unknown_call(Rejection.of(line, len(line), 0, names), tokens_before(line, len(line)))
    assert found is None or _may_write_a_call(line)
