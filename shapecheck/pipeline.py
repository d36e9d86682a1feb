"""Run the stages on one file and collect what each produced.

read -> parse -> unroll -> check (and, in later stages, derive and verify).
Each stage returns its result and its diagnostics; this module only threads
them together into a `FileReport` for the renderers. It never prints and
never decides an exit status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shapecheck.check import check
from shapecheck.checked import CheckedProgram
from shapecheck.diagnostics import Diagnostic, Severity, diagnostic
from shapecheck.parse import parse
from shapecheck.source import Source, Span
from shapecheck.unroll import unroll


@dataclass(frozen=True)
class Options:
    """What the command line asked for; the same for every file of a run."""

    sizes: tuple[tuple[str, int], ...] = ()
    layout: str | None = None


@dataclass(frozen=True)
class FileReport:
    source: Source
    checked: CheckedProgram | None
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)


def decode(name: str, data: bytes) -> tuple[Source, list[Diagnostic]]:
    """Bytes to a Source; undecodable or binary input is an E001 diagnostic."""
    if b"\x00" in data:
        return Source(name, ""), [diagnostic("E001", None, "this is a binary file, not .idx text")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        prefix = data[: error.start].decode("utf-8", errors="replace")
        line = prefix.count("\n") + 1
        column = len(prefix) - (prefix.rfind("\n") + 1) + 1
        return Source(name, ""), [
            diagnostic(
                "E001",
                None,
                f"byte {error.start} (line {line}, column {column}) is not valid UTF-8",
                hints=["save the file as UTF-8"],
            )
        ]
    return Source(name, text.removeprefix("\ufeff")), []


def analyze_source(source: Source, options: Options) -> FileReport:
    program, problems = parse(source)
    sizes = dict(options.sizes)
    unrolled, unroll_problems = unroll(program, sizes)
    problems.extend(unroll_problems)
    checked, check_problems = check(unrolled, sizes, options.layout)
    problems.extend(check_problems)
    if not source.text.strip() and not problems:
        problems.append(diagnostic("W105", None, "the file is empty: nothing to check"))
    problems.sort(key=lambda d: (d.span.start if d.span else -1, d.code))
    return FileReport(source, checked, tuple(problems))


def analyze_bytes(name: str, data: bytes, options: Options) -> FileReport:
    source, problems = decode(name, data)
    if problems:
        return FileReport(source, None, tuple(problems))
    return analyze_source(source, options)


def analyze_path(path: Path, options: Options) -> FileReport:
    """Raises OSError when the file cannot be read: a problem with the command."""
    return analyze_bytes(str(path), path.read_bytes(), options)


__all__ = ["FileReport", "Options", "Span", "analyze_bytes", "analyze_path", "analyze_source"]
