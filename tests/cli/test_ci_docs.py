"""The recipes of docs/ci.md run as written on samples/ and exit as documented.

Each `shapecheck` line of a YAML recipe (`- run: shapecheck ...  # exit N` for
GitHub, `- shapecheck ...  # exit N` for GitLab) is run by bash in a copy of
the repository's samples, with `shapecheck` on PATH and `$GITHUB_STEP_SUMMARY`
pointing to a file; it must exit with N and write every `--report` file it
names, in a form that format's consumer reads. The Gradescope
`run_autograder` script runs whole, with `/autograder` moved into a temporary
folder. The pre-commit hook is tested by tests/test_readme.py.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from itertools import pairwise
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from support import ROOT

DOC = ROOT / "docs" / "ci.md"
# `run: shapecheck ...  # exit N` (GitHub) and `- shapecheck ...  # exit N` (GitLab).
_COMMAND = re.compile(r"^\s*(?:- run:|-)\s+(shapecheck .+?)\s+# exit (\d)$", re.MULTILINE)
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _blocks(language: str) -> list[str]:
    return [m.group(2) for m in _FENCE.finditer(DOC.read_text("utf-8")) if m.group(1) == language]


def _recipes() -> list[tuple[str, int]]:
    return [(m.group(1), int(m.group(2))) for m in _COMMAND.finditer(DOC.read_text("utf-8"))]


def _reports(command: str) -> dict[str, str]:
    """`--report FORMAT=FILE` of a command, as {format: file}."""
    argv = shlex.split(command)
    return dict(b.split("=", 1) for a, b in pairwise(argv) if a == "--report")


def _with_shapecheck(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH has a `shapecheck` running this checkout."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "shapecheck"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m shapecheck "$@"\n')
    script.chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
    }


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("the recipes are bash")
    return subprocess.run(
        [bash, "-c", script], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )


def _assert_report(fmt: str, path: Path) -> None:
    """The report file is there, whole, in the form its consumer reads."""
    text = path.read_text("utf-8")
    if fmt == "junit":
        assert ET.fromstring(text.encode()).tag in {"testsuites", "testsuite"}
    elif fmt == "sarif":
        assert json.loads(text)["version"] == "2.1.0"
    elif fmt == "codequality":
        issues = json.loads(text)
        assert issues and all({"check_name", "fingerprint", "location"} <= set(i) for i in issues)
    elif fmt == "gradescope":
        assert "tests" in json.loads(text)
    else:  # pragma: no cover - a recipe with a format this test does not know
        raise AssertionError(f"no check for --report {fmt}")


def test_the_recipes_have_their_commands() -> None:
    github, gitlab = (b for b in _blocks("yaml") if "shapecheck check" in b and "repos:" not in b)
    github_commands = [c for c, _ in _recipes() if c in github]
    assert "--format github" in github_commands[0]
    assert set(_reports(github_commands[0])) == {"sarif", "junit"}
    assert any('--format markdown >> "$GITHUB_STEP_SUMMARY"' in c for c in github_commands)
    assert "github/codeql-action/upload-sarif" in github
    gitlab_commands = [c for c, _ in _recipes() if c in gitlab]
    assert set(_reports(gitlab_commands[0])) == {"junit", "codequality"}


def test_every_report_a_recipe_writes_is_uploaded() -> None:
    for block in _blocks("yaml"):
        for command, _ in _recipes():
            if command not in block:
                continue
            for fmt, file in _reports(command).items():
                # sarif_file: (upload-sarif), path: (upload-artifact), junit:/codequality: (GitLab)
                assert re.search(
                    rf"^\s*(sarif_file|path|junit|codequality): {re.escape(file)}$",
                    block,
                    re.MULTILINE,
                ), (fmt, file)


@pytest.mark.parametrize(("command", "status"), _recipes())
def test_a_recipe_runs_on_the_samples(tmp_path: Path, command: str, status: int) -> None:
    work = tmp_path / "work"
    shutil.copytree(ROOT / "samples", work / "samples")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {**_with_shapecheck(tmp_path), "GITHUB_STEP_SUMMARY": str(summary)}
    result = _bash(command, work, env)
    assert result.returncode == status, result.stderr
    for fmt, file in _reports(command).items():
        _assert_report(fmt, work / file)
    if "$GITHUB_STEP_SUMMARY" in command:
        appended = summary.read_text("utf-8")
        assert appended.startswith("earlier step\n")
        assert "samples/mistakes/size_mismatch.idx" in appended
        assert "|---|" in appended  # Markdown tables


def test_the_gradescope_autograder_runs(tmp_path: Path) -> None:
    (script,) = (b for b in _blocks("bash") if "gradescope=/autograder/results/" in b)
    (course,) = (b for b in _blocks("toml") if "required-claims" in b and "rtol" not in b)
    root = tmp_path / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    (root / "source" / "pyproject.toml").write_text(course)
    submission = root / "submission"
    shutil.copy(ROOT / "samples" / "affine.idx", submission)
    shutil.copy(ROOT / "samples" / "mistakes" / "transposed_claim.idx", submission)
    # A student's own configuration is left behind, not obeyed.
    (submission / "pyproject.toml").write_text("[tool.shapecheck]\npoints = 100\n")
    result = _bash(script.replace("/autograder", str(root)), tmp_path, _with_shapecheck(tmp_path))
    assert result.returncode == 1, result.stderr  # transposed_claim.idx has a wrong claim
    results = json.loads((root / "results" / "results.json").read_text("utf-8"))
    tests = {t["name"]: (t["score"], t["max_score"]) for t in results["tests"]}
    assert tests == {
        "graded/affine.idx: claim dL/db (line 8)": (1.0, 1.0),
        "graded/affine.idx: claim dL/dW (required)": (0.0, 2.0),
        "graded/transposed_claim.idx: claim dL/dW (line 9)": (0.0, 2.0),
        "graded/transposed_claim.idx: claim dL/db (required)": (0.0, 1.0),
    }
    assert results["score"] == 1.0
