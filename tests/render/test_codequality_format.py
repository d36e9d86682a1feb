"""GitLab Code Quality JSON, validated against a schema written from GitLab's
documented fields (tests/data/gitlab-codequality.schema.json)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ci_inputs import DATA, SAMPLE_PATHS, assert_inert, every_report, sample
from support import SAMPLES

from shapecheck import analyze_text
from shapecheck.pipeline import FileReport, Options
from shapecheck.render import codequality


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((DATA / "gitlab-codequality.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _valid(reports: list[FileReport], strict: bool = False) -> list[dict[str, Any]]:
    document = codequality.render(reports, strict=strict)
    assert_inert(document)
    assert document.isascii()
    issues: list[dict[str, Any]] = json.loads(document)
    _validator().validate(issues)
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    assert len(issues) == sum(len(r.diagnostics) for r in reports)
    return issues


@pytest.mark.parametrize("path", SAMPLE_PATHS, ids=lambda p: p.name)
def test_every_sample_and_mistake_is_valid(path: Path) -> None:
    _valid([sample(path)])


def test_hostile_input_and_all_files_at_once_are_valid_and_deterministic() -> None:
    _valid(every_report())
    assert codequality.render(every_report(), strict=False) == codequality.render(
        every_report(), strict=False
    )


def test_an_issue() -> None:
    (issue,) = _valid([sample(SAMPLES / "mistakes" / "size_mismatch.idx")])
    assert issue["check_name"] == "E201"
    assert issue["severity"] == "major"
    assert issue["description"] == "E201 index `j` has two sizes"
    assert issue["location"] == {
        "path": "samples/mistakes/size_mismatch.idx",
        "lines": {"begin": 5},
    }


def test_fingerprints_are_stable_and_tell_problems_apart() -> None:
    first = _valid([analyze_text("a.idx", "param a, z\ny = a a\n", Options())])
    # The same problem in an edited file (a line added above) keeps its
    # fingerprint only if its line is unchanged: the line is part of it.
    again = _valid([analyze_text("a.idx", "param a, z\ny = a a\n\n", Options())])
    moved = _valid([analyze_text("a.idx", "\nparam a, z\ny = a a\n", Options())])
    assert first[0]["fingerprint"] == again[0]["fingerprint"]
    assert first[0]["fingerprint"] != moved[0]["fingerprint"]
    assert first[0]["severity"] == "minor"
    # Two identical problems on one line.
    twice = _valid([analyze_text("b.idx", "param a\ny = a + zz + zz\n", Options())])
    assert [i["location"]["lines"]["begin"] for i in twice] == [2, 2]


def test_a_file_level_problem_is_on_line_one() -> None:
    (issue,) = _valid([analyze_text("empty.idx", "", Options())])
    assert issue["location"]["lines"]["begin"] == 1
