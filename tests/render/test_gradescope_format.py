"""Gradescope `results.json`, validated against a schema written from
Gradescope's documented format (tests/data/gradescope-results.schema.json)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import pytest
from ci_inputs import DATA, SAMPLE_PATHS, TWO_CLAIMS, assert_inert, every_report, sample

from shapecheck import analyze_text
from shapecheck.pipeline import FileReport, Options
from shapecheck.render import gradescope
from shapecheck.render.gradescope import Grading


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((DATA / "gradescope-results.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _valid(
    reports: list[FileReport], grading: Grading | None = None, strict: bool = False
) -> dict[str, Any]:
    document = gradescope.render(reports, strict=strict, grading=grading)
    assert_inert(document)
    assert document.isascii()
    parsed: dict[str, Any] = json.loads(document)
    _validator().validate(parsed)
    tests = parsed["tests"]
    assert parsed["score"] == sum(t["score"] for t in tests)
    for test in tests:
        assert test["score"] in (0, test["max_score"])
        assert (test["status"] == "passed") == (test["score"] == test["max_score"] > 0)
    return parsed


REQUIRED = Grading(points_per_claim=2.0, required=("dL/dW", "dL/db"))


@pytest.mark.parametrize("path", SAMPLE_PATHS, ids=lambda p: p.name)
def test_every_sample_and_mistake_is_valid(path: Path) -> None:
    report = sample(path)
    parsed = _valid([report], REQUIRED)
    claims = len(report.claims)
    made = {c.symbolic.claim.label for c in report.claims}
    assert len(parsed["tests"]) == claims + len(set(REQUIRED.required) - made)


def test_hostile_input_and_all_files_at_once_are_valid_and_deterministic() -> None:
    _valid(every_report(), REQUIRED)
    assert gradescope.render(every_report(), strict=False, grading=REQUIRED) == gradescope.render(
        every_report(), strict=False, grading=REQUIRED
    )


def test_a_right_and_a_wrong_claim() -> None:
    grading = Grading(points_per_claim=1.0, points=MappingProxyType({"dL/dW": 3.0}))
    parsed = _valid([analyze_text("hw.idx", TWO_CLAIMS, Options())], grading)
    wrong, right = parsed["tests"]
    assert wrong["name"] == "hw.idx: claim dL/dW (line 6)"
    assert (wrong["score"], wrong["max_score"], wrong["status"]) == (0, 3.0, "failed")
    assert "✗ wrong: it is the transpose of the true derivative" in wrong["output"]
    assert "error[E402]" in wrong["output"]
    # A wrong claim costs its own points only.
    assert (right["score"], right["max_score"], right["status"]) == (1.0, 1.0, "passed")
    assert parsed["score"] == 1.0
    assert [t["number"] for t in parsed["tests"]] == ["1", "2"]


def test_a_required_claim_missing_scores_zero_with_a_message() -> None:
    text = TWO_CLAIMS.replace("dL/dW[j, k] = 2 X[i, k] Y[i, j]\n", "")
    grading = Grading(required=("dL/dW", "dL/db"))
    (made, missing) = _valid([analyze_text("hw.idx", text, Options())], grading)["tests"]
    assert made["status"] == "passed"
    assert missing["name"] == "hw.idx: claim dL/dW (required)"
    assert missing["status"] == "failed" and missing["max_score"] == 1.0
    assert missing["output"] == "the required claim dL/dW is missing from hw.idx"


def test_a_file_with_errors_scores_zero_on_its_claims() -> None:
    text = TWO_CLAIMS + "Z = W[j, j] X[i]\n"  # E202: X has two indices
    parsed = _valid([analyze_text("hw.idx", text, Options())], REQUIRED)
    assert parsed["score"] == 0
    assert parsed["tests"] and all(t["status"] == "failed" for t in parsed["tests"])
    assert all(
        t["output"].startswith("not graded: the file has 1 problem:") for t in parsed["tests"]
    )


def test_strict_makes_warnings_block_grading() -> None:
    text = TWO_CLAIMS.replace("param W[d, d], b[d]", "param W[d, d], b[d], unused[d]")
    report = analyze_text("hw.idx", text, Options())
    assert [d.code for d in report.diagnostics if not d.is_error] == ["W101"]
    assert _valid([report])["score"] == 1.0
    assert _valid([report], strict=True)["score"] == 0
