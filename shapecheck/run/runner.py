"""Analyse the files of one run, serially or in worker processes, in the order given.

Results come back in command-line order whatever order the workers finish
in, each as soon as it and every file before it are done, so output is the
same byte for byte for any `--jobs` and starts before the last file is
checked. A file on which shapecheck itself fails (or whose worker dies)
becomes an E999 report, so one bad file never hides the others' results;
`--at` values that do not fit the file, and a `--save` file that could not be
written after all (the CLI checks the path up front, but a disk can fill up),
are problems with the command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shapecheck.pipeline import (
    FileReport,
    Options,
    analyze_bytes,
    internal_error_report,
    unreadable_report,
)
from shapecheck.run.discover import Target, read_target
from shapecheck.run.suppress import apply_ignores
from shapecheck.run.usage import UsageProblem

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass

# multiprocessing and concurrent.futures load only for `--jobs` above one.
if TYPE_CHECKING:
    from concurrent.futures import Future
    from multiprocessing.context import BaseContext

# numpy's BLAS would start a thread per core in every worker: N workers on N
# cores would run N² threads. One worker, one thread; the pool is the parallelism.
_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Job:
    """One file of a run with the options its configuration and the command give it."""

    target: Target
    options: Options
    allow_ignore: bool = True


def analyze_job(job: Job) -> FileReport:
    """The report of one target; raises UsageProblem only for --at/--save problems."""
    target, options = job.target, job.options
    if target.problem is not None:
        return unreadable_report(target.name, target.problem)
    try:
        data = read_target(target)
    except OSError as error:
        return unreadable_report(target.name, f"cannot read it: {error.strerror or error}")
    try:
        report = analyze_bytes(target.name, data, options)
        return apply_ignores(report, allow_ignore=job.allow_ignore)
    except OSError as error:
        if _is_save_error(error, options):
            reason = error.strerror or str(error)
            raise UsageProblem(f"--save {options.save}: cannot write it: {reason}") from None
        return internal_error_report(target.name, data, error)
    except Exception as error:
        if _is_values_problem(error):
            raise UsageProblem(str(error)) from None
        return internal_error_report(target.name, data, error)


def _is_values_problem(error: Exception) -> bool:
    """`--at` values that do not fit the file (numeric.report's ValuesProblem).
    Only the numeric stage raises it, so when that stage was never imported
    the error is something else, and `check` need not import it to ask."""
    report = sys.modules.get("shapecheck.numeric.report")
    return report is not None and isinstance(error, report.ValuesProblem)


def run_jobs(
    jobs: Sequence[Job], workers: int = 1, on_done: Callable[[], None] | None = None
) -> Generator[FileReport, None, None]:
    """Each job's report in the order of `jobs`; `on_done` is called as each
    finishes, in any order (a progress bar)."""
    workers = max(1, min(workers, len(jobs)))
    if workers == 1:
        for job in jobs:
            report = analyze_job(job)
            if on_done is not None:
                on_done()
            yield report
        return
    yield from _in_workers(jobs, workers, on_done)


def _in_workers(
    jobs: Sequence[Job], workers: int, on_done: Callable[[], None] | None
) -> Iterator[FileReport]:
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=_start_method(), initializer=_start_worker
    )
    try:
        futures = [pool.submit(analyze_job, job) for job in jobs]
        if on_done is not None:
            for future in futures:
                future.add_done_callback(lambda _: on_done())
        for job, future in zip(jobs, futures, strict=True):
            yield _result(job, future)
    finally:
        # On a usage problem or an interrupt, files not yet started are dropped.
        pool.shutdown(wait=True, cancel_futures=True)


def _result(job: Job, future: Future[FileReport]) -> FileReport:
    try:
        return future.result()
    except UsageProblem:
        raise
    except Exception as error:  # the worker died (killed, out of memory)
        return internal_error_report(job.target.name, b"", error)


def _start_method() -> BaseContext:
    # fork starts a worker in milliseconds and shares the parent's hash seed;
    # spawn (Windows) re-imports shapecheck in each worker. The parent has
    # started no thread and imported no numpy when the workers are forked.
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _start_worker() -> None:
    """Before numpy loads in the worker: BLAS on one thread."""
    for name in _ONE_THREAD:
        os.environ[name] = "1"


def default_jobs() -> int:
    """--jobs default: one worker per core this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def analyze_files(files: list[Path], options: Options) -> list[FileReport]:
    """One report per file, in the order of `files` (serially; the API's door)."""
    jobs = [Job(Target(str(path), path), options) for path in files]
    return list(run_jobs(jobs))


def _is_save_error(error: OSError, options: Options) -> bool:
    # numpy writes FILE.npz when FILE lacks the suffix: both names are the save's.
    return options.save is not None and str(error.filename or "").startswith(str(options.save))
