"""The command line, through typer's CliRunner and as the installed command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from support import ROOT, SAMPLES
from typer.testing import CliRunner

from shapecheck.cli import app

runner = CliRunner()
GOOD = [str(p) for p in sorted(SAMPLES.glob("*.idx"))]


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_samples_pass() -> None:
    code, output = invoke("check", *GOOD)
    assert code == 0, output
    assert "Traceback" not in output


def test_table_shows_the_sums() -> None:
    code, output = invoke("check", str(SAMPLES / "affine.idx"))
    assert code == 0
    assert "Σ_j X[i,j] W[j,k] + b[k]" in output
    assert "n×h = 8×5" in output


@pytest.mark.parametrize("path", sorted((SAMPLES / "mistakes").glob("*.idx")), ids=lambda p: p.stem)
def test_mistakes_exit_1(path: Path) -> None:
    code, _ = invoke("check", str(path))
    assert code == 1


def test_folder_is_searched_in_a_stable_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.idx").write_text("param a\ny = a\n")
    (tmp_path / "one.idx").write_text("param a\ny = a\n")
    (tmp_path / "notes.txt").write_text("not idx")
    code, output = invoke("check", "--format", "json", str(tmp_path))
    assert code == 0
    paths = [f["path"] for f in json.loads(output)["files"]]
    assert paths == [str(tmp_path / "b" / "two.idx"), str(tmp_path / "one.idx")]


@pytest.mark.parametrize(
    "args",
    [
        ["check", "/no/such/file.idx"],
        ["check", "--format", "yaml", str(SAMPLES / "dot.idx")],
        ["check", "--size", "n=zero", str(SAMPLES / "dot.idx")],
        ["check", "--size", "n=0", str(SAMPLES / "dot.idx")],
        ["check", "--bogus", str(SAMPLES / "dot.idx")],
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


def test_json_schema() -> None:
    code, output = invoke(
        "check", "--format", "json", str(SAMPLES / "mistakes" / "size_mismatch.idx")
    )
    assert code == 1
    document = json.loads(output)
    assert document["schema_version"] == 1
    assert document["summary"] == {
        "files": 1,
        "failed": 1,
        "errors": 1,
        "warnings": 0,
        "exit_status": 1,
    }
    (diagnostic,) = document["files"][0]["diagnostics"]
    assert diagnostic["code"] == "E201"
    assert diagnostic["severity"] == "error"
    assert (diagnostic["line"], diagnostic["column"]) == (5, 24)
    assert (diagnostic["end_line"], diagnostic["end_column"]) == (5, 25)
    assert diagnostic["hints"] == [
        "the second index of X and the second index of W must have one size"
    ]
    assert [label["message"] for label in diagnostic["labels"]] == [
        "`j` is d (3) here",
        "`j` is h (5) here",
    ]


def test_json_definitions() -> None:
    code, output = invoke("check", "--format", "json", str(SAMPLES / "affine.idx"))
    assert code == 0
    file = json.loads(output)["files"][0]
    y = file["definitions"][0]
    assert y["name"] == "Y"
    assert y["indices"] == ["i", "k"]
    assert y["shape"] == ["n", "h"] and y["sizes"] == [8, 5]
    assert y["summed"] == ["j"]
    assert y["broadcast"] == [[], ["i"]]
    assert y["formula"] == "Σ_j X[i,j] W[j,k] + b[k]"
    assert y["index_sizes"]["j"] == {"name": "d", "value": 3}
    assert {a["name"]: a["kind"] for a in file["arrays"]}["W"] == "param"


def test_github_format() -> None:
    code, output = invoke(
        "check", "--format", "github", str(SAMPLES / "mistakes" / "size_mismatch.idx")
    )
    assert code == 1
    assert output.startswith("::error file=")
    assert ",line=5,col=24," in output and "title=E201::index `j` has two sizes" in output


def test_junit_format() -> None:
    code, output = invoke(
        "check",
        "--format",
        "junit",
        str(SAMPLES / "dot.idx"),
        str(SAMPLES / "mistakes" / "size_mismatch.idx"),
    )
    assert code == 1
    root = ET.fromstring(output)
    assert root.get("failures") == "1"
    dot, mistake = root.findall("testsuite")
    # dot.idx: its diagnostics, the check of df/dx and its claim.
    assert [c.get("name") for c in dot.findall("testcase")] == [
        "diagnostics",
        "derivative df/dx",
        "claim df/dx (line 6)",
    ]
    assert dot.get("failures") == "0" and mistake.get("failures") == "1"


def test_junit_reports_a_wrong_claim() -> None:
    code, output = invoke(
        "check", "--format", "junit", str(SAMPLES / "mistakes" / "transposed_claim.idx")
    )
    assert code == 1
    suite = ET.fromstring(output).find("testsuite")
    assert suite is not None
    failed = [c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None]
    assert failed == ["diagnostics", "claim dL/dW (line 9)"]


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
    usage = subprocess.run([command, "check", "nope.idx"], capture_output=True, text=True)
    assert usage.returncode == 2
    assert "nope.idx: no such file or folder" in usage.stderr
