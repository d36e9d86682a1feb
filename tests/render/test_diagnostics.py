"""Diagnostics as plain text: the snippet under the headline, ruff and rustc style."""

from __future__ import annotations

from shapecheck.diagnostics import Label, diagnostic
from shapecheck.render.diagnostics import location, notes, render_plain, snippet
from shapecheck.source import Source, Span

TEXT = "dim n\nY[i, k] = X[i, j] W[j, k]\n"
SOURCE = Source("m.idx", TEXT)
ROW = TEXT.index("Y")


def _at(text: str, width: int | None = None) -> Span:
    """The span of `text` (or of its first `width` characters) on line 2."""
    start = TEXT.index(text, ROW)
    return Span(start, start + (len(text) if width is None else width))


def test_headline_names_file_line_column_severity_and_code() -> None:
    problem = diagnostic("E201", _at("j]", 1), "index `j` has two sizes")
    assert location(SOURCE, problem) == "m.idx:2:16"
    assert render_plain(SOURCE, problem).splitlines()[0] == (
        "m.idx:2:16: error[E201]: index `j` has two sizes"
    )


def test_two_labels_on_a_line_put_the_rightmost_message_beside_the_carets() -> None:
    first, second = _at("j]", 1), _at("j,", 1)
    problem = diagnostic(
        "E201",
        first,
        "index `j` has two sizes",
        labels=[Label(first, "`j` is d here"), Label(second, "`j` is h here")],
    )
    assert snippet(SOURCE, problem) == [
        "  2 | Y[i, k] = X[i, j] W[j, k]",
        "    |                ^    ^ `j` is h here",
        "    |                `j` is d here",
    ]


def test_the_main_span_is_marked_even_without_a_label() -> None:
    problem = diagnostic("E201", _at("W[j, k]"), "message")
    assert snippet(SOURCE, problem)[1] == "    |                   ^^^^^^^"


def test_a_span_over_several_lines_is_marked_to_the_end_of_its_first() -> None:
    problem = diagnostic("E201", Span(TEXT.index("n"), ROW + 3), "message")
    assert snippet(SOURCE, problem) == ["  1 | dim n", "    |     ^"]


def test_a_very_long_line_is_clipped_around_its_first_label() -> None:
    text = "y = " + "a + " * 100 + "b\n"
    source = Source("long.idx", text)
    start = text.index("b")
    shown = snippet(source, diagnostic("E201", Span(start, start + 1), "here"))
    assert shown[0].startswith("  1 | …") and shown[0].endswith("…")
    assert len(shown[0]) < 160
    assert shown[1].index("^") == shown[0].index("b")


def test_no_snippet_without_a_span_or_a_text() -> None:
    assert snippet(SOURCE, diagnostic("W105", None, "empty")) == []
    assert snippet(Source("e.idx", ""), diagnostic("E201", Span(0, 0), "message")) == []


def test_notes_give_the_context_then_each_hint() -> None:
    problem = diagnostic(
        "E201", None, "message", hints=["one", "two"], context="in `for t in 1..3`"
    )
    assert notes(problem, gutter=2) == [
        "   = note: in `for t in 1..3`",
        "   = help: one",
        "   = help: two",
    ]
