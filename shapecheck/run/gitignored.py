"""Which of the files found in a folder git ignores.

A course's repository ignores build output, editor backups and a virtual
environment's copies; checking those would report files nobody wrote. git
itself answers when the folder is in a git work tree and git is installed
(`git check-ignore --stdin`, so nested `.gitignore` files, `.git/info/exclude`
and the global excludes all count, and tracked files are never ignored);
otherwise the `.gitignore` files from the searched folder down are read with
pathspec. A path named on the command line is never asked about.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

# git answers in well under a second for thousands of paths; a hung git
# (a credential prompt, a locked network file system) must not hang CI.
_GIT_TIMEOUT = 30.0


def ignored(folder: Path, relative: Sequence[PurePosixPath]) -> set[PurePosixPath]:
    """The paths (relative to `folder`) that git ignores."""
    if not relative:
        return set()
    answer = _ask_git(folder, relative)
    return answer if answer is not None else _read_gitignores(folder, relative)


def _ask_git(folder: Path, relative: Sequence[PurePosixPath]) -> set[PurePosixPath] | None:
    """git's answer, or None when git cannot give one (no git, not a work tree,
    a path beyond a symbolic link)."""
    git = shutil.which("git")
    if git is None:
        return None
    # File names are bytes to git: undecodable names go through unchanged.
    query = b"".join(os.fsencode(p.as_posix()) + b"\0" for p in relative)
    try:
        done = subprocess.run(
            [git, "check-ignore", "-z", "--stdin"],
            input=query,
            cwd=folder,
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    # 0: some are ignored, 1: none is; anything else is git failing.
    if done.returncode not in (0, 1):
        return None
    names = done.stdout.split(b"\0")
    return {PurePosixPath(os.fsdecode(name)) for name in names if name}


def _read_gitignores(folder: Path, relative: Sequence[PurePosixPath]) -> set[PurePosixPath]:
    """The `.gitignore` files from `folder` down, deeper ones deciding last,
    as git applies them."""
    import pathspec

    specs: dict[PurePosixPath, pathspec.GitIgnoreSpec | None] = {}

    def spec_of(where: PurePosixPath) -> pathspec.GitIgnoreSpec | None:
        if where not in specs:
            try:
                lines = (folder / where / ".gitignore").read_text(errors="replace").splitlines()
            except OSError:
                specs[where] = None
            else:
                specs[where] = pathspec.GitIgnoreSpec.from_lines(lines)
        return specs[where]

    found = set()
    for path in relative:
        verdict: bool | None = None
        for depth in range(len(path.parts)):
            base = PurePosixPath(*path.parts[:depth])
            spec = spec_of(base)
            if spec is None:
                continue
            result = spec.check_file(PurePosixPath(*path.parts[depth:]).as_posix())
            if result.include is not None:
                verdict = result.include
        if verdict:
            found.add(path)
    return found
