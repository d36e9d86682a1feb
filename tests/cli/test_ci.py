"""`check` as a course's CI runs it: every file, several outputs, many workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from support import ROOT, SAMPLES
from typer.testing import CliRunner

from shapecheck.cli import _OutputFormat, app
from shapecheck.render.output import FORMATS

runner = CliRunner()
GOOD = "dim n = 3\nparam a[n]\ny = a[i] a[i]\ndy/da[i] = 2 a[i]\n"
WRONG = "dim n = 3\nparam a[n]\ny = a[i] a[i]\ndy/da[i] = 3 a[i]\n"


def _command(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shapecheck", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        check=False,
    )


def _class(tmp_path: Path, count: int = 12) -> Path:
    folder = tmp_path / "class"
    folder.mkdir()
    for k in range(count):
        (folder / f"s{k:02}.idx").write_text(WRONG if k % 3 == 0 else GOOD)
    (folder / "s01.idx").write_text("param a\ny = b\n")
    return folder


def test_the_format_list_is_the_registry() -> None:
    assert [f.value for f in _OutputFormat] == list(FORMATS)


@pytest.mark.parametrize("output", ["text", "json", "github", "junit"])
def test_jobs_do_not_change_the_output(tmp_path: Path, output: str) -> None:
    folder = _class(tmp_path)
    serial = _command("check", "--jobs", "1", "--format", output, str(folder))
    parallel = _command("check", "--jobs", "3", "--format", output, str(folder))
    assert serial.returncode == parallel.returncode == 1
    if output == "junit":  # durations aside, JUnit has none today
        ET.fromstring(serial.stdout)
    assert parallel.stdout == serial.stdout
    assert parallel.stderr == serial.stderr == ""


def test_a_missing_file_is_reported_and_the_others_still_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.idx"
    good.write_text(GOOD)
    result = runner.invoke(
        app, ["check", "--format", "json", str(tmp_path / "nope.idx"), str(good)]
    )
    assert result.exit_code == 1
    files = json.loads(result.output)["files"]
    assert [f["ok"] for f in files] == [False, True]
    assert files[0]["diagnostics"][0]["code"] == "E020"


def test_report_files_are_written_beside_the_log(tmp_path: Path) -> None:
    folder = _class(tmp_path, 4)
    junit, log = tmp_path / "junit.xml", tmp_path / "log.json"
    result = _command(
        "check", str(folder), "--format", "github", "--report", f"junit={junit}",
        "--report", f"json={log}",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout.startswith("::error file=")
    assert ET.parse(junit).getroot().get("tests")
    assert json.loads(log.read_text())["summary"]["exit_status"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_report_file_in_a_missing_folder_is_a_usage_problem(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["check", "--report", f"junit={tmp_path}/no/r.xml", str(SAMPLES / "dot.idx")]
    )
    assert result.exit_code == 2
    assert "--report" in result.output


def test_quiet_prints_problems_and_the_summary(tmp_path: Path) -> None:
    folder = _class(tmp_path, 4)
    result = runner.invoke(app, ["check", "--quiet", str(folder)])
    assert result.exit_code == 1
    assert "Arrays" not in result.output
    assert "error[E101]" in result.output
    assert "error[E402]" in result.output
    assert "Summary" in result.output
    assert result.output.rstrip().endswith("4 files: 1 ok, 3 failed (3 errors, 1 warning)")


def test_summary_counts_claims(tmp_path: Path) -> None:
    folder = _class(tmp_path, 4)
    result = runner.invoke(app, ["check", str(folder)])
    row = result.output.split("Summary")[1].splitlines()[3]
    # files, ok, failed, errors, warnings, claims right, wrong, inconclusive
    assert [int(cell) for cell in row.split("│")] == [4, 1, 3, 3, 1, 1, 2, 0]


def test_standard_input_under_a_name() -> None:
    result = runner.invoke(
        app, ["check", "-", "--stdin-filename", "student.idx"], input="param a\ny = b\n"
    )
    assert result.exit_code == 1
    assert "student.idx:2:5: error[E101]" in result.output


def test_configuration_applies_and_the_command_line_overrides(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.shapecheck]\nstrict = true\n")
    (tmp_path / "w.idx").write_text("dim n, m\nparam x[n]\ny = x[i]\n")
    assert runner.invoke(app, ["check", str(tmp_path)]).exit_code == 1
    assert runner.invoke(app, ["check", "--no-strict", str(tmp_path)]).exit_code == 0


def test_a_bad_configuration_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.shapecheck]\nrtoll = 1\n")
    (tmp_path / "a.idx").write_text(GOOD)
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert "pyproject.toml: [tool.shapecheck] rtoll: unknown key" in result.output


def test_graded_runs_honour_no_ignore(tmp_path: Path) -> None:
    (tmp_path / "a.idx").write_text("param b  # shapecheck: ignore[W101]\nparam a\ny = a\n")
    assert runner.invoke(app, ["check", "--strict", str(tmp_path)]).exit_code == 0
    (tmp_path / "pyproject.toml").write_text("[tool.shapecheck]\nallow-ignore = false\n")
    result = runner.invoke(app, ["check", "--strict", str(tmp_path)])
    assert result.exit_code == 1
    assert "warning[W902]" in result.output


def test_empty_no_color_keeps_colour_on_a_terminal() -> None:
    from shapecheck.render.layout import Text
    from shapecheck.render.output import RunContext, _captured

    def coloured(**env: str) -> bool:
        old = os.environ.pop("NO_COLOR", None)
        os.environ.update(env)
        try:
            text = _captured(RunContext(), lambda c: c.print(Text("x", style="red")))
        finally:
            os.environ.pop("NO_COLOR", None)
            if old is not None:
                os.environ["NO_COLOR"] = old
        return "\x1b[" in text

    import shapecheck.render.output as output

    original = output.sys.stdout

    class _Tty:
        def isatty(self) -> bool:
            return True

        def __getattr__(self, name: str) -> object:
            return getattr(original, name)

    output.sys.stdout = _Tty()  # type: ignore[assignment]
    try:
        assert coloured(FORCE_COLOR="1", NO_COLOR="")
        assert not coloured(FORCE_COLOR="1", NO_COLOR="1")
    finally:
        output.sys.stdout = original
        os.environ.pop("FORCE_COLOR", None)
