"""The `--at` and `--save` files, checked before any `.idx` file is analysed.

A path that cannot be read or written is a problem with the command (exit
2), said in one line up front, not an internal error after the analysis.
Whether the `--at` values fit the file is the numeric stage's question; here
only whether the file is a readable `.npz` at all. numpy is imported only
when `--at` is given.
"""

from __future__ import annotations

import os
from pathlib import Path

from shapecheck.run.usage import UsageProblem


def check_save_path(path: Path) -> None:
    """`--save FILE`: not a folder, in an existing folder we may write in."""
    if path.is_dir():
        raise UsageProblem(f"--save {path}: is a folder, not a file")
    folder = path.parent
    if not folder.exists():
        raise UsageProblem(f"--save {path}: folder {folder} does not exist")
    if not folder.is_dir():
        raise UsageProblem(f"--save {path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageProblem(f"--save {path}: cannot write in folder {folder}")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageProblem(f"--save {path}: the file exists and cannot be overwritten")


def check_at_file(path: Path) -> None:
    """`--at FILE`: an existing, readable, well-formed `.npz` archive of numeric arrays."""
    if not path.exists():
        raise UsageProblem(f"--at {path}: no such file")
    if path.is_dir():
        raise UsageProblem(f"--at {path}: is a folder, not an .npz file")
    if not os.access(path, os.R_OK):
        raise UsageProblem(f"--at {path}: cannot read the file")
    reason = _npz_problem(path)
    if reason is not None:
        raise UsageProblem(f"--at {path}: not a valid .npz file ({reason})")


def _npz_problem(path: Path) -> str | None:
    """Why the file is not a readable .npz archive, or None when it is. Every
    array is read, so that a truncated or corrupt member shows up here."""
    import numpy as np

    try:
        with open(path, "rb") as handle:
            # A zip starts with a member, or with the end record if it is empty.
            if handle.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
                return "it is not a zip archive"
        with np.load(path, allow_pickle=False) as archive:
            for name in archive.files:
                # Reading a member decompresses it and checks its CRC; numpy
                # hands back raw bytes for a member that is not an .npy array.
                if not isinstance(archive[name], np.ndarray):
                    return f"member {name!r} is not an array"
    # Corrupt archives raise anything from zipfile.BadZipFile to EOFError.
    except Exception as error:
        return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return None
