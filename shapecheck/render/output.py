"""The output of a run in each format, rendered safely: the formats' registry.

The one door from the command line into `render`. `FORMATS` maps a format
name to its renderer module, imported only when that format is asked for
(rich's console and tables load for `text` alone). A renderer module offers

    render_run(reports, context: RunContext) -> str      the whole document
    render_file(report, context) -> str                   optional: one file's part
    render_closing(reports, context) -> str               optional: what ends the run

and a format with `render_file` is written file by file as results arrive
(text, github); the others are written whole at the end (json, junit). The
modules that predate this contract are reached through `_ADAPTERS`.

Everything is rendered into a string before it is written, so a renderer
that fails on one report never leaves half a document or a traceback: that
report is shown as an E999 "internal error" instead, as the runner does when
the analysis of a file fails.
"""

from __future__ import annotations

import builtins
import importlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import field, replace
from types import ModuleType
from typing import TYPE_CHECKING

from shapecheck.diagnostics import Code, diagnostic
from shapecheck.render.layout import WIDTH

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass

if TYPE_CHECKING:
    from rich.console import Console

    from shapecheck.pipeline import FileReport
    from shapecheck.render.layout import Printer
    from shapecheck.run.config import Config

Format = str  # a key of FORMATS
# The exit status of the reports as shown; the JSON document includes it.
StatusOf = Callable[[Sequence["FileReport"]], int]
# Format name -> renderer module. A new format is a module and a line here.
FORMATS: dict[str, str] = {
    "text": "shapecheck.render.text",
    "json": "shapecheck.render.json",
    "github": "shapecheck.render.github",
    "junit": "shapecheck.render.junit",
    "sarif": "shapecheck.render.sarif",
    "codequality": "shapecheck.render.codequality",
    "jsonl": "shapecheck.render.jsonl",
    "gradescope": "shapecheck.render.gradescope",
    "markdown": "shapecheck.render.markdown",
    "latex": "shapecheck.render.latex",
}
# Formats of one file's derivation only (`derive --emit numpy`), not of a run.
EMITTERS: dict[str, str] = {
    "numpy": "shapecheck.render.numpy_module",
}


@dataclass(frozen=True)
class RunContext:
    """What a renderer may need beyond the reports."""

    strict: bool = False  # --strict (a file's own `strict` is in its report)
    exit_status: int = 0  # of the whole run; known when the last file is done
    detailed: bool = False  # the derive command: adjoints and numpy code too
    quiet: bool = False  # --quiet: problems and the summary only
    to_file: bool = False  # a --report file: never colour, whatever the terminal
    fragment: bool = False  # --fragment: LaTeX without its preamble
    # The configuration of each file by report name (grading keys: points,
    # required-claims); absent for a file with none.
    configs: Mapping[str, Config] = field(default_factory=dict)


# --- the formats that predate render_run -------------------------------------


def _json(module: ModuleType, reports: Sequence[FileReport], context: RunContext) -> str:
    return (
        str(module.render(reports, strict=context.strict, exit_status=context.exit_status)) + "\n"
    )


def _github(module: ModuleType, reports: Sequence[FileReport], context: RunContext) -> str:
    text = str(module.render(reports))
    return text + "\n" if text else ""


def _junit(module: ModuleType, reports: Sequence[FileReport], context: RunContext) -> str:
    return str(module.render(reports, strict=context.strict)) + "\n"


_Whole = Callable[[ModuleType, Sequence["FileReport"], RunContext], str]
_ADAPTERS: dict[str, _Whole] = {"json": _json, "github": _github, "junit": _junit}
# github lines of a run are the lines of each file in turn, so it can stream.
_STREAMED_ADAPTERS = frozenset({"github"})


def _module(output: str) -> ModuleType:
    return importlib.import_module({**FORMATS, **EMITTERS}[output])


def _whole(output: str, reports: Sequence[FileReport], context: RunContext) -> str:
    module = _module(output)
    if output == "text":
        return _captured(context, lambda console: module.render_run(reports, context, console))
    if hasattr(module, "render_run"):
        return str(module.render_run(reports, context))
    return _ADAPTERS[output](module, reports, context)


def streams(output: str) -> bool:
    """Whether the format is written file by file as results arrive."""
    return output in _STREAMED_ADAPTERS or hasattr(_module(output), "render_file")


def _part(output: str, report: FileReport, context: RunContext) -> str:
    module = _module(output)
    if output == "text":
        return _captured(context, lambda console: module.render_file(report, context, console))
    if output in _STREAMED_ADAPTERS:
        return _ADAPTERS[output](module, [report], context)
    return str(module.render_file(report, context))


def _closing(output: str, reports: Sequence[FileReport], context: RunContext) -> str:
    module = _module(output)
    if output == "text":
        return _captured(context, lambda console: module.render_closing(reports, context, console))
    closing = getattr(module, "render_closing", None)
    return str(closing(reports, context)) if closing is not None else ""


def _captured(context: RunContext, draw: Callable[[Printer], None]) -> str:
    from shapecheck.render.layout import PlainPrinter, RichPrinter

    if not _terminal(context):
        # What Rich would write unstyled, mostly without loading Rich (layout.py).
        plain = PlainPrinter(lambda: _console(context))
        draw(plain)
        return plain.text()
    console = _console(context)
    # Captured, not written: each part is written whole or not at all.
    with console.capture() as captured:
        draw(RichPrinter(console))
    return captured.get()


def _terminal(context: RunContext) -> bool:
    """Whether Rich might style the text: a terminal, or said to be one, or
    a notebook, or an encoding Rich draws ASCII tables for (Console's own
    tests, as conservatively as it makes them: unsure is Rich)."""
    if context.to_file:
        terminal = False
    else:
        forced = {"TTY_COMPATIBLE", "FORCE_COLOR"} & os.environ.keys()
        terminal = bool(forced) or sys.stdout.isatty()
    encoding = (getattr(sys.stdout, "encoding", "utf-8") or "utf-8").lower()
    notebook = "get_ipython" in dir(builtins) or "idlelib" in sys.modules
    return terminal or notebook or sys.platform == "win32" or not encoding.startswith("utf")


def _console(context: RunContext) -> Console:
    from rich.console import Console

    # Off a terminal Rich would wrap at 80 columns; formulas read better
    # unbroken, so give them room. Markup and emoji codes are off: `[i,j]` in
    # a formula is notation, and `[bold]` or `:x:` in a file name is a name.
    # NO_COLOR counts when set and not empty (no-color.org).
    terminal = not context.to_file and sys.stdout.isatty()
    return Console(
        width=None if terminal else WIDTH,
        force_terminal=False if context.to_file else None,
        no_color=context.to_file or bool(os.environ.get("NO_COLOR")),
        markup=False,
        emoji=False,
        highlight=False,
    )


# --- rendering safely ---------------------------------------------------------


def render(
    reports: Sequence[FileReport],
    output: Format,
    *,
    strict: bool,
    status_of: StatusOf,
    detailed: bool = False,
) -> tuple[str, int]:
    """The whole document to write, and the exit status of what it shows
    (one-shot use; the command line streams with `render_part`)."""
    return render_document(reports, output, RunContext(strict=strict, detailed=detailed), status_of)


def render_document(
    reports: Sequence[FileReport], output: Format, context: RunContext, status_of: StatusOf
) -> tuple[str, int]:
    """The whole document of a run in one format, and the exit status of what
    it shows (an E999 report stands for a report its renderer failed on)."""
    status = status_of(reports)
    try:
        return _whole(output, reports, replace(context, exit_status=status)), status
    except Exception:  # a renderer bug must not reach the user as a traceback
        pass
    shown = [_renderable(r, output, context) for r in reports]
    status = status_of(shown)
    try:
        return _whole(output, shown, replace(context, exit_status=status)), status
    except Exception as error:  # even the E999 report failed: one plain line each
        return _last_resort(shown, error), status


def render_part(report: FileReport, output: str, context: RunContext) -> tuple[str, FileReport]:
    """One file's part of a streamed format, and the report as shown (an
    E999 report instead when its renderer failed)."""
    try:
        return _part(output, report, context), report
    except Exception as error:  # reported as E999, never raised
        shown = _internal_error(report, error)
    try:
        return _part(output, shown, context), shown
    except Exception as error:
        return _last_resort([shown], error), shown


def render_closing(reports: Sequence[FileReport], output: str, context: RunContext) -> str:
    """What ends a streamed format (the text summary table)."""
    try:
        return _closing(output, reports, context)
    except Exception as error:  # the files were written; say the summary failed
        return _last_resort(reports[:1], error) if reports else ""


def _renderable(report: FileReport, output: str, context: RunContext) -> FileReport:
    """The report itself if it renders alone, else an E999 report of its file."""
    try:
        _whole(output, [report], context)
    except Exception as error:  # reported as E999, never raised
        return _internal_error(report, error)
    return report


def _internal_error(report: FileReport, error: Exception) -> FileReport:
    problem = diagnostic(
        Code.E999,
        None,
        f"internal error while rendering this file: {type(error).__name__}: {error}",
        hints=["this is a bug in shapecheck; please report it with the file"],
    )
    return replace(
        report, checked=None, diagnostics=(problem,), derivatives=(), claims=(), verification=None
    )


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
