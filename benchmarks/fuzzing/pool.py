"""Worker processes that run cases in-process, each killed if it overruns its time.

A worker is a forked process that keeps shapecheck imported and runs one case
at a time, so that a case costs only its own work; the parent sends it one
case, waits on its pipe until that case's deadline, and on a timeout kills
exactly that process (SIGKILL by its own handle) and forks a fresh one. A
worker that dies (a segfault, the memory limit) is a crash of its case.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from benchmarks.fuzzing.cases import Case
from benchmarks.fuzzing.classify import CRASH, HANG, Finding, classify

MEMORY_LIMIT = 3 * 2**30  # per worker: a runaway input must not take the machine


@dataclass(frozen=True)
class Result:
    case: Case
    findings: list[Finding]
    notes: list[str]  # not failures: what the generator should know (E401 on mutants...)
    seconds: float


def _notes(case: Case, diagnostics: list[tuple[str, str]]) -> list[str]:
    errors = sorted({code for code, _ in diagnostics if code.startswith("E")})
    if case.valid and errors:
        return [f"valid program with {', '.join(errors)}"]
    if not case.valid and "E401" in errors:
        return ["E401 on a mutated input"]
    return []


def _serve(connection: Connection) -> None:
    os.environ["NO_COLOR"] = "1"
    os.environ.pop("FORCE_COLOR", None)
    # numpy's overflow warnings are the tool's business (E403), not the log's.
    warnings.simplefilter("ignore")
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    from benchmarks.fuzzing.oracle import run_case

    while True:
        try:
            case = connection.recv()
        except EOFError:
            return
        if case is None:
            return
        outcome = run_case(case)
        findings = classify(case.data, case.valid, outcome)
        connection.send((findings, _notes(case, outcome.diagnostics), outcome.seconds))


def preload() -> None:
    """Import the tool before forking, so that a replacement worker starts at once."""
    import numpy  # noqa: F401
    from typer.testing import CliRunner  # noqa: F401

    from shapecheck import cli, pipeline  # noqa: F401
    from shapecheck.render import json, junit, text  # noqa: F401


class _Worker:
    def __init__(self, context: Any) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.case: Case | None = None
        self.started = 0.0

    def send(self, case: Case) -> None:
        self.case, self.started = case, time.monotonic()
        self.connection.send(case)

    def stop(self) -> None:
        self.process.kill()
        self.process.join()
        self.connection.close()


def _received(worker: _Worker) -> Result:
    assert worker.case is not None
    seconds = time.monotonic() - worker.started
    try:
        findings, notes, seconds = worker.connection.recv()
    except (EOFError, OSError):
        worker.process.join()
        cause = f"worker process died (exit status {worker.process.exitcode})"
        return Result(worker.case, [Finding(CRASH, cause, worker.case.recipe)], [], seconds)
    return Result(worker.case, findings, notes, seconds)


def _hang(worker: _Worker, timeout: float) -> Result:
    assert worker.case is not None
    finding = Finding(HANG, f"over {timeout:g} s", f"{worker.case.origin}: {worker.case.recipe}")
    return Result(worker.case, [finding], [], timeout)


def _finished(slots: list[_Worker], active: list[int], timeout: float) -> list[tuple[int, Result]]:
    """Wait until some busy worker answers or overruns; what each of those produced."""
    deadline = min(slots[n].started for n in active) + timeout
    ready = wait([slots[n].connection for n in active], max(0.0, deadline - time.monotonic()))
    finished = []
    for n in active:
        worker = slots[n]
        if worker.connection in ready:
            finished.append((n, _received(worker)))
        elif time.monotonic() - worker.started >= timeout:
            finished.append((n, _hang(worker, timeout)))
    return finished


def run(cases: Iterable[Case], jobs: int, timeout: float) -> Iterator[Result]:
    """Results in completion order; hung or dead workers are replaced."""
    # One BLAS thread per worker: --jobs already uses every core.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    preload()
    context = multiprocessing.get_context("fork")
    pending = iter(cases)
    slots = [_Worker(context) for _ in range(jobs)]
    active = [n for n, worker in enumerate(slots) if _feed(worker, pending)]
    try:
        while active:
            for n, result in _finished(slots, active, timeout):
                yield result
                hung = any(f.kind == HANG for f in result.findings)
                if hung or not slots[n].process.is_alive():
                    slots[n].stop()
                    slots[n] = _Worker(context)
                if not _feed(slots[n], pending):
                    active.remove(n)
    finally:
        for worker in slots:
            worker.stop()


def _feed(worker: _Worker, pending: Iterator[Case]) -> bool:
    case = next(pending, None)
    if case is None:
        worker.case = None
        return False
    worker.send(case)
    return True
