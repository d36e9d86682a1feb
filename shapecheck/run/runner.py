"""Analyse the files of one run, one after another, in the order given.

A file on which shapecheck itself fails becomes an E999 report, so one bad
file never hides the others' results; `--at` values that do not fit the file,
and a `--save` file that could not be written after all (the CLI checks the
path up front, but a disk can fill up), are problems with the command.
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
        except OSError as error:
            if _is_save_error(error, options):
                reason = error.strerror or str(error)
                raise UsageProblem(f"--save {options.save}: cannot write it: {reason}") from None
            reports.append(internal_error_report(str(path), data, error))
        except Exception as error:
            reports.append(internal_error_report(str(path), data, error))
    return reports


def _is_save_error(error: OSError, options: Options) -> bool:
    # numpy writes FILE.npz when FILE lacks the suffix: both names are the save's.
    return options.save is not None and str(error.filename or "").startswith(str(options.save))
