"""The text format laid out without Rich is byte for byte what Rich writes
unstyled (render/layout.py), and Rich lays out whatever it cannot match."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich._unicode_data import load
from rich._unicode_data._versions import VERSIONS
from rich.console import Console
from support import SAMPLES

from shapecheck.pipeline import FileReport, Options, analyze_path
from shapecheck.render import layout
from shapecheck.render import text as text_render
from shapecheck.render.output import RunContext


def _console(out: io.StringIO | None = None) -> Console:
    # As render.output makes it off a terminal.
    return Console(
        file=out, width=layout.WIDTH, no_color=True, markup=False, emoji=False, highlight=False
    )


def _by_rich(item: layout.Printable | None, soft_wrap: bool = False) -> str:
    out = io.StringIO()
    layout.RichPrinter(_console(out)).print(item, soft_wrap=soft_wrap)
    return out.getvalue()


def _by_layout(item: layout.Printable | None, soft_wrap: bool = False) -> str:
    printer = layout.PlainPrinter(_console)
    printer.print(item, soft_wrap=soft_wrap)
    return printer.text()


def _reports() -> list[FileReport]:
    paths = sorted(SAMPLES.rglob("*.idx"))
    assert len(paths) > 40
    return [analyze_path(path, Options(verify=False)) for path in paths]


@pytest.mark.parametrize("detailed", [False, True])
def test_every_sample_reads_the_same_laid_out_by_rich_or_without_it(detailed: bool) -> None:
    reports = _reports()
    context = RunContext(detailed=detailed)
    plain = layout.PlainPrinter(_console)
    text_render.render_run(reports, context, plain)
    out = io.StringIO()
    text_render.render_run(reports, context, layout.RichPrinter(_console(out)))
    assert plain.text() == out.getvalue()


def test_the_samples_tables_and_lines_are_mostly_laid_out_without_rich() -> None:
    laid_out: list[bool] = []

    class _Counting(layout.PlainPrinter):
        def print(self, item: layout.Printable | None = None, *, soft_wrap: bool = False) -> None:
            if item is not None:
                laid_out.append(layout._plain(item, soft_wrap) is not None)
            super().print(item, soft_wrap=soft_wrap)

    text_render.render_run(_reports(), RunContext(), _Counting(_console))
    assert laid_out.count(True) > 0.9 * len(laid_out)


def test_the_status_marks_are_one_cell_wide_in_every_unicode_version_rich_knows() -> None:
    for version in VERSIONS:
        table = load(version)
        for mark in layout.SINGLE_CELL_MARKS:
            code = ord(mark)
            widths = [width for start, end, width in table.widths if start <= code <= end]
            assert widths in ([], [1]), (version, mark)
            assert mark not in table.narrow_to_wide


# Cells and lines from characters that are one cell wide, or not (wide,
# zero-width, tabs, newlines, controls), with spaces at either end.
_SINGLE = list("ab xyz_0[],=+-*/()·Σ∂²ᵀ⊙√≤→✓✗\u00a0é")
_CHARACTERS = st.sampled_from([*_SINGLE, *"中\u0301\t\n\x1b\u200d"])
_CELLS = st.one_of(
    st.text(st.sampled_from(_SINGLE), max_size=12),
    st.text(st.sampled_from(_SINGLE), max_size=12),
    st.text(_CHARACTERS, max_size=12),
    st.text(st.sampled_from("ab "), max_size=170),
)


@st.composite
def _tables(draw: st.DrawFn) -> layout.Table:
    title = draw(st.sampled_from(["Arrays", "Derivatives (denominator layout)", "S"]))
    table = layout.Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    columns = draw(st.integers(1, 5))
    for _ in range(columns):
        justify = draw(st.sampled_from(["left", "right"]))
        no_wrap = draw(st.booleans())
        overflow = draw(st.sampled_from(["fold", "ellipsis"]))
        table.add_column(draw(_CELLS), justify=justify, no_wrap=no_wrap, overflow=overflow)
    for _ in range(draw(st.integers(0, 4))):
        table.add_row(*(draw(_CELLS) for _ in range(columns)))
    return table


@settings(max_examples=300, deadline=None)
@given(_tables())
def test_a_table_reads_the_same_laid_out_by_rich_or_without_it(table: layout.Table) -> None:
    assert _by_layout(table) == _by_rich(table)


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELLS, max_size=4), st.booleans(), st.sampled_from(["", "bold", "italic"]))
def test_a_line_reads_the_same_laid_out_by_rich_or_without_it(
    pieces: list[str], soft_wrap: bool, style: str
) -> None:
    shown = layout.Text(style=style)
    for piece in pieces:
        shown.append(piece, style="bold red")
    assert _by_layout(shown, soft_wrap) == _by_rich(shown, soft_wrap)
    assert _by_layout(shown.plain, soft_wrap) == _by_rich(shown.plain, soft_wrap)


def test_an_empty_print_is_an_empty_line() -> None:
    assert _by_layout(None) == _by_rich(None) == "\n"


# Variables Rich (or a terminal convention it may come to follow) reads to
# decide whether to style: each alone, then all of them but the two that
# make render/output.py hand everything to Rich.
_STYLING_ENVIRONMENT = [
    {"FORCE_COLOR": "1"},
    {"TTY_COMPATIBLE": "1"},
    {"TTY_INTERACTIVE": "1"},
    {"CLICOLOR_FORCE": "1"},
    {"CLICOLOR": "1"},
    {"COLORTERM": "truecolor"},
    {"TERM": "xterm-256color"},
    {"TERM_PROGRAM": "vscode"},
    {"JUPYTER_COLUMNS": "120", "JUPYTER_LINES": "40"},
    {"COLUMNS": "200", "LINES": "50"},
    {"PYCHARM_HOSTED": "1"},
    {"TERM": "dumb", "NO_COLOR": "1"},
]


@pytest.mark.parametrize(
    "environment",
    [
        *_STYLING_ENVIRONMENT,
        {
            k: v
            for e in _STYLING_ENVIRONMENT
            for k, v in e.items()
            if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")
        },
    ],
)
def test_where_the_layout_takes_over_rich_would_write_no_style(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # render/output.py keeps its own copy of Rich's decision (to lay out
    # without importing Rich); wherever that copy says "no styling", the
    # Console it would otherwise make must agree, so a reason Rich adds to
    # style shows up here rather than as a difference in a user's output.
    from rich.text import Text

    from shapecheck.render import output

    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    stdout = io.StringIO()
    monkeypatch.setattr("sys.stdout", stdout)
    context = RunContext()
    if output._terminal(context):
        return  # Rich lays it out, styles and all: nothing to agree on
    console = output._console(context)
    assert not console.is_terminal and console.color_system is None
    assert not console.is_jupyter and not console.legacy_windows
    console.print(Text("✓ styled", style="bold red"))
    assert stdout.getvalue() == "✓ styled\n"
