"""A problem without a span can still have a place: an invalid UTF-8 byte has
a line and a column though the file has no decoded text to hold a span."""

from __future__ import annotations

import io
import json
from xml.etree import ElementTree as ET

import pytest
from rich.console import Console

from shapecheck.diagnostics import diagnostic
from shapecheck.pipeline import FileReport, Options, analyze_bytes
from shapecheck.render import github, junit
from shapecheck.render import json as json_render
from shapecheck.render import text as text_render
from shapecheck.render.diagnostics import render_plain
from shapecheck.source import Source

MESSAGE = "byte 14 (line 2, column 8) is not valid UTF-8"


def _undecodable() -> FileReport:
    problem = diagnostic("E001", None, MESSAGE, hints=["save the file as UTF-8"], position=(2, 8))
    return FileReport(Source("u.idx", ""), None, (problem,))


def test_plain_and_text_print_file_line_col() -> None:
    report = _undecodable()
    assert render_plain(report.source, report.diagnostics[0]) == (
        f"u.idx:2:8: error[E001]: {MESSAGE}\n  = help: save the file as UTF-8"
    )
    out = io.StringIO()
    text_render.render([report], Console(file=out, width=160, no_color=True), strict=False)
    assert f"u.idx:2:8: error[E001]: {MESSAGE}\n  = help: save the file as UTF-8" in out.getvalue()


def test_github_and_junit_and_json_carry_the_place() -> None:
    report = _undecodable()
    assert github.render([report]).startswith("::error file=u.idx,line=2,col=8,title=E001::")
    root = ET.fromstring(junit.render([report], strict=False))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == f"u.idx:2:8: error[E001]: {MESSAGE}"
    (entry,) = json.loads(json_render.render([report], strict=False, exit_status=1))["files"][0][
        "diagnostics"
    ]
    assert (entry["line"], entry["column"], entry["end_line"], entry["end_column"]) == (2, 8, 2, 9)


def test_a_file_level_problem_has_no_place() -> None:
    problem = diagnostic("W105", None, "the file is empty: nothing to check")
    assert render_plain(Source("e.idx", ""), problem).startswith("e.idx: warning[W105]")


def test_a_position_is_one_based() -> None:
    with pytest.raises(ValueError, match="bad position"):
        diagnostic("E001", None, MESSAGE, position=(0, 1))


def test_the_pipeline_locates_an_invalid_byte() -> None:
    report = analyze_bytes("u.idx", b"dim n\nparam x\xff[n]\n", Options())
    assert render_plain(report.source, report.diagnostics[0]).startswith("u.idx:2:8: error[E001]")
