"""Property tests for the parser: printing and re-parsing is a fixed point."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from support import spanless

from shapecheck.render.notation import notation
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
# Index expressions (spec 9.4): sums of `c`, `c a`, `a c`, `c*a`, `(2 h) a`,
# with unary minus; each drawn with the Python text that computes its value.
_coefficients = st.sampled_from([("2", "2"), ("3", "3"), ("(2 h)", "(2*h)"), ("h", "h")])
_index_names = st.sampled_from(["a", "u", "i"])
_index_terms = st.one_of(
    st.builds(lambda c: c, st.sampled_from([("1", "1"), ("2", "2"), ("h", "h")])),
    st.builds(lambda a: (a, a), _index_names),
    st.builds(lambda c, a: (f"{c[0]} {a}", f"{c[1]}*{a}"), _coefficients, _index_names),
    st.builds(lambda c, a: (f"{a} {c[0]}", f"{a}*{c[1]}"), _coefficients, _index_names),
    st.builds(lambda c, a: (f"{c[0]}*{a}", f"{c[1]}*{a}"), _coefficients, _index_names),
)


@st.composite
def _index_expression(draw: st.DrawFn) -> tuple[str, str]:
    first = draw(_index_names)
    text, python = first, first
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["+", "-"]))
        term, value = draw(_index_terms)
        text, python = f"{text} {op} {term}", f"{python} {op} ({value})"
    if draw(st.booleans()):
        text, python = f"-({text})", f"-({python})"
    return text, python


_indices = st.lists(
    st.one_of(_index, _index_expression().map(lambda pair: pair[0])), min_size=1, max_size=3
)
_comparisons = st.sampled_from([">", ">=", "<", "<=", "==", "!=", "≥", "≤", "≠"])
# Opaque functions (spec 9.5): every generated statement stands below `fn f, g2`.
_FUNCTIONS = ["f", "g2"]
_DECLARED = "fn " + ", ".join(_FUNCTIONS) + "\n"
# Bounds of `sum[t in A..B]` (spec 9.4): numbers, dims, loop variables with offsets.
_range_bounds = st.sampled_from(["1", "3", "0", "T", "T-1", "t+2", "u-1"])


def _atoms() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["2", "0.5", "1e-3", ".5", "3"]),
        _names,
        st.builds(lambda n, ix: f"{n}[{', '.join(ix)}]", _names, _indices),
        st.builds(lambda ix: f"delta[i, {', '.join(ix)}]", _indices),
        st.builds(lambda n: f"loss({n})", _names),
        # The matrix functions (spec 9.5): det and trace are scalars, inv is
        # read at two indices (any index the generator makes: gathers,
        # literals, argmax).
        st.builds(lambda f, n: f"{f}({n})", st.sampled_from(["det", "trace"]), _names),
        st.builds(lambda n, a, b: f"inv({n})[{a}, {b}]", _names, _index, _index),
        st.just("dA/dB[i]"),
        # Second derivatives (spec 9.6), in both spellings, as values.
        st.builds(
            lambda d, ix: f"{d}[{', '.join(ix)}]",
            st.sampled_from(["d2A/dB2", "∂²L/∂w²", "d2s{t}/dW2", "d2y_2/dX2"]),
            _indices,
        ),
        st.sampled_from(["dL/dw", "d2L/dw2"]),
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
            # Opaque functions and their derivatives (spec 9.5), declared by
            # the `fn` line `_parse_one` puts first.
            st.builds(
                lambda f, primes, a: f"{f}{primes}({a})",
                st.sampled_from(_FUNCTIONS),
                st.sampled_from(["", "'", "''", "'''''"]),
                inner,
            ),
            st.builds(lambda f, a: f"{f} ({a})", st.sampled_from(_FUNCTIONS), inner),
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
            st.builds(
                lambda kw, var, start, stop, a: f"{kw}[{var} in {start}..{stop}]({a})",
                st.sampled_from(["sum", "Σ"]),
                st.sampled_from(["t", "s"]),
                _range_bounds,
                _range_bounds,
                inner,
            ),
            st.builds(lambda a: f"({a})", inner),
        ),
        max_leaves=12,
    )


def _parse_one(text: str) -> ast.Statement:
    """The one statement of `text`, parsed below the line that declares `_FUNCTIONS`."""
    program, problems = parse(Source("p.idx", _DECLARED + text))
    assert problems == [], (text, [p.message for p in problems])
    declaration, statement = program.statements
    assert isinstance(declaration, ast.FnStmt)
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
    starts = [node.span.start - len(_DECLARED) for node in ast.walk(statement.rhs)]
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
        "sum[t in 1..",
        "..",
        " in ",
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
        "f'",
        "f''(",
        "f(",
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
    return "dim n = 3, h = 2\ninput X[n, n], x[n]\nparam W[n, h]\nfn f\n" + text + "\n"


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
    text = f"{_DECLARED}y[i] = {a} {first} {b} {second} {c}\n"
    _, problems = parse(Source("p.idx", text))
    assert [p.code for p in problems] == ["E016"]


@settings(max_examples=300, deadline=None)
@given(_index_expression(), st.integers(1, 5), st.integers(1, 5), st.integers(1, 5))
def test_an_index_expression_means_what_it_says(
    drawn: tuple[str, str], a: int, u: int, h: int
) -> None:
    """The parsed tree (and its printed form, re-parsed) computes the written value."""
    text, python = drawn
    values = {"a": a, "u": u, "i": 3, "h": h}
    statement = _parse_one(f"y[i] = x[{text}]")
    assert isinstance(statement, ast.Definition)
    assert isinstance(statement.rhs, ast.ArrayRef)
    (index,) = statement.rhs.indices
    assert isinstance(index, ast.IndexExpr | ast.IndexName)
    tree = index.tree if isinstance(index, ast.IndexExpr) else index
    expected = eval(python, {}, dict(values))
    assert _value(tree, values) == expected
    again = _parse_one(str(statement))
    assert isinstance(again, ast.Definition) and str(again) == str(statement)


def _value(tree: ast.IndexTree, values: dict[str, int]) -> int:
    match tree:
        case ast.IndexName() | ast.IndexSize():
            return values[tree.name]
        case ast.IndexLiteral():
            return tree.value
        case ast.IndexNeg():
            return -_value(tree.operand, values)
        case ast.IndexArith():
            left, right = _value(tree.left, values), _value(tree.right, values)
            return {"+": left + right, "-": left - right, "*": left * right}[tree.op]
        case _:
            raise AssertionError(tree)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["d", "∂"]),
    st.sampled_from(["L", "loss_2", "s{t}", "y_"]),
    st.sampled_from(["w", "W", "x_in", "h{t}"]),
    # Plain indices: an index expression prints normalised (`2 h * a`).
    st.lists(_index, min_size=1, max_size=3),
)
def test_second_derivative_tokens_read_as_one_reference(
    d: str, of: str, wrt: str, indices: list[str]
) -> None:
    """`d2A/dB2` and `∂²A/∂B²` are one token (spec 9.6): A, B and order 2, as a
    value, a `derive` target and a claim's left side; printed back as `d2A/dB2`."""
    two = "2" if d == "d" else "²"
    token = f"{d}{two}{of}/{d}{wrt}{two}"
    listed = ", ".join(indices)
    statement = _parse_one(f"g = 3 {token}[{listed}]")
    assert isinstance(statement, ast.Definition)
    product = statement.rhs
    assert isinstance(product, ast.Product)
    reference = product.factors[-1].expr
    assert isinstance(reference, ast.DerivRef)
    assert (reference.of, reference.wrt, reference.order) == (of, wrt, 2)
    assert str(reference) == f"d2{of}/d{wrt}2[{listed}]"
    derive = _parse_one(f"derive {token}, d{of}/d{wrt}")
    assert isinstance(derive, ast.DeriveStmt)
    assert [t.order for t in derive.targets] == [2, 1]
    claim = _parse_one(f"{token}[{listed}] = 0")
    assert isinstance(claim, ast.Claim) and claim.order == 2


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


# Sums over several indices and annotated ones print as `Σ_{j,u}`, `Σ_{u:2}`.
_SUMS = st.sampled_from(["sum[j]", "sum[j, u]", "sum[u:2]", "Σ[k, j:n]"])


@settings(max_examples=400, deadline=None)
@given(_expressions(), _SUMS, _expressions())
def test_printed_with_sigma_parses_back_to_the_same_tree(
    expression: str, bracket: str, summed: str
) -> None:
    """Spec 10: the `Σ_j` form the tables print (`render.notation`) reads back
    as the very tree that `sum[...]( ... )` builds."""
    written = _parse_one(f"y[i] = {expression} + {bracket}({summed}) {expression}")
    assert isinstance(written, ast.Definition)
    printed = notation(written.rhs)
    again = _parse_one(f"y[i] = {printed}")
    assert isinstance(again, ast.Definition)
    assert spanless(again.rhs) == spanless(written.rhs), printed
