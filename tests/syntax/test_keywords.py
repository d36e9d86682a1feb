"""Keywords (spec 1 and 9.8): the list matches the lexer, and a keyword used as a name
is a located E008 with a name to rename it to, wherever a name stands."""

from __future__ import annotations

import pytest

from shapecheck.source import Source
from shapecheck.syntax.keywords import KEYWORDS, SECOND_EDITION
from shapecheck.syntax.lexer import lex
from shapecheck.syntax.parse import parse


@pytest.mark.parametrize("word", sorted(KEYWORDS))
def test_every_keyword_is_lexed_as_one_and_only_as_a_whole_word(word: str) -> None:
    (token,) = lex(word)
    assert token.type != "NAME"
    for name in (word + "_", word + "2", "x" + word):
        assert [t.type for t in lex(name)] == ["NAME"]


def test_no_other_word_is_a_keyword() -> None:
    for word in ("maximum", "mu", "average", "sgn", "trace_", "determinant", "f"):
        assert [t.type for t in lex(word)] == ["NAME"]


POSITIONS = [
    ("param {w}[3]", "param "),
    ("dim {w} = 3", "dim "),
    ("{w} = 3", ""),
    ("param x[3]\ny[{w}] = x[{w}]", "param x[3]\ny["),
    ("for {w} in 1..3:\n    y{{t}} = 1", "for "),
    ("param x[3]\ny = sum[{w}](x[{w}])", "param x[3]\ny = sum["),
    ("param a\ny = a {w}", "param a\ny = a "),
    ("param {w}2, a\ny = a * {w}", "param {w}2, a\ny = a * "),
]


@pytest.mark.parametrize("word", SECOND_EDITION)
@pytest.mark.parametrize(("template", "before"), POSITIONS)
def test_a_second_edition_keyword_as_a_name_is_located(
    word: str, template: str, before: str
) -> None:
    text = template.format(w=word) + "\n"
    _, problems = parse(Source("t.idx", text))
    assert [p.code for p in problems] == ["E008"]
    (problem,) = problems
    start = len(before.format(w=word))
    assert problem.span is not None
    assert (problem.span.start, problem.span.end) == (start, start + len(word))


def test_keyword_as_a_name_golden() -> None:
    _, problems = parse(Source("t.idx", "dim n = 3\nparam mean[n]\n"))
    (problem,) = problems
    assert problem.message == (
        "`mean` is a keyword since the second edition of the language and cannot be used as a name"
    )
    assert problem.hints == ("rename it everywhere in the file, e.g. to `mean_` or `mu`",)
    _, problems = parse(Source("t.idx", "dim sum = 3\n"))
    assert [(p.message, p.hints) for p in problems] == [
        (
            "`sum` is a keyword and cannot be used as a name",
            ("rename it everywhere in the file, e.g. to `sum_` or `total`",),
        )
    ]


@pytest.mark.parametrize("line", ["y = det(W)", "y[i, j] = inv(W)[i, j]", "y = trace(W)"])
def test_the_matrix_functions_are_constructs_now(line: str) -> None:
    # They were reserved (E008) until their construct arrived (12.12).
    program, problems = parse(Source("t.idx", line + "\n"))
    assert problems == []
    assert program is not None


def test_a_derivative_reference_starting_like_a_keyword_stays_one() -> None:
    assert [t.type for t in lex("det/dx")] == ["DERIV"]
    assert [t.type for t in lex("dmean/dx")] == ["DERIV"]
