"""The text format's lines and tables, laid out by Rich or, when Rich would
write them without styles, by this module without importing Rich.

`render.text` builds `Text` and `Table` (the few parts of Rich's classes of
those names that it uses) and prints them to a `Printer`. `RichPrinter`
hands them to a Rich console: on a terminal, in a notebook, for a caller's
console. `PlainPrinter` serves the common case of a pipe, a CI log or a
report file: Rich writes no styles there (no colour, no bold), and loading
rich.console and rich.table was a fifth of `check` on a small file. It lays
out exactly what Rich would (a table whose every cell fits, in single-cell
characters), and hands anything else to Rich, so the bytes are Rich's either
way (tests/render/test_layout.py compares the two).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import Console

# The width `render.output` gives Rich off a terminal, and Rich's tab size.
WIDTH = 160
_TAB_SIZE = 8
# Characters one cell wide for Rich in every Unicode version it knows: its
# own fast-path ranges, and the marks of the status line (a test checks them
# against Rich's tables); any other character is measured by rich.cells.
_SINGLE_CELL_RANGES = ((0x20, 0x7E), (0xA0, 0xAC), (0xAE, 0x2FF), (0x370, 0x482), (0x2500, 0x25FC))
SINGLE_CELL_MARKS = frozenset("✓✗")
# The characters of Rich's HEAVY_HEAD box without its edges (show_edge=False).
_HEAD_BAR, _HEAD_RULE, _HEAD_CROSS, _BODY_BAR = "┃", "━", "╇", "│"


class Text:
    """Rich's `Text`: pieces of text, each with a style name."""

    def __init__(self, text: str = "", style: str = "") -> None:
        self.parts: list[tuple[str, str]] = []
        self.style = style
        if text:
            self.append(text)

    def append(self, text: str, style: str = "") -> None:
        self.parts.append((text, style))

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.parts)


class Table:
    """Rich's `Table` as the text format makes them: a left-justified title,
    no outer edge, no padding at the outer edge, a header row."""

    def __init__(self, *, title: str, title_justify: str, show_edge: bool, pad_edge: bool) -> None:
        assert (title_justify, show_edge, pad_edge) == ("left", False, False)
        self.title = title
        self.columns: list[dict[str, Any]] = []
        self.rows: list[tuple[str, ...]] = []

    def add_column(self, header: str, **options: Any) -> None:
        self.columns.append({"header": header, **options})

    def add_row(self, *cells: str) -> None:
        self.rows.append(cells)


Printable = Text | Table | str


class Printer(Protocol):
    def print(self, item: Printable | None = None, *, soft_wrap: bool = False) -> None: ...


class RichPrinter:
    """Prints to a Rich console: Rich lays out and styles everything."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def print(self, item: Printable | None = None, *, soft_wrap: bool = False) -> None:
        if item is None:
            self.console.print()
        else:
            self.console.print(_to_rich(item), soft_wrap=soft_wrap, highlight=False)


def _to_rich(item: Printable) -> Any:
    from rich.table import Table as RichTable
    from rich.text import Text as RichText

    if isinstance(item, str):
        return item
    if isinstance(item, Text):
        shown = RichText(style=item.style)
        for text, style in item.parts:
            shown.append(text, style=style)
        return shown
    table = RichTable(title=item.title, title_justify="left", show_edge=False, pad_edge=False)
    for column in item.columns:
        table.add_column(**column)
    for row in item.rows:
        table.add_row(*row)
    return table


class PlainPrinter:
    """Collects what Rich would write without styles at WIDTH columns;
    `rich_console` makes the console for what only Rich can lay out."""

    def __init__(self, rich_console: Callable[[], Console]) -> None:
        self._rich_console = rich_console
        self._pieces: list[str] = []

    def print(self, item: Printable | None = None, *, soft_wrap: bool = False) -> None:
        shown = "" if item is None else _plain(item, soft_wrap)
        if shown is None:
            console = self._rich_console()
            with console.capture() as captured:
                RichPrinter(console).print(item, soft_wrap=soft_wrap)
            shown = captured.get()
        else:
            shown += "\n"
        self._pieces.append(shown)

    def text(self) -> str:
        return "".join(self._pieces)


def _plain(item: Printable, soft_wrap: bool) -> str | None:
    """The item as Rich writes it unstyled, without its newline; None when
    it is not one this module lays out exactly as Rich does."""
    if isinstance(item, Table):
        return _table(item)
    text = item if isinstance(item, str) else item.plain
    lines = text.split("\n")
    # Soft-wrapped lines are written as they are, but for their tabs; any
    # other line is Rich's as it is if it fits.
    if not all(_simple(line) for line in lines):
        return None
    return text if soft_wrap or max(map(len, lines)) <= WIDTH else None


def _simple(text: str) -> bool:
    """Every character printable and one cell wide for Rich (so that `len`
    is the width Rich gives the text)."""
    return all(_single_cell(c) for c in set(text))


def _single_cell(character: str) -> bool:
    code = ord(character)
    if any(low <= code <= high for low, high in _SINGLE_CELL_RANGES):
        return True
    if character in SINGLE_CELL_MARKS:
        return True
    if not character.isprintable():
        return False
    # Loaded only for a character outside the ranges: about 2 ms.
    from rich.cells import get_character_cell_size

    return get_character_cell_size(character) == 1


def _table(table: Table) -> str | None:
    grid = [tuple(c["header"] for c in table.columns), *table.rows]
    justify = [c.get("justify", "left") for c in table.columns]
    if not _plain_cells(grid, justify):
        return None
    last = len(table.columns) - 1
    # pad_edge=False: no padding left of the first column, right of the last.
    pads = [(index > 0, index < last) for index in range(last + 1)]
    widths = [max(len(row[i]) for row in grid) + sum(pads[i]) for i in range(last + 1)]
    if sum(widths) + last > WIDTH or len(table.title) > sum(widths) + last:
        return None  # Rich would wrap something
    columns = list(zip(justify, widths, pads, strict=True))
    rule = _HEAD_CROSS.join(_HEAD_RULE * width for width in widths)
    lines = [table.title.ljust(len(rule)), _row(grid[0], columns, _HEAD_BAR), rule]
    lines += [_row(row, columns, _BODY_BAR) for row in grid[1:]]
    return "\n".join(lines)


def _plain_cells(grid: list[tuple[str, ...]], justify: list[str]) -> bool:
    if not all(_simple(cell) for row in grid for cell in row):
        return False
    # Rich strips the end of a right-justified cell.
    right = [i for i, how in enumerate(justify) if how == "right"]
    return all(row[i] == row[i].rstrip() for row in grid for i in right)


def _row(row: tuple[str, ...], columns: list[tuple[str, int, tuple[bool, bool]]], bar: str) -> str:
    cells = []
    for cell, (justify, width, (left, right)) in zip(row, columns, strict=True):
        inner = width - left - right
        text = cell.rjust(inner) if justify == "right" else cell.ljust(inner)
        cells.append(" " * left + text + " " * right)
    return bar.join(cells)
