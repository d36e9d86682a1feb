"""Which files a `check PATH...` means, and reading them.

Nothing is lost: every path named on the command line is checked, and one
that cannot be read (missing, a folder's FIFO, a symbolic link loop, no
permission) becomes a `Target` with a `problem`, reported as an E020
diagnostic of that path, never dropped and never the end of the run. A
folder stands for every `*.idx` file below it, walked in sorted order so that
runs (and their output) are repeatable, leaving out `.git`, `.venv`,
`node_modules`, `__pycache__`, what git ignores, and `--exclude` globs. Each
file is checked once, under the first spelling that named it.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from shapecheck.run.gitignored import ignored
from shapecheck.run.globs import excluded
from shapecheck.run.usage import UsageProblem

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass

# Never student files, and often huge: not searched unless named.
SKIPPED_FOLDERS = frozenset({".git", ".venv", "node_modules", "__pycache__"})
STDIN = "-"


@dataclass(frozen=True)
class Target:
    """One thing to report on: a file, standard input, or a path that cannot be read."""

    name: str  # as it is reported
    path: Path | None = None  # None for standard input
    data: bytes | None = None  # standard input, read once up front
    problem: str | None = None  # why it cannot be read (an E020 diagnostic)


@dataclass(frozen=True)
class _Walk:
    """One named folder being searched."""

    root: Path
    exclude: tuple[str, ...]


def collect_targets(
    paths: Sequence[Path],
    *,
    exclude: Sequence[str] = (),
    stdin_name: str | None = None,
    config_excludes: Callable[[Path], bool] = lambda path: False,
) -> list[Target]:
    """Every target of a run, in command-line order, each once.

    `config_excludes` says whether a file found in a folder is left out by its
    configuration's `exclude`; a path named on the command line is always
    checked, and so is every file in a named folder that its own
    configuration leaves out.
    """
    targets: list[Target] = []
    seen: set[str] = set()

    def add(target: Target) -> None:
        key = _identity(target)
        if key not in seen:
            seen.add(key)
            targets.append(target)

    for path in paths:
        if str(path) == STDIN:
            add(Target(stdin_name or STDIN, None, _read_stdin()))
        elif path.is_dir():
            found = _search(_Walk(path, tuple(exclude)))
            # A folder named on the command line is checked even where its own
            # configuration leaves it out (`check samples/course/mistakes`).
            if not config_excludes(path):
                found = [t for t in found if t.path is None or not config_excludes(t.path)]
            if not found:
                raise UsageProblem(f"no .idx files under {path}")
            for target in found:
                add(target)
        else:
            add(_named(path))
    return targets


def _identity(target: Target) -> str:
    """The same file named twice, or named and found in a named folder, is one."""
    if target.path is None:
        return STDIN
    try:
        return str(target.path.resolve(strict=False))
    except (OSError, RuntimeError):  # a symbolic link loop
        return os.path.abspath(target.path)


def _read_stdin() -> bytes:
    try:
        return sys.stdin.buffer.read()
    except (OSError, AttributeError, ValueError) as error:
        raise UsageProblem(f"cannot read standard input: {error}") from None


def _named(path: Path) -> Target:
    """A path named on the command line: a file, or a problem of that path."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        return Target(str(path), path, problem=_stat_problem(path, error))
    if stat.S_ISREG(mode):
        return Target(str(path), path)
    return Target(str(path), path, problem=_not_regular(mode))


def _stat_problem(path: Path, error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "a symbolic link loop: it leads back to itself"
    if error.errno == errno.ENOENT:
        return "a broken symbolic link" if path.is_symlink() else "no such file or folder"
    return f"cannot read it: {error.strerror or error}"


def _not_regular(mode: int) -> str:
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    # Reading a FIFO would wait for a writer forever; the file is reported instead.
    return f"not a regular file ({kind}): not read"


def _search(walk: _Walk) -> list[Target]:
    found: list[Target] = []
    _walk_folder(walk, walk.root, frozenset({_real(walk.root)}), found)
    relative = [_relative(walk, t.path) for t in found if t.path is not None]
    dropped = ignored(walk.root, relative)
    return [t for t in found if t.path is None or _relative(walk, t.path) not in dropped]


def _relative(walk: _Walk, path: Path) -> PurePosixPath:
    return PurePosixPath(path.relative_to(walk.root).as_posix())


def _real(path: Path) -> str:
    return os.path.realpath(path)


def _walk_folder(walk: _Walk, folder: Path, ancestors: frozenset[str], found: list[Target]) -> None:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as error:
        found.append(
            Target(str(folder), folder, problem=f"cannot list this folder: {error.strerror}")
        )
        return
    for entry in entries:
        path = folder / entry.name
        if excluded(_relative(walk, path), walk.exclude):
            continue
        _visit(walk, path, entry, ancestors, found)


def _visit(
    walk: _Walk, path: Path, entry: os.DirEntry[str], ancestors: frozenset[str], found: list[Target]
) -> None:
    is_idx = entry.name.endswith(".idx")
    try:
        mode = os.stat(path).st_mode  # follows symbolic links
    except OSError as error:
        # A loop is reported whatever its name: it is impossible to tell what
        # it was meant to be; a broken link only when it looks like a file of ours.
        if error.errno == errno.ELOOP or is_idx:
            found.append(Target(str(path), path, problem=_stat_problem(path, error)))
        return
    if stat.S_ISDIR(mode):
        if entry.name in SKIPPED_FOLDERS:
            return
        real = _real(path)
        if real in ancestors:
            problem = "a symbolic link loop: it leads back to a folder being searched"
            found.append(Target(str(path), path, problem=problem))
            return
        _walk_folder(walk, path, ancestors | {real}, found)
    elif is_idx:
        regular = stat.S_ISREG(mode)
        found.append(Target(str(path), path, problem=None if regular else _not_regular(mode)))


def read_target(target: Target) -> bytes:
    """The target's bytes; raises OSError when it cannot be read after all.

    Opened without blocking and checked to be a regular file from the open
    descriptor, so a FIFO swapped in after the search cannot hang the run.
    """
    if target.data is not None:
        return target.data
    assert target.path is not None
    descriptor = os.open(target.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OSError(errno.EINVAL, "not a regular file")
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read()


def read_file(path: Path) -> bytes:
    """The file's bytes (for `derive`, which takes one file); a usage problem if unreadable."""
    try:
        return read_target(Target(str(path), path))
    except OSError as error:
        raise UsageProblem(f"cannot read {path}: {error.strerror or error}") from error
