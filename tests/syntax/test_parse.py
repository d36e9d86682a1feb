"""The parser: every statement form, the lexical rules, and worded syntax errors."""

from __future__ import annotations

import pytest

from shapecheck.pipeline import Options, analyze_source
from shapecheck.source import Source
from shapecheck.syntax import ast
from shapecheck.syntax.parse import parse


def statements(text: str) -> tuple[ast.Statement, ...]:
    program, problems = parse(Source("t.idx", text))
    assert problems == [], [p.message for p in problems]
    return program.statements


def one(text: str) -> ast.Statement:
    (statement,) = statements(text)
    return statement


def syntax_codes(text: str) -> list[str]:
    return [p.code for p in parse(Source("t.idx", text))[1]]


@pytest.mark.parametrize(
    "text",
    [
        "dim n = 8, d = 3, h",
        "input X[n, d]",
        "param W[d, h], b[h]",
        "param a",
        "input x[3] = [5, 8, -1]",
        "param X0[2, 2] = [[3, 2], [6, -4]]",
        "param s[n] positive",
        "Y[i, k] = X[i, j] W[j, k] + b[k]",
        "L = Y[i, k] * Y[i, k]",
        "derive dY/dX",
        "derive dL/dW, dL/db",
        "dL/db[k] = 2 * Y[i, k]",
        "layout numerator",
        "param c = 0.5",
        "y = sum[j](A[i, j]) / 3",
        "y = loss(Y)",
        "D = X[1, 1] X[2, 2] - X[1, 2] X[2, 1]",
        "y = -x^2",
        "y = x^-1",
        "y = exp(a) log(b) tanh(c) sigmoid(d) relu(e) sin(f) cos(g) sqrt(h) abs(k)",
        "y = delta[i, j, k] a[i]",
    ],
)
def test_every_statement_form_round_trips(text: str) -> None:
    statement = one(text)
    assert str(statement) == text
    # What str() prints parses back to the same tree.
    assert str(one(str(statement))) == text


def test_number_forms_and_values() -> None:
    for text, value in [("3", 3.0), ("2.5", 2.5), (".5", 0.5), ("1e-3", 1e-3), ("0.5e1", 5.0)]:
        rhs = one(f"y = {text}")
        assert isinstance(rhs, ast.Definition)
        assert isinstance(rhs.rhs, ast.Number)
        assert rhs.rhs.value == value


def test_trailing_dot_is_not_a_number() -> None:
    assert syntax_codes("y = 1.") == ["E009"]


def test_derivative_reference_has_no_spaces() -> None:
    claim = one("dL/dY[i] = 2 Y[i]")
    assert isinstance(claim, ast.Claim)
    assert (claim.of, claim.wrt) == ("L", "Y")
    division = one("y = dA / dB")
    assert isinstance(division, ast.Definition)
    assert isinstance(division.rhs, ast.Product)
    assert [f.op for f in division.rhs.factors] == ["", "/"]


def test_unicode_aliases() -> None:
    assert str(one("y = δ[i, j] a[i]")) == "y = delta[i, j] a[i]"
    assert str(one("∂L/∂W[j] = 2 · w[j] × 3")) == "dL/dW[j] = 2 * w[j] * 3"
    assert str(one("y = Σ[j](a[j])")) == "y = sum[j](a[j])"


def test_precedence() -> None:
    definition = one("y = a / b c")
    assert isinstance(definition, ast.Definition)
    product = definition.rhs
    assert isinstance(product, ast.Product)  # (a / b) c: one left-to-right chain
    assert [f.op for f in product.factors] == ["", "/", " "]
    negated = one("y = -x^2")
    assert isinstance(negated, ast.Definition)
    assert isinstance(negated.rhs, ast.Negate)
    assert isinstance(negated.rhs.operand, ast.Power)
    power = one("y = a^b^c")
    assert isinstance(power, ast.Definition)
    assert isinstance(power.rhs, ast.Power)
    assert isinstance(power.rhs.exponent, ast.Power)  # right-associative
    subtraction = one("y = a -b")
    assert isinstance(subtraction, ast.Definition)
    assert isinstance(subtraction.rhs, ast.Add)


def test_keywords_are_whole_words() -> None:
    definition = one("summary = dimension[i] + exponent + for_x + input2")
    assert isinstance(definition, ast.Definition)
    assert definition.name == "summary"
    assert isinstance(definition.rhs, ast.Add)
    operands = [term.expr for term in definition.rhs.terms]
    assert all(isinstance(o, ast.ArrayRef) for o in operands)
    assert [o.name for o in operands if isinstance(o, ast.ArrayRef)] == [
        "dimension",
        "exponent",
        "for_x",
        "input2",
    ]


def test_statement_continues_while_bracket_open() -> None:
    definition = one("Y[i, k] = X[i, j] W[j,\n    k] + (b[k]\n  + c[k])")
    assert isinstance(definition, ast.Definition)
    assert str(definition) == "Y[i, k] = X[i, j] W[j, k] + (b[k] + c[k])"


def test_for_block_by_indentation() -> None:
    block, after = statements("for t in 1..3:\n    s{t}[i] = s{t-1}[i]\n    y{t} = 1\nL = 2\n")
    assert isinstance(block, ast.ForBlock)
    assert block.header.var == "t"
    assert [str(s) for s in block.body] == ["s{t}[i] = s{t-1}[i]", "y{t} = 1"]
    assert str(after) == "L = 2"  # back at the header's indentation: outside the block


def test_nested_for_blocks() -> None:
    text = "for t in 1..2:\n  for u in 1..t:\n    a{t}{u} = 1\n  b{t} = 2\nc = 3\n"
    outer, after = statements(text)
    assert isinstance(outer, ast.ForBlock)
    inner, second = outer.body
    assert isinstance(inner, ast.ForBlock)
    assert (inner.header.var, str(inner.header.stop)) == ("u", "t")
    assert [str(s) for s in inner.body] == ["a{t}{u} = 1"]
    assert str(second) == "b{t} = 2"
    assert str(after) == "c = 3"


def test_broken_for_header_keeps_its_body_and_drops_it() -> None:
    # The body is not reported again as unexpected indentation (E010) and
    # does not leak out of the block as top-level statements.
    program, problems = parse(Source("t.idx", "for t in 1..:\n    y{t} = 1\nz = 2\n"))
    assert [p.code for p in problems] == ["E003"]
    assert [str(s) for s in program.statements] == ["z = 2"]
    assert not program.complete


def test_comments_and_blank_lines() -> None:
    text = "# header\n\ndim n  # sizes\n   # indented comment\nparam x[n]\n"
    assert [str(s) for s in statements(text)] == ["dim n", "param x[n]"]


def test_spans_point_into_the_file() -> None:
    text = "dim n\nparam x[n]\ny = x[i] x[i]\n"
    definition = statements(text)[2]
    assert isinstance(definition, ast.Definition)
    assert text[definition.rhs.span.start : definition.rhs.span.end] == "x[i] x[i]"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Y[i, k] X[i, j]", "E005"),
        ("Y[i j] = 3", "E004"),
        ("dim sum = 3", "E008"),
        ("derive dY / dX", "E014"),
        ("y = (a + b", "E006"),
        ("y = a + b)", "E007"),
        ("y = $a", "E002"),
        ("layout sideways", "E109"),
        ("for t in 1..3: x = 1", "E013"),
        ("y = X[0]", "E203"),
        ("  y = 1", "E010"),
        ("y = " + "(" * 100 + "a" + ")" * 100, "E011"),
    ],
)
def test_common_mistakes_get_specific_codes(text: str, code: str) -> None:
    assert syntax_codes(text) == [code]


def test_every_broken_line_is_reported() -> None:
    text = "y = (a\nz = 2.\nw = a]\ndim in = 3\nok = 1\n"
    program, problems = parse(Source("t.idx", text))
    assert [p.code for p in problems] == ["E006", "E009", "E007", "E008"]
    assert [str(s) for s in program.statements] == ["ok = 1"]


def test_names_defined_by_broken_lines_are_kept() -> None:
    program, _ = parse(Source("t.idx", "y[i] = (x[i] + 1\nz = a]\nw = 1\n"))
    assert set(program.unparsed_names) == {"y", "z"}
    assert not program.complete


def test_expected_words_not_token_names() -> None:
    _, problems = parse(Source("t.idx", "y = a +"))
    assert problems[0].message == "unexpected end of the statement; expected an expression"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("y = a +", "unexpected end of the statement; expected an expression"),
        # After a whole operand the parser has reduced it (a comparison may
        # follow only there), so only what ends it is expected.
        ("y = a , b", "unexpected `,`; expected the end of the statement"),
        ("y = (a , b)", "unexpected `,`; expected `)`"),
        ("y[i] = x[i] x[i] ,", "unexpected `,`; expected the end of the statement"),
        ("dim 3", "unexpected number `3`; expected a name"),
        (
            "= 3",
            "unexpected `=`; expected a statement (`dim`, `input`, `param`, `derive`, a "
            "definition or a claim)",
        ),
        ("param q[3] = [1, -]", "unexpected `]`; expected a number"),
        # An index position takes an index expression (spec 9.4).
        ("y = x[+]", "unexpected `+`; expected an expression"),
        ("for t in 1 3:", "unexpected number `3`; expected `..` or `:`"),
        (
            "param a *",
            "unexpected `*`; expected `,`, `=`, `[`, `in`, `positive` or the end of the statement",
        ),
    ],
)
def test_expected_tokens_are_a_few_phrases(text: str, message: str) -> None:
    _, problems = parse(Source("t.idx", text))
    assert [(p.code, p.message) for p in problems] == [("E003", message)]


@pytest.mark.parametrize(
    ("line", "code", "message", "column"),
    [
        ("y[i] = step(x[i], 1)", "E027", "`step` takes one argument", 17),
        ("y[i] = exp(x[i], 2)", "E027", "`exp` takes one argument", 16),
        ("y = norm[i](x[i], w[i])", "E027", "`norm` takes one argument", 17),
        ("y = min()", "E017", "`min` takes exactly two arguments, not 0", 9),
        ("y[i] = (x[i] => 0)", "E003", "`=>` is not an operator: write `>=`", 14),
        ("y[i] = x[i] =< 0", "E003", "`=<` is not an operator: write `<=`", 13),
    ],
)
def test_wrong_arity_and_reversed_comparisons_are_named(
    line: str, code: str, message: str, column: int
) -> None:
    source = Source("t.idx", "dim d = 3\ninput x[d], w[d]\n" + line + "\n")
    _, problems = parse(source)
    assert [(p.code, p.message) for p in problems] == [(code, message)]
    assert problems[0].span is not None
    assert source.position(problems[0].span.start) == (3, column)


# A long run of name characters near a rejected place: each detector that
# looks back from there is worded as on a short line. (Its searches once
# tried every start inside the run: 19,000 characters took up to 17 s, and
# the fuzz harness reported the line as a hang.)
RUN = 19_000
LONG_RUNS = [
    ("y = (" + "a(" * 70 + ")" * 71, "E011"),
    ("fn f\ny[i] = f(" + "x" * RUN + "  , 2)", "E027"),
    ("dim n\ny[i] = " + "x" * RUN + "[i] @ W", "E021"),
    ("y = 2 " + "x" * RUN + " ", "E101"),
]


@pytest.mark.parametrize(("text", "code"), LONG_RUNS, ids=["nesting", "E027", "E021", "E101"])
def test_a_long_run_of_name_characters_is_worded_as_a_short_one(text: str, code: str) -> None:
    if code == "E011":
        text = "# " + "x" * RUN + "\n" + text
    report = analyze_source(Source("t.idx", text + "\n"), Options(verify=False))
    assert code in [d.code for d in report.diagnostics]


def test_a_number_too_large_for_a_float_is_e009() -> None:
    # `1e400` read as infinity, and the simplifier's rules never settled on it.
    (problem,) = parse(Source("t.idx", "y = 2 1e400\n"))[1]
    assert problem.code == "E009"
    assert problem.message == "the number `1e400` is too large (over 1.8e308)"
