"""The command line: `shapecheck check PATH...` and `shapecheck derive FILE`.

The only module that knows about exit statuses: 0 when every file is clean,
1 when any file has a problem (warnings too under --strict; a path that
cannot be read is an E020 problem of that path), 2 when the command itself
could not run (bad option or configuration, a folder without `.idx` files).
Finding, reading and analysing the files (in worker processes under
`--jobs`) is `shapecheck.run`'s job; turning reports into text is
`shapecheck.render`'s. This module writes: each file's result as soon as it
and the files before it are done, then the closing summary or the whole
document, then each `--report` file whole.

Start-up matters (CI runs it on every file): the pipeline is imported only
when a command runs, not for `--help`; the renderer only for the chosen
format; numpy only when something is verified (or `--at` is given).
"""

# No `from __future__ import annotations`: typer reads every command's
# annotations on each run, and a string annotation is compiled each time
# (about half of building the command line); the few names known only to
# type checkers are quoted instead.
import enum
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shapecheck import __version__
from shapecheck.collector import collections_skipped_at_exit, collector_paused_for_command
from shapecheck.run.usage import UsageProblem

if TYPE_CHECKING:
    from dataclasses import dataclass

    from shapecheck.pipeline import FileReport, Options
    from shapecheck.run.config import Config
    from shapecheck.run.plan import Given
    from shapecheck.run.reportfiles import ReportFile
    from shapecheck.run.runner import Job
else:  # built on first use (deferred.py): `--help` builds neither class
    from shapecheck.deferred import dataclass

_EXIT_OK, _EXIT_PROBLEMS, _EXIT_USAGE = 0, 1, 2
# The defaults of verify.py and the checker's largest size, repeated here so
# that `--help` needs neither numpy nor the pipeline; a test keeps them in step.
DEFAULT_RTOL, DEFAULT_ATOL = 1e-5, 1e-8
MAX_SIZE = 2**31 - 1


class _OutputFormat(str, enum.Enum):
    # The keys of render.output.FORMATS, repeated so that `--help` imports no
    # renderer registry; a test keeps the two in step.
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"
    sarif = "sarif"
    codequality = "codequality"
    jsonl = "jsonl"
    gradescope = "gradescope"
    markdown = "markdown"
    latex = "latex"


class _Emit(str, enum.Enum):
    # The keys of render.output.EMITTERS.
    numpy = "numpy"


class _ExplainFormat(str, enum.Enum):
    # render.explain.FORMATS, repeated so that `--help` imports no renderer.
    text = "text"
    json = "json"
    markdown = "markdown"


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


def _exit_status(reports: Sequence["FileReport"], strict: bool) -> int:
    failed = any(r.failed(strict) for r in reports)
    return _EXIT_PROBLEMS if failed else _EXIT_OK


@dataclass(frozen=True)
class _Output:
    """Where a run's results go."""

    output: str  # --format, to standard output
    reports: "tuple[ReportFile, ...]" = ()  # --report FORMAT=FILE
    strict: bool = False
    quiet: bool = False
    detailed: bool = False
    jobs: int = 1
    fragment: bool = False  # --fragment: LaTeX without its preamble


@dataclass(frozen=True)
class _Discovery:
    """How folders named on the command line are searched."""

    exclude: tuple[str, ...] = ()
    stdin_name: str | None = None


def _write(text: str) -> None:
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()


def _emit(jobs: "list[Job]", configs: "dict[str, Config]", out: _Output) -> int:
    """Run the jobs and write every output; the exit status of what was written."""
    from shapecheck.render import output as document
    from shapecheck.run.reportfiles import write_whole
    from shapecheck.run.runner import run_jobs

    context = document.RunContext(
        strict=out.strict,
        detailed=out.detailed,
        quiet=out.quiet,
        fragment=out.fragment,
        configs=configs,
    )
    streamed = document.streams(out.output)
    shown: list[FileReport] = []
    with (
        _progress(len(jobs), streamed) as advance,
        closing(run_jobs(jobs, out.jobs, advance)) as results,
    ):
        for report in results:
            if streamed:
                text, report = document.render_part(report, out.output, context)
                _write(text)
            shown.append(report)

    def status_of(reports: Sequence["FileReport"]) -> int:
        return _exit_status(reports, out.strict)

    status = status_of(shown)
    if streamed:
        _write(document.render_closing(shown, out.output, replace(context, exit_status=status)))
    else:
        text, status = document.render_document(shown, out.output, context, status_of)
        _write(text)
    to_file = replace(context, to_file=True, quiet=False)
    for target in out.reports:
        text, written = document.render_document(shown, target.output, to_file, status_of)
        write_whole(target.path, text)
        status = max(status, written)
    return status


@contextmanager
def _progress(total: int, streamed: bool) -> Iterator[Callable[[], None] | None]:
    """A progress bar on standard error, on a terminal only (never in a CI
    log), and not over results streaming to the same terminal."""
    if total < 2 or not sys.stderr.isatty() or (streamed and sys.stdout.isatty()):
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))
    # The bar is started after the first file is submitted: with the fork
    # start method the workers must be forked before Rich's refresh thread starts.
    with Progress(console=console, transient=True, redirect_stdout=False) as bar:
        task = bar.add_task("checking", total=total)
        yield lambda: bar.advance(task)


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
_StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict/--no-strict", help="Warnings fail too (exit 1); overrides `strict` of pyproject."
    ),
]
_SeedOption = Annotated[
    int,
    typer.Option("--seed", min=0, help="Seed of the random values (same seed, same numbers)."),
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
_FragmentOption = Annotated[
    bool,
    typer.Option("--fragment", help="With --format latex: the body only, to \\input into notes."),
]
_RtolOption = Annotated[
    float, typer.Option("--rtol", min=0.0, help="Relative tolerance of numeric checks.")
]
_AtolOption = Annotated[
    float, typer.Option("--atol", min=0.0, help="Absolute tolerance of numeric checks.")
]


def _run(
    paths: list[Path],
    out: _Output,
    options: "Options",
    given: "Given",
    discovery: _Discovery,
) -> None:
    from shapecheck.run.config import ConfigFinder
    from shapecheck.run.discover import collect_targets
    from shapecheck.run.plan import plan_jobs

    try:
        finder = ConfigFinder()
        targets = collect_targets(
            paths,
            exclude=discovery.exclude,
            stdin_name=discovery.stdin_name,
            config_excludes=finder.excludes,
        )
        if (options.at or options.save) and len(targets) != 1:
            raise UsageProblem("--at and --save need exactly one .idx file")
        jobs, configs = plan_jobs(targets, options, given, finder)
        status = _emit(jobs, configs, out)
    except UsageProblem as problem:
        raise _usage_error(problem) from None
    raise typer.Exit(status)


def _given(context: typer.Context) -> "Given":
    """Which options the command line set, so that they override the configuration."""
    from shapecheck.run.plan import Given

    def named(name: str) -> bool:
        # typer vendors click from 0.28: compared by name, not by class.
        source = context.get_parameter_source(name)
        return source is not None and source.name == "COMMANDLINE"

    return Given(
        rtol=named("rtol"),
        atol=named("atol"),
        seed=named("seed"),
        strict=named("strict"),
        layout=named("layout"),
    )


def _report_files(values: list[str] | None) -> "tuple[ReportFile, ...]":
    from shapecheck.render.output import FORMATS
    from shapecheck.run.reportfiles import parse_reports

    try:
        return parse_reports(values or [], FORMATS)
    except UsageProblem as problem:
        raise _usage_error(problem) from None


def _options(
    size: list[str] | None,
    layout: _Layout | None,
    seed: int,
    at: Path | None,
    save: Path | None,
    no_verify: bool,
    rtol: float,
    atol: float,
    strict: bool,
    expand: bool = False,
) -> "Options":
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
        strict=strict,
    )


@app.command()
def check(
    context: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files, or folders to search for *.idx; - reads standard input.",
            metavar="PATH...",
        ),
    ],
    output: _FormatOption = _OutputFormat.text,
    report: Annotated[
        list[str] | None,
        typer.Option(
            "--report",
            help="Also write the results in FORMAT to FILE, e.g. junit=report.xml (repeatable).",
            metavar="FORMAT=FILE",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only problems and the summary.")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", min=1, help="Worker processes (default: one per core; 1 is serial)."
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            help="Leave out files and folders matching GLOB when searching folders (repeatable).",
            metavar="GLOB",
        ),
    ] = None,
    stdin_filename: Annotated[
        str | None,
        typer.Option("--stdin-filename", help="The name standard input (-) is reported under."),
    ] = None,
    size: _SizeOption = None,
    layout: _LayoutOption = None,
    strict: _StrictOption = False,
    seed: _SeedOption = 0,
    at: _AtOption = None,
    save: _SaveOption = None,
    no_verify: _NoVerifyOption = False,
    rtol: _RtolOption = DEFAULT_RTOL,
    atol: _AtolOption = DEFAULT_ATOL,
    fragment: _FragmentOption = False,
) -> None:
    """Check files for CI: diagnostics, claim verdicts and numeric checks; exit 0, 1 or 2."""
    from shapecheck.run.runner import default_jobs

    options = _options(size, layout, seed, at, save, no_verify, rtol, atol, strict)
    out = _Output(
        output.value,
        _report_files(report),
        strict=strict,
        quiet=quiet,
        jobs=jobs or default_jobs(),
        fragment=fragment,
    )
    discovery = _Discovery(tuple(exclude or ()), stdin_filename)
    _run(paths, out, options, _given(context), discovery)


@app.command()
def derive(
    context: typer.Context,
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
    fragment: _FragmentOption = False,
    emit: Annotated[
        _Emit | None,
        typer.Option(
            "--emit",
            help="Write code instead of a report: numpy (a module with forward and backward).",
            case_sensitive=False,
        ),
    ] = None,
) -> None:
    """Derive the file's derivatives: signature, shape, formula, adjoints, numpy code, checks."""
    if file.is_dir():
        message = f"derive takes one file; {file} is a folder (check it with `shapecheck check`)"
        raise _usage_error(UsageProblem(message))
    options = _options(size, layout, seed, at, save, no_verify, rtol, atol, strict, expand)
    chosen = emit.value if emit is not None else output.value
    out = _Output(chosen, strict=strict, detailed=True, fragment=fragment)
    _run([file], out, options, _given(context), _Discovery())


@app.command()
def explain(
    file: Annotated[Path, typer.Argument(help="The .idx file.", metavar="FILE")],
    derivative: Annotated[
        str, typer.Argument(help="The derivative to explain, e.g. dL/dW.", metavar="dA/dB")
    ],
    output: Annotated[
        _ExplainFormat,
        typer.Option("--format", "-f", help="Output format.", case_sensitive=False),
    ] = _ExplainFormat.text,
    size: _SizeOption = None,
    layout: _LayoutOption = None,
    max_steps: Annotated[
        int, typer.Option("--max-steps", min=1, help="Show at most this many steps.")
    ] = 500,
) -> None:
    """Explain one derivative step by step: chain rule, local rules, each rewrite."""
    from shapecheck import explain as explaining
    from shapecheck.render.explain import render

    options = _options(size, layout, 0, None, None, False, DEFAULT_RTOL, DEFAULT_ATOL, False)
    try:
        of, wrt, order = explaining.parse_target(derivative)
        result = explaining.explain(file, of, wrt, options, limit=max_steps, order=order)
    except explaining.UnknownDerivative as problem:
        raise _usage_error(UsageProblem(str(problem))) from None
    except OSError as error:
        raise _usage_error(UsageProblem(f"cannot read {file}: {error.strerror or error}")) from None
    _write(render(result, output.value))
    raise typer.Exit(_EXIT_OK if isinstance(result, explaining.Explanation) else _EXIT_PROBLEMS)


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
    # The cyclic collector stays paused for the whole command (collector.py):
    # its passes over the modules a run loads were about a tenth of the
    # start-up of `check`, and a run makes little cyclic garbage (all 70
    # samples checked and verified leave about 2,000 unreachable objects).
    # The exit's collections over the same modules are skipped too: `main`
    # is the entry point, after it the process ends.
    collections_skipped_at_exit()
    with collector_paused_for_command():
        try:
            app()
        except KeyboardInterrupt:
            sys.exit(130)
