"""The IPython extension: `%load_ext shapecheck`, then `%%shapecheck` cells.

A `%%shapecheck` cell holds `.idx` text; the magic checks it, derives its
derivatives, verifies them (unless `--no-verify`) and shows the result as
Markdown with math (`IPython.display.Markdown`), the same document as
`--format markdown`, with errors located in the cell (`cell:3:5: error[E201]`).
Options on the magic line, as on the command line:

    %%shapecheck --size n=4 --seed 1 --layout denominator --no-verify --expand

IPython is an optional extra (`pip install "shapecheck-idx[notebook]"`); it is
imported only inside these functions, so the command line never loads it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shapecheck.pipeline import FileReport, Options

CELL_NAME = "cell"


class MagicLineError(ValueError):
    """A magic line that cannot be read; shown as IPython's UsageError."""


@dataclass(frozen=True)
class MagicLine:
    """What the magic line asked for."""

    sizes: tuple[tuple[str, int], ...] = ()
    layout: str | None = None
    verify: bool = True
    seed: int = 0
    expand: bool = False


def _size(value: str) -> tuple[str, int]:
    name, _, number = value.partition("=")
    if not name.strip().isidentifier() or not number.strip().isdigit() or int(number) < 1:
        raise MagicLineError(f"expected NAME=NUMBER such as n=4 after --size, not {value!r}")
    return name.strip(), int(number)


def _layout(value: str) -> str:
    if value not in ("numerator", "denominator"):
        raise MagicLineError(f"--layout is numerator or denominator, not {value!r}")
    return value


def _seed(value: str) -> int:
    if not value.isdigit():
        raise MagicLineError(f"--seed takes a whole number, not {value!r}")
    return int(value)


_FLAGS = {"--no-verify": ("verify", False), "--expand": ("expand", True)}


def parse_line(line: str) -> MagicLine:
    """`--size n=4 --size d=3 --layout numerator --seed 1 --no-verify --expand`;
    `--size=n=4` spellings too."""
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise MagicLineError(str(error)) from None
    sizes: dict[str, int] = {}
    fields: dict[str, Any] = {}
    position = 0
    while position < len(words):
        word, _, attached = words[position].partition("=")
        position += 1
        if word in _FLAGS and not attached:
            key, value = _FLAGS[word]
            fields[key] = value
            continue
        if word not in ("--size", "--layout", "--seed"):
            raise MagicLineError(f"unknown option {words[position - 1]!r}")
        if not attached:
            if position == len(words):
                raise MagicLineError(f"{word} needs a value")
            attached = words[position]
            position += 1
        if word == "--size":
            name, number = _size(attached)
            sizes[name] = number
        elif word == "--layout":
            fields["layout"] = _layout(attached)
        else:
            fields["seed"] = _seed(attached)
    return MagicLine(sizes=tuple(sizes.items()), **fields)


def options(asked: MagicLine) -> Options:
    from shapecheck.pipeline import Options

    return Options(
        sizes=asked.sizes,
        layout=asked.layout,
        verify=asked.verify,
        seed=asked.seed,
        expand=asked.expand,
    )


def analyze_cell(line: str, cell: str) -> FileReport:
    """The cell's report, its diagnostics pointing into the cell (`cell:3:5`)."""
    from shapecheck.pipeline import analyze_source
    from shapecheck.source import Source

    return analyze_source(Source(CELL_NAME, cell), options(parse_line(line)))


def cell_markdown(line: str, cell: str) -> str:
    """The Markdown the magic shows: the `derive` document of the cell."""
    from shapecheck.pipeline import internal_error_report
    from shapecheck.render import markdown

    try:
        report = analyze_cell(line, cell)
        return markdown.render([report], strict=False, detailed=True)
    except MagicLineError:
        raise
    except Exception as error:  # shown as an E999 report in the cell, never a traceback
        failed = internal_error_report(CELL_NAME, cell.encode("utf-8", "replace"), error)
        return markdown.render([failed], strict=False)


def shapecheck_magic(line: str, cell: str) -> Any:
    """`%%shapecheck [options]`: check and derive the cell, shown as Markdown."""
    from IPython import display
    from IPython.core.error import UsageError

    try:
        text = cell_markdown(line, cell)
    except MagicLineError as error:
        raise UsageError(f"%%shapecheck: {error}") from None
    # IPython's display classes are untyped; called through Any so that mypy
    # is content with IPython installed or not.
    markdown: Any = display.Markdown
    return markdown(text)


def load_ipython_extension(ipython: Any) -> None:
    """Called by `%load_ext shapecheck`: registers the `%%shapecheck` cell magic."""
    ipython.register_magic_function(shapecheck_magic, magic_kind="cell", magic_name="shapecheck")
