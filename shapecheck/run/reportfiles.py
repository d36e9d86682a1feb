"""`--report FORMAT=FILE`: report files written whole, or not at all.

One run writes the log to standard output and, say, JUnit for the CI
dashboard. Each file is written to a temporary file in its own folder and
renamed over the target, so a run that fails or is interrupted never leaves a
half file for the CI to read (a rename within a folder is atomic). Paths are
checked before any `.idx` file is analysed: one that cannot work is a problem
with the command (exit 2), said up front.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shapecheck.run.usage import UsageProblem
from shapecheck.run.valuefiles import check_save_path

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass


@dataclass(frozen=True)
class ReportFile:
    """One `--report FORMAT=FILE`."""

    output: str  # a format name
    path: Path


def parse_reports(values: Sequence[str], formats: Collection[str]) -> tuple[ReportFile, ...]:
    """`FORMAT=FILE` values, each path once and writable."""
    reports: list[ReportFile] = []
    for value in values:
        output, equals, name = value.partition("=")
        output = output.strip().lower()
        if not equals or not name:
            raise UsageProblem(f"--report {value}: expected FORMAT=FILE such as junit=report.xml")
        if output not in formats:
            raise UsageProblem(
                f"--report {value}: unknown format {output!r} (one of {', '.join(formats)})"
            )
        path = Path(name)
        if any(r.path == path for r in reports):
            raise UsageProblem(f"--report {value}: {path} is named twice")
        try:
            check_save_path(path)
        except UsageProblem as problem:
            raise UsageProblem(str(problem).replace("--save", "--report", 1)) from None
        reports.append(ReportFile(output, path))
    return tuple(reports)


def write_whole(path: Path, text: str) -> None:
    """Write `text` to `path` atomically; raises UsageProblem when it cannot."""
    import tempfile  # only with --report: tempfile loads `random`

    folder = path.parent if str(path.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file 0600; a report is as readable as any file the user writes.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except OSError as error:
        _remove(temporary)
        raise UsageProblem(f"--report {path}: cannot write it: {error.strerror or error}") from None
    except BaseException:
        _remove(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)
