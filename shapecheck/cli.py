"""The command line: `shapecheck check PATH...` and `shapecheck derive FILE`.

The only module that knows about exit statuses: 0 when every file is clean,
1 when any file has a problem (warnings too under --strict), 2 when the
command itself could not run (bad option, unreadable or empty path).
Finding and reading the files is `shapecheck.run`'s job; turning reports
into text is `shapecheck.render`'s.

Start-up matters (CI runs it on every file): the pipeline is imported only
when a command runs, not for `--help`; the renderer only for the chosen
format; numpy only when something is verified (or `--at` is given).
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shapecheck import __version__
from shapecheck.run.usage import UsageProblem

if TYPE_CHECKING:
    from shapecheck.pipeline import FileReport, Options

_EXIT_OK, _EXIT_PROBLEMS, _EXIT_USAGE = 0, 1, 2
# The defaults of verify.py and the checker's largest size, repeated here so
# that `--help` needs neither numpy nor the pipeline; a test keeps them in step.
DEFAULT_RTOL, DEFAULT_ATOL = 1e-5, 1e-8
MAX_SIZE = 2**31 - 1


class _OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"


class _Layout(str, enum.Enum):
    numerator = "numerator"
    denominator = "denominator"


app = typer.Typer(
    name="shapecheck",
    help="Check index-notation shapes, derive gradients and verify them numerically.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _parse_sizes(values: list[str] | None) -> tuple[tuple[str, int], ...]:
    sizes: dict[str, int] = {}
    for value in values or []:
        name, _, number = value.partition("=")
        name = name.strip()
        if not name.isidentifier() or not number.strip().isdigit():
            raise typer.BadParameter(
                f"expected NAME=NUMBER such as n=4, not {value!r}", param_hint="--size"
            )
        size = int(number)
        if not 1 <= size <= MAX_SIZE:
            raise typer.BadParameter(
                f"{name}={size} is out of range 1..{MAX_SIZE}", param_hint="--size"
            )
        sizes[name] = size
    return tuple(sizes.items())


def _exit_status(reports: Sequence[FileReport], strict: bool) -> int:
    failed = any(r.failed(strict) for r in reports)
    return _EXIT_PROBLEMS if failed else _EXIT_OK


def _emit(reports: list[FileReport], output: _OutputFormat, strict: bool, detailed: bool) -> int:
    """Write the whole output; the exit status of what was written."""
    from shapecheck.render import output as document

    text, status = document.render(
        reports,
        output.value,
        strict=strict,
        status_of=lambda shown: _exit_status(shown, strict),
        detailed=detailed,
    )
    sys.stdout.write(text)
    sys.stdout.flush()
    return status


def _usage_error(problem: UsageProblem) -> typer.Exit:
    from shapecheck.render.escape import visible

    typer.echo(f"shapecheck: {visible(str(problem), keep='')}", err=True)
    return typer.Exit(_EXIT_USAGE)


_FormatOption = Annotated[
    _OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
_SizeOption = Annotated[
    list[str] | None,
    typer.Option("--size", help="Set a dim's size, e.g. --size n=4 (repeatable)."),
]
_LayoutOption = Annotated[
    _Layout | None,
    typer.Option(help="Layout for files without a `layout` statement (default numerator)."),
]
_StrictOption = Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")]
_SeedOption = Annotated[
    int, typer.Option("--seed", help="Seed of the random values (same seed, same numbers).")
]
_AtOption = Annotated[
    Path | None,
    typer.Option("--at", help="Values of the declared arrays from an .npz file.", metavar="FILE"),
]
_SaveOption = Annotated[
    Path | None,
    typer.Option("--save", help="Write values and derivatives to an .npz file.", metavar="FILE"),
]
_NoVerifyOption = Annotated[bool, typer.Option("--no-verify", help="Skip the numeric checks.")]
_RtolOption = Annotated[
    float, typer.Option("--rtol", min=0.0, help="Relative tolerance of numeric checks.")
]
_AtolOption = Annotated[
    float, typer.Option("--atol", min=0.0, help="Absolute tolerance of numeric checks.")
]


def _run(
    paths: list[Path],
    output: _OutputFormat,
    strict: bool,
    options: Options,
    *,
    detailed: bool = False,
) -> None:
    from shapecheck.run.discover import collect_files
    from shapecheck.run.runner import analyze_files

    try:
        files = collect_files(paths)
        if (options.at or options.save) and len(files) != 1:
            raise UsageProblem("--at and --save need exactly one .idx file")
        reports = analyze_files(files, options)
    except UsageProblem as problem:
        raise _usage_error(problem) from None
    raise typer.Exit(_emit(reports, output, strict, detailed))


def _options(
    size: list[str] | None,
    layout: _Layout | None,
    seed: int,
    at: Path | None,
    save: Path | None,
    no_verify: bool,
    rtol: float,
    atol: float,
    expand: bool = False,
) -> Options:
    from shapecheck.pipeline import Options
    from shapecheck.run.valuefiles import check_at_file, check_save_path

    if no_verify and (at or save):
        raise typer.BadParameter("--at and --save need the numeric checks (no --no-verify)")
    try:
        # Before any file is read: a path that cannot work is the command's problem.
        if save is not None:
            check_save_path(save)
        if at is not None:
            check_at_file(at)
    except UsageProblem as problem:
        raise _usage_error(problem) from None
    return Options(
        sizes=_parse_sizes(size),
        layout=layout.value if layout else None,
        expand=expand,
        verify=not no_verify,
        seed=seed,
        rtol=rtol,
        atol=atol,
        at=at,
        save=save,
    )


@app.command()
def check(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files, or folders to search for *.idx.", metavar="PATH..."),
    ],
    output: _FormatOption = _OutputFormat.text,
    size: _SizeOption = None,
    layout: _LayoutOption = None,
    strict: _StrictOption = False,
    seed: _SeedOption = 0,
    at: _AtOption = None,
    save: _SaveOption = None,
    no_verify: _NoVerifyOption = False,
    rtol: _RtolOption = DEFAULT_RTOL,
    atol: _AtolOption = DEFAULT_ATOL,
) -> None:
    """Check files for CI: diagnostics, claim verdicts and numeric checks; exit 0, 1 or 2."""
    options = _options(size, layout, seed, at, save, no_verify, rtol, atol)
    _run(paths, output, strict, options)


@app.command()
def derive(
    file: Annotated[Path, typer.Argument(help="The .idx file.", metavar="FILE")],
    output: _FormatOption = _OutputFormat.text,
    size: _SizeOption = None,
    layout: _LayoutOption = None,
    strict: _StrictOption = False,
    seed: _SeedOption = 0,
    at: _AtOption = None,
    save: _SaveOption = None,
    no_verify: _NoVerifyOption = False,
    rtol: _RtolOption = DEFAULT_RTOL,
    atol: _AtolOption = DEFAULT_ATOL,
    expand: Annotated[
        bool, typer.Option("--expand", help="Inline every adjoint into one formula.")
    ] = False,
) -> None:
    """Derive the file's derivatives: signature, shape, formula, adjoints, numpy code, checks."""
    options = _options(size, layout, seed, at, save, no_verify, rtol, atol, expand)
    _run([file], output, strict, options, detailed=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shapecheck {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Check index-notation shapes, derive gradients and verify them numerically."""


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
