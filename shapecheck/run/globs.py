"""Whether a path matches `--exclude` or `exclude = [...]` globs.

One rule for both, as ruff's `exclude` reads: a glob without `/` matches any
one component of the path (a file's or a folder's name, so `drafts` leaves
out every folder called so); a glob with `/` matches the path relative to
where it was given (the searched folder, or the pyproject.toml's folder), or
any folder above the file on that path.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import PurePath


def excluded(relative: PurePath, globs: Sequence[str]) -> bool:
    """True when a glob matches `relative` or one of the folders it lies in."""
    parts = relative.parts
    for glob in globs:
        pattern = glob.strip("/")
        if "/" not in pattern:
            if any(fnmatchcase(part, pattern) for part in parts):
                return True
            continue
        for length in range(1, len(parts) + 1):
            if fnmatchcase("/".join(parts[:length]), pattern.removeprefix("./")):
                return True
    return False
