"""The whole output of a run in one format, rendered safely.

The one door from the command line into `render`: it imports the renderer of
the chosen format only (rich's console and tables load for `text` alone), and
renders the whole document into a string before anything is written, so a
renderer that fails on one report never leaves half a document or a
traceback: that report is shown as an E999 "internal error" instead, as the
runner does when the analysis of a file fails.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from shapecheck.diagnostics import diagnostic

if TYPE_CHECKING:
    from shapecheck.pipeline import FileReport

Format = Literal["text", "json", "github", "junit"]
# The exit status of the reports as shown; the JSON document includes it.
StatusOf = Callable[[Sequence["FileReport"]], int]


def render(
    reports: Sequence[FileReport],
    output: Format,
    *,
    strict: bool,
    status_of: StatusOf,
    detailed: bool = False,
) -> tuple[str, int]:
    """The text to write to stdout, and the exit status of what it shows."""
    try:
        return _render(reports, output, strict, status_of, detailed)
    except Exception:  # a renderer bug must not reach the user as a traceback
        pass
    shown = [_renderable(r, output, strict, status_of, detailed) for r in reports]
    try:
        return _render(shown, output, strict, status_of, detailed)
    except Exception as error:  # even the E999 report failed: one plain line each
        return _last_resort(shown, error), status_of(shown)


def _renderable(
    report: FileReport, output: Format, strict: bool, status_of: StatusOf, detailed: bool
) -> FileReport:
    """The report itself if it renders alone, else an E999 report of its file."""
    try:
        _render([report], output, strict, status_of, detailed)
    except Exception as error:  # reported as E999, never raised
        return _internal_error(report, error)
    return report


def _internal_error(report: FileReport, error: Exception) -> FileReport:
    from shapecheck.pipeline import FileReport

    problem = diagnostic(
        "E999",
        None,
        f"internal error while rendering this file: {type(error).__name__}: {error}",
        hints=["this is a bug in shapecheck; please report it with the file"],
    )
    return FileReport(report.source, None, (problem,))


def _last_resort(reports: Sequence[FileReport], error: Exception) -> str:
    from shapecheck.render.escape import visible

    lines = [
        visible(
            f"{r.source.name}: error[E999]: internal error while rendering: "
            f"{type(error).__name__}: {error}",
            keep="",
        )
        for r in reports
    ]
    return "\n".join(lines) + "\n"


def _render(
    reports: Sequence[FileReport],
    output: Format,
    strict: bool,
    status_of: StatusOf,
    detailed: bool,
) -> tuple[str, int]:
    status = status_of(reports)
    if output == "json":
        from shapecheck.render import json

        return json.render(reports, strict=strict, exit_status=status) + "\n", status
    if output == "github":
        from shapecheck.render import github

        text = github.render(reports)
        return (text + "\n" if text else ""), status
    if output == "junit":
        from shapecheck.render import junit

        return junit.render(reports, strict=strict) + "\n", status
    return _text(reports, strict, detailed), status


def _text(reports: Sequence[FileReport], strict: bool, detailed: bool) -> str:
    from rich.console import Console

    from shapecheck.render import text

    # Off a terminal Rich would wrap at 80 columns; formulas read better
    # unbroken, so give them room. Markup and emoji codes are off: `[i,j]` in
    # a formula is notation, and `[bold]` or `:x:` in a file name is a name.
    console = Console(
        width=None if sys.stdout.isatty() else 160,
        no_color="NO_COLOR" in os.environ,
        markup=False,
        emoji=False,
        highlight=False,
    )
    # Captured, not written: the document is written whole or not at all.
    with console.capture() as captured:
        text.render(reports, console, strict=strict, detailed=detailed)
    return captured.get()
