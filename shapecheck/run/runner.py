"""Analyse the files of one run, one after another, in the order given.

A file on which shapecheck itself fails becomes an E999 report, so one bad
file never hides the others' results; `--at` values that do not fit the file
are a problem with the command.
"""

from __future__ import annotations

from pathlib import Path

from shapecheck.pipeline import (
    FileReport,
    Options,
    ValuesProblem,
    analyze_bytes,
    internal_error_report,
)
from shapecheck.run.discover import read_file
from shapecheck.run.usage import UsageProblem


def analyze_files(files: list[Path], options: Options) -> list[FileReport]:
    """One report per file, in the order of `files`."""
    reports = []
    for path in files:
        data = read_file(path)
        try:
            reports.append(analyze_bytes(str(path), data, options))
        except ValuesProblem as problem:
            raise UsageProblem(str(problem)) from None
        except Exception as error:
            reports.append(internal_error_report(str(path), data, error))
    return reports
