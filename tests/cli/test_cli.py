"""The command line, through typer's CliRunner and as the installed command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, SAMPLES
from typer.testing import CliRunner

from shapecheck.cli import app
from shapecheck.pipeline import Options, analyze_path
from shapecheck.render import github, junit
from shapecheck.render import json as json_render

runner = CliRunner()
GOOD = [str(p) for p in sorted(SAMPLES.glob("*.idx"))]


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_samples_pass() -> None:
    code, output = invoke("check", *GOOD)
    assert code == 0, output
    assert "Traceback" not in output


@pytest.mark.parametrize("path", sorted((SAMPLES / "mistakes").glob("*.idx")), ids=lambda p: p.stem)
def test_mistakes_exit_1(path: Path) -> None:
    code, _ = invoke("check", str(path))
    assert code == 1


@pytest.mark.parametrize(
    "args",
    [
        ["derive", str(SAMPLES)],
        ["check", "--report", "yaml=out.txt", str(SAMPLES / "dot.idx")],
        ["check", "--report", "junit", str(SAMPLES / "dot.idx")],
        ["check", "--jobs", "0", str(SAMPLES / "dot.idx")],
        ["check", "--format", "yaml", str(SAMPLES / "dot.idx")],
        ["check", "--size", "n=zero", str(SAMPLES / "dot.idx")],
        ["check", "--size", "n=0", str(SAMPLES / "dot.idx")],
        ["check", "--bogus", str(SAMPLES / "dot.idx")],
        ["derive", "--seed", "-1", str(SAMPLES / "dot.idx")],  # was E999
        ["check", "--seed", "-3", str(SAMPLES / "dot.idx")],
        ["check"],
    ],
)
def test_command_problems_exit_2(args: list[str], tmp_path: Path) -> None:
    code, _ = invoke(*args)
    assert code == 2


def test_empty_folder_exits_2(tmp_path: Path) -> None:
    code, _ = invoke("check", str(tmp_path))
    assert code == 2


def test_warnings_fail_only_under_strict(tmp_path: Path) -> None:
    path = tmp_path / "w.idx"
    path.write_text("dim n, m\nparam x[n]\ny = x[i]\n")
    assert invoke("check", str(path))[0] == 0
    assert invoke("check", "--strict", str(path))[0] == 1


def test_folder_argument_checks_every_idx_file_below_it(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.idx").write_text("param a\ny = a\n")
    (tmp_path / "one.idx").write_text("param a\ny = a\n")
    code, output = invoke("check", "--format", "json", str(tmp_path))
    assert code == 0
    assert len(json.loads(output)["files"]) == 2


@pytest.mark.parametrize("output", ["json", "github", "junit"])
def test_format_option_picks_the_renderer(output: str) -> None:
    path = SAMPLES / "mistakes" / "size_mismatch.idx"
    code, shown = invoke("check", "--format", output, str(path))
    reports = [analyze_path(path, Options())]
    expected = {
        "json": lambda: json_render.render(reports, strict=False, exit_status=1),
        "github": lambda: github.render(reports),
        "junit": lambda: junit.render(reports, strict=False),
    }[output]()
    assert code == 1
    assert shown == expected + "\n"


def test_text_is_the_default_format() -> None:
    code, output = invoke("check", str(SAMPLES / "affine.idx"))
    assert code == 0
    assert "Σ_j X[i,j] W[j,k] + b[k]" in output


def test_derive_command_accepts_one_file() -> None:
    code, output = invoke("derive", str(SAMPLES / "affine.idx"))
    assert code == 0, output


def _installed() -> str | None:
    found = shutil.which("shapecheck", path=str(Path(sys.executable).parent))
    return found


@pytest.mark.skipif(_installed() is None, reason="the shapecheck command is not installed")
def test_installed_command_as_a_subprocess() -> None:
    command = _installed()
    assert command is not None
    ok = subprocess.run([command, "check", *GOOD], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run(
        [command, "check", "samples/mistakes/size_mismatch.idx"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"NO_COLOR": "1", "PATH": ""},
    )
    assert bad.returncode == 1
    assert "error[E201]: index `j` has two sizes" in bad.stdout
    assert "\x1b[" not in bad.stdout  # no colour off a terminal
    missing = subprocess.run([command, "check", "nope.idx"], capture_output=True, text=True)
    assert missing.returncode == 1
    assert "nope.idx: error[E020]: no such file or folder" in missing.stdout
