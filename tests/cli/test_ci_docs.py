"""The CI recipes of docs/ci.md run as written on samples/ and exit as documented."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

DOC = ROOT / "docs" / "ci.md"
# `run: shapecheck ...  # exit N` (GitHub) and `- shapecheck ...  # exit N` (GitLab).
_COMMAND = re.compile(r"^\s*(?:- run:|-)\s+(shapecheck .+?)\s+# exit (\d)$", re.MULTILINE)


def _recipes() -> list[tuple[str, int]]:
    return [(m.group(1), int(m.group(2))) for m in _COMMAND.finditer(DOC.read_text())]


def test_each_recipe_has_a_command() -> None:
    commands = [command for command, _ in _recipes()]
    assert len(commands) == 2
    assert all("--report junit=" in c for c in commands)
    assert "--format github" in commands[0]


@pytest.mark.parametrize(("command", "status"), _recipes())
def test_a_recipe_runs_on_the_samples(tmp_path: Path, command: str, status: int) -> None:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    argv = shlex.split(command)
    result = subprocess.run(
        [sys.executable, "-m", "shapecheck", *argv[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == status, result.stderr
    report = next(a.split("=", 1)[1] for a in argv if a.startswith("junit="))
    assert (tmp_path / report).read_text().startswith("<?xml")
