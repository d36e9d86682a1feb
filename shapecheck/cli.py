"""The command line: `shapecheck check PATH...` and `shapecheck derive FILE`.

The only module that knows about exit statuses: 0 when every file is clean,
1 when any file has a problem (warnings too under --strict), 2 when the
command itself could not run (bad option, unreadable or empty path).
"""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from shapecheck import __version__
from shapecheck.check.checker import MAX_SIZE
from shapecheck.pipeline import (
    FileReport,
    Options,
    ValuesProblem,
    analyze_bytes,
    internal_error_report,
)

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
# The defaults of verify.py, repeated here so that `--help` needs no numpy;
# a test keeps the two in step.
DEFAULT_RTOL, DEFAULT_ATOL = 1e-5, 1e-8


class OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"


class Layout(str, enum.Enum):
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


class UsageProblem(Exception):
    """A problem with the command itself (exit status 2)."""


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


def collect_files(paths: list[Path]) -> list[Path]:
    """Files as given, and every `*.idx` below each folder, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.idx") if p.is_file())
            if not found:
                raise UsageProblem(f"no .idx files under {path}")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise UsageProblem(f"{path} is neither a file nor a folder")
        else:
            raise UsageProblem(f"{path}: no such file or folder")
    return files


def _analyze(files: list[Path], options: Options) -> list[FileReport]:
    reports = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise UsageProblem(f"cannot read {path}: {error.strerror or error}") from error
        try:
            reports.append(analyze_bytes(str(path), data, options))
        except ValuesProblem as problem:
            raise UsageProblem(str(problem)) from None
        except Exception as error:
            reports.append(internal_error_report(str(path), data, error))
    return reports


def _exit_status(reports: list[FileReport], strict: bool) -> int:
    failed = any(r.failed(strict) for r in reports)
    return EXIT_PROBLEMS if failed else EXIT_OK


def _emit(
    reports: list[FileReport], output: OutputFormat, strict: bool, status: int, detailed: bool
) -> None:
    if output is OutputFormat.json:
        from shapecheck.render import json as json_render

        print(json_render.render(reports, strict=strict, exit_status=status))
    elif output is OutputFormat.github:
        from shapecheck.render import github

        text = github.render(reports)
        if text:
            print(text)
    elif output is OutputFormat.junit:
        from shapecheck.render import junit

        print(junit.render(reports, strict=strict))
    else:
        from rich.console import Console

        from shapecheck.render import text as text_render

        # Off a terminal Rich would wrap at 80 columns; formulas read
        # better unbroken, so give them room.
        # Markup is off: `[i,j]` in a formula is notation, not a style tag.
        console = Console(
            width=None if sys.stdout.isatty() else 160,
            no_color="NO_COLOR" in os.environ,
            markup=False,
            highlight=False,
        )
        text_render.render(reports, console, strict=strict, detailed=detailed)


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
SizeOption = Annotated[
    list[str] | None,
    typer.Option("--size", help="Set a dim's size, e.g. --size n=4 (repeatable)."),
]
LayoutOption = Annotated[
    Layout | None,
    typer.Option(help="Layout for files without a `layout` statement (default numerator)."),
]
StrictOption = Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")]
SeedOption = Annotated[
    int, typer.Option("--seed", help="Seed of the random values (same seed, same numbers).")
]
AtOption = Annotated[
    Path | None,
    typer.Option("--at", help="Values of the declared arrays from an .npz file.", metavar="FILE"),
]
SaveOption = Annotated[
    Path | None,
    typer.Option("--save", help="Write values and derivatives to an .npz file.", metavar="FILE"),
]
NoVerifyOption = Annotated[bool, typer.Option("--no-verify", help="Skip the numeric checks.")]
RtolOption = Annotated[
    float, typer.Option("--rtol", min=0.0, help="Relative tolerance of numeric checks.")
]
AtolOption = Annotated[
    float, typer.Option("--atol", min=0.0, help="Absolute tolerance of numeric checks.")
]


def _run(
    paths: list[Path],
    output: OutputFormat,
    strict: bool,
    options: Options,
    *,
    detailed: bool = False,
) -> None:
    try:
        files = collect_files(paths)
        if (options.at or options.save) and len(files) != 1:
            raise UsageProblem("--at and --save need exactly one .idx file")
        reports = _analyze(files, options)
    except UsageProblem as problem:
        typer.echo(f"shapecheck: {problem}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    status = _exit_status(reports, strict)
    _emit(reports, output, strict, status, detailed)
    raise typer.Exit(status)


def _options(
    size: list[str] | None,
    layout: Layout | None,
    seed: int,
    at: Path | None,
    save: Path | None,
    no_verify: bool,
    rtol: float,
    atol: float,
    expand: bool = False,
) -> Options:
    if no_verify and (at or save):
        raise typer.BadParameter("--at and --save need the numeric checks (no --no-verify)")
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
    output: FormatOption = OutputFormat.text,
    size: SizeOption = None,
    layout: LayoutOption = None,
    strict: StrictOption = False,
    seed: SeedOption = 0,
    at: AtOption = None,
    save: SaveOption = None,
    no_verify: NoVerifyOption = False,
    rtol: RtolOption = DEFAULT_RTOL,
    atol: AtolOption = DEFAULT_ATOL,
) -> None:
    """Check files for CI: diagnostics, claim verdicts and numeric checks; exit 0, 1 or 2."""
    options = _options(size, layout, seed, at, save, no_verify, rtol, atol)
    _run(paths, output, strict, options)


@app.command()
def derive(
    file: Annotated[Path, typer.Argument(help="The .idx file.", metavar="FILE")],
    output: FormatOption = OutputFormat.text,
    size: SizeOption = None,
    layout: LayoutOption = None,
    strict: StrictOption = False,
    seed: SeedOption = 0,
    at: AtOption = None,
    save: SaveOption = None,
    no_verify: NoVerifyOption = False,
    rtol: RtolOption = DEFAULT_RTOL,
    atol: AtolOption = DEFAULT_ATOL,
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
