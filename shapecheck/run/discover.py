"""Which files a `check PATH...` means, and reading them.

A file is taken as given, whatever its name; a folder stands for every
`*.idx` file below it, sorted so that runs (and their output) are repeatable.
"""

from __future__ import annotations

from pathlib import Path

from shapecheck.run.usage import UsageProblem


def collect_files(paths: list[Path]) -> list[Path]:
    """Files as given, and every `*.idx` below each folder, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.idx") if p.is_file())
            if not found:
                raise UsageProblem(f"no .idx files under {path}")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            raise UsageProblem(f"{path} is neither a file nor a folder")
        else:
            raise UsageProblem(f"{path}: no such file or folder")
    return files


def read_file(path: Path) -> bytes:
    """The file's bytes; decoding them is the pipeline's job (it words E001)."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise UsageProblem(f"cannot read {path}: {error.strerror or error}") from error
