"""The output formats (text, json, github, junit) on the shipped samples."""

from __future__ import annotations

import io
import json
from pathlib import Path
from xml.etree import ElementTree as ET

from rich.console import Console
from support import SAMPLES

from shapecheck.pipeline import FileReport, Options, analyze_bytes, analyze_path
from shapecheck.render import github, junit
from shapecheck.render import json as json_render
from shapecheck.render import text as text_render

AFFINE = SAMPLES / "affine.idx"
SIZE_MISMATCH = SAMPLES / "mistakes" / "size_mismatch.idx"


def _reports(*paths: Path) -> list[FileReport]:
    return [analyze_path(path, Options()) for path in paths]


def _text(reports: list[FileReport], *, detailed: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=160, no_color=True, markup=False, highlight=False)
    text_render.render(reports, console, strict=False, detailed=detailed)
    return out.getvalue()


def test_text_table_shows_the_sums_and_both_shapes() -> None:
    output = _text(_reports(AFFINE))
    assert "Σ_j X[i,j] W[j,k] + b[k]" in output
    assert "n×h = 8×5" in output


def test_text_detailed_adds_adjoints_and_numpy() -> None:
    reports = _reports(AFFINE)
    assert "numpy (axes in signature order)" not in _text(reports)
    detailed = _text(reports, detailed=True)
    assert "Adjoints (reverse mode, nearest the output first)" in detailed
    assert "numpy (axes in signature order)" in detailed


def test_text_summary_line_only_for_several_files() -> None:
    assert "2 files: 1 ok, 1 failed (1 error, 0 warnings)" in _text(_reports(AFFINE, SIZE_MISMATCH))
    assert "files:" not in _text(_reports(AFFINE))


def test_json_schema() -> None:
    output = json_render.render(_reports(SIZE_MISMATCH), strict=False, exit_status=1)
    document = json.loads(output)
    assert document["schema_version"] == 3
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
    output = json_render.render(_reports(AFFINE), strict=False, exit_status=0)
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


def test_json_file_that_is_not_text_has_the_same_keys_empty() -> None:
    report = analyze_bytes("binary.idx", b"\x00\x01", Options())
    file = json.loads(json_render.render([report], strict=False, exit_status=1))["files"][0]
    assert report.checked is None
    assert file["layout"] is None
    assert file["arrays"] == file["definitions"] == file["derivatives"] == file["claims"] == []
    assert file["verification"] is None


def test_github_format() -> None:
    output = github.render(_reports(SIZE_MISMATCH))
    assert output.startswith("::error file=")
    assert ",line=5,col=24," in output and "title=E201::index `j` has two sizes" in output


def test_junit_format() -> None:
    root = ET.fromstring(junit.render(_reports(SAMPLES / "dot.idx", SIZE_MISMATCH), strict=False))
    assert root.get("failures") == "1"
    dot, mistake = root.findall("testsuite")
    # dot.idx: no diagnostics (one passing case), the check of df/dx and its claim.
    assert [c.get("name") for c in dot.findall("testcase")] == [
        "index and shape rules",
        "derivative df/dx",
        "claim df/dx (line 6)",
    ]
    assert dot.get("failures") == "0" and mistake.get("failures") == "1"


def test_junit_reports_a_wrong_claim() -> None:
    reports = _reports(SAMPLES / "mistakes" / "transposed_claim.idx")
    suite = ET.fromstring(junit.render(reports, strict=False)).find("testsuite")
    assert suite is not None
    failed = [c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None]
    # The E402 that words the verdict is shown in the claim's case, not twice.
    assert failed == ["claim dL/dW (line 9)"]
