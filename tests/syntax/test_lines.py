"""Logical lines: bracket continuation, indentation, and statements dropped before parsing."""

from __future__ import annotations

from shapecheck.source import Source
from shapecheck.syntax.lines import (
    MAX_BRACKET_DEPTH,
    MAX_STATEMENT_CHARS,
    LogicalLine,
    split_lines,
)


def texts(text: str) -> list[str]:
    lines, dropped, problems = split_lines(Source("t.idx", text))
    assert dropped == [] and problems == []
    return [text[line.span.start : line.span.end] for line in lines]


def test_one_statement_a_line_without_blanks_and_comments() -> None:
    assert texts("# top\n\ndim n\n   # comment\nparam x[n]  # trailing\n") == [
        "dim n",
        "param x[n]  # trailing",
    ]


def test_span_starts_at_first_character_and_indent_counts_tabs_as_eight() -> None:
    lines, _, _ = split_lines(Source("t.idx", "a = 1\n\tb = 2\n  c = 3\r\n"))
    assert [line.indent for line in lines] == [0, 8, 2]
    assert lines[1] == LogicalLine(lines[1].span, 8)
    assert [(line.span.start, line.span.end) for line in lines] == [(0, 5), (7, 12), (15, 20)]


def test_a_statement_continues_while_a_bracket_is_open() -> None:
    assert texts("y = (a\n  + b[i,\n  j])\nz = 1\n") == ["y = (a\n  + b[i,\n  j])", "z = 1"]


def test_a_bracket_in_a_comment_does_not_continue() -> None:
    assert texts("y = a  # (\nz = 1\n") == ["y = a  # (", "z = 1"]


def test_an_unclosed_bracket_ends_at_the_next_statement_and_is_dropped() -> None:
    text = "y = (a\n  + b\nz = 1\n"
    lines, dropped, problems = split_lines(Source("t.idx", text))
    assert [text[line.span.start : line.span.end] for line in lines] == ["z = 1"]
    assert [text[span.start : span.end] for span in dropped] == ["y = (a\n  + b"]
    assert [(p.code, p.span.start if p.span else None) for p in problems] == [("E006", 4)]


def test_an_unclosed_bracket_runs_to_the_end_of_the_file() -> None:
    _, dropped, problems = split_lines(Source("t.idx", "y = [a\n+ b\n"))
    assert len(dropped) == 1
    assert [p.code for p in problems] == ["E006"]


def test_brackets_nested_too_deep() -> None:
    text = (
        "y = " + "(" * (MAX_BRACKET_DEPTH + 1) + "a" + ")" * (MAX_BRACKET_DEPTH + 1) + "\nz = 1\n"
    )
    lines, dropped, problems = split_lines(Source("t.idx", text))
    assert [p.code for p in problems] == ["E011"]
    assert len(dropped) == 1
    assert [text[line.span.start : line.span.end] for line in lines] == ["z = 1"]


def test_a_statement_too_long() -> None:
    text = "y = " + "a + " * (MAX_STATEMENT_CHARS // 4) + "b\nz = 1\n"
    lines, dropped, problems = split_lines(Source("t.idx", text))
    assert [p.code for p in problems] == ["E012"]
    assert len(dropped) == 1
    assert len(lines) == 1


# ---- line ends: `\r\n`, `\n` and a lone `\r` (old Mac files) all end a line

_FILE = "# top\n\ndim n = 2\nparam a[n]  # note\ny[i] = (a[i]  # c\n    + a[i])\nL = y[i] b[i]\n"


def test_a_lone_carriage_return_ends_a_line() -> None:
    # A comment on the first line once swallowed the whole of a CR-only file.
    expected = [
        "dim n = 2",
        "param a[n]  # note",
        "y[i] = (a[i]  # c\r    + a[i])",
        "L = y[i] b[i]",
    ]
    assert texts(_FILE.replace("\n", "\r")) == expected


def test_every_line_end_gives_the_same_statements() -> None:
    unix = [text.replace("\n", " ") for text in texts(_FILE)]
    for end in ("\r\n", "\r"):
        assert [t.replace(end, " ") for t in texts(_FILE.replace("\n", end))] == unix


def test_mixed_line_ends_and_spans_point_at_the_statements() -> None:
    text = "dim n = 2\r\nparam a[n]\rL = a[i]\n  # end\r"
    lines, _, _ = split_lines(Source("t.idx", text))
    assert [(line.span.start, line.span.end) for line in lines] == [(0, 9), (11, 21), (22, 30)]
    assert [text[line.span.start : line.span.end] for line in lines] == [
        "dim n = 2",
        "param a[n]",
        "L = a[i]",
    ]


def test_unknown_name_after_a_comment_in_a_cr_only_file_is_found() -> None:
    from support import codes

    assert codes(_FILE.replace("\n", "\r")) == ["E101"]
    assert codes(_FILE.replace("\n", "\r\n")) == ["E101"]
    assert codes(_FILE) == ["E101"]


def test_lines_and_columns_in_a_cr_only_file() -> None:
    source = Source("t.idx", "a = 1\rb = 2\r\nc = 3\n")
    assert source.position(6) == (2, 1)
    assert source.position(13) == (3, 1)
    assert [source.line_text(k) for k in (1, 2, 3)] == ["a = 1", "b = 2", "c = 3"]
