"""Where a diagnostic is, as CI formats want it: 1-based lines and columns in
characters (code points), end column exclusive, and the file as a relative
path with forward slashes.

Shared by the SARIF, Code Quality, JUnit and GitHub renderers, so that every
format puts a problem at the same place as the text output does.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from shapecheck.diagnostics import Diagnostic
from shapecheck.render.escape import visible
from shapecheck.source import Source, Span

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass


@dataclass(frozen=True)
class Place:
    """A region of a file: 1-based, columns in characters, `end_column` just
    past the last character (as SARIF's `endColumn` and GitHub's `endColumn`)."""

    line: int
    column: int
    end_line: int
    end_column: int


def span_place(source: Source, span: Span) -> Place:
    line, column = source.position(span.start)
    end_line, end_column = source.position(span.end)
    return Place(line, column, end_line, end_column)


def diagnostic_place(source: Source, problem: Diagnostic) -> Place | None:
    """None for a problem of the whole file (an empty file, an internal error)."""
    if problem.span is not None:
        return span_place(source, problem.span)
    if problem.position is not None:
        # No text to hold a span (an invalid byte): the one character there.
        line, column = problem.position
        return Place(line, column, line, column + 1)
    return None


def first_line(source: Source, problem: Diagnostic) -> int:
    """The line a format that must name one shows; a file-level problem is on
    line 1 (SARIF for GitHub and GitLab's Code Quality both require a line)."""
    place = diagnostic_place(source, problem)
    return place.line if place is not None else 1


def relative_path(name: str) -> str:
    """The file as a path relative to the working folder (the repository root
    in CI) with forward slashes; a path outside it stays absolute."""
    path = PurePath(name)
    if path.is_absolute():
        try:
            here = Path.cwd()
        except OSError:  # the working folder was removed: nothing to be relative to
            here = None
        if here is not None and path.is_relative_to(here):
            path = path.relative_to(here)
    text = path.as_posix()
    return text.removeprefix("./")


def path_bytes(path: str) -> bytes:
    """The path's bytes as the file system knows them: a byte that was not
    UTF-8 comes back from `surrogateescape`; any other lone surrogate cannot
    name a file and is spelled out by `visible`."""
    try:
        return os.fsencode(path)
    except UnicodeEncodeError:
        return visible(path, keep="").encode("utf-8")


def fingerprint(*parts: str) -> str:
    """A stable hash of the parts (no separator can be forged: each part is
    length-prefixed)."""
    # Imported here: hashlib loads OpenSSL (3 ms), which only the formats
    # with fingerprints need, not `--format github`.
    import hashlib

    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(f"{len(data)}:".encode())
        digest.update(data)
    return digest.hexdigest()
