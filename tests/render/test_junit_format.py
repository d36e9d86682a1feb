"""JUnit XML as GitLab and Jenkins read it: parsed by junitparser and
validated against the Jenkins xUnit plugin's XSD (tests/data/junit-10.xsd),
on every sample, every mistake and hostile input."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from xml.etree import ElementTree as ET

import junitparser
import pytest
import xmlschema
from ci_inputs import (
    DATA,
    SAMPLE_PATHS,
    TWO_CLAIMS,
    assert_inert,
    every_report,
    hostile_reports,
    sample,
)
from support import SAMPLES

from shapecheck import analyze_text
from shapecheck.pipeline import FileReport, Options
from shapecheck.render import junit
from shapecheck.render.escape import xml_text

# What the XSD lacks and GitLab reads on a test case (pytest's xunit1 writes them too).
EXTRA_ATTRIBUTES = ("file", "line")


@cache
def _schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(DATA / "junit-10.xsd")


def _validate(document: str, reports: list[FileReport]) -> junitparser.JUnitXml:
    assert_inert(document)
    root = ET.fromstring(document)
    for case in root.iter("testcase"):
        assert int(case.attrib.pop("line")) >= 1
        assert case.attrib.pop("file") == case.get("classname")
    _schema().validate(root)
    xml = junitparser.JUnitXml.fromstring(document)
    suites = list(xml)
    assert [s.name for s in suites] == [xml_text(r.source.name, keep="") for r in reports]
    for suite in suites:
        cases = list(suite)
        assert suite.tests == len(cases)
        assert suite.failures == sum(_failed(c) for c in cases)
        assert suite.skipped == sum(_skipped(c) for c in cases)
        for case in cases:
            assert case.classname == suite.name
            assert case.time == 0
    assert xml.tests == sum(s.tests for s in suites)
    assert xml.failures == sum(s.failures for s in suites)
    return xml


def _failed(case: junitparser.TestCase) -> bool:
    return any(isinstance(r, junitparser.Failure) for r in case.result)


def _skipped(case: junitparser.TestCase) -> bool:
    return any(isinstance(r, junitparser.Skipped) for r in case.result)


@pytest.mark.parametrize("path", SAMPLE_PATHS, ids=lambda p: p.name)
def test_every_sample_and_mistake_is_valid(path: Path) -> None:
    report = sample(path)
    for strict in (False, True):
        xml = _validate(junit.render([report], strict=strict), [report])
        (suite,) = list(xml)
        assert suite.failures > 0 or not report.failed(strict)


def test_hostile_input_and_all_files_at_once_are_valid_and_deterministic() -> None:
    reports = every_report()
    document = junit.render(reports, strict=False)
    _validate(document, reports)
    assert junit.render(list(hostile_reports()), strict=False) == junit.render(
        list(hostile_reports()), strict=False
    )
    assert document == junit.render(every_report(), strict=False)


def test_a_case_per_diagnostic_with_its_place() -> None:
    report = sample(SAMPLES / "mistakes" / "size_mismatch.idx")
    root = ET.fromstring(junit.render([report], strict=False))
    (case,) = root.iter("testcase")
    assert case.get("name") == "E201 index `j` has two sizes (line 5)"
    assert (case.get("file"), case.get("line"), case.get("time")) == (report.source.name, "5", "0")
    failure = case.find("failure")
    assert failure is not None and failure.text is not None
    assert failure.get("message", "").endswith("error[E201]: index `j` has two sizes")
    assert "`j` is d (3) here" in failure.text  # the snippet with its labels


def test_warnings_are_skipped_unless_strict() -> None:
    report = analyze_text("w.idx", "param a, z\ny = a a\n", Options())
    xml = _validate(junit.render([report], strict=False), [report])
    (case,) = [c for c in next(iter(xml)) if c.name.startswith("W101")]
    assert _skipped(case) and not _failed(case)
    assert case.system_out is not None and "warning[W101]" in case.system_out
    strict = _validate(junit.render([report], strict=True), [report])
    (case,) = [c for c in next(iter(strict)) if c.name.startswith("W101")]
    assert _failed(case)


def test_a_wrong_claim_is_one_failure_next_to_a_right_one() -> None:
    report = analyze_text("two.idx", TWO_CLAIMS, Options())
    xml = _validate(junit.render([report], strict=False), [report])
    outcomes = {c.name: _failed(c) for c in next(iter(xml))}
    assert outcomes == {
        "index and shape rules": False,
        "derivative dL/dW": False,
        "derivative dL/db": False,
        "claim dL/dW (line 6)": True,
        "claim dL/db (line 7)": False,
    }


def test_no_verify_skips_derivative_checks() -> None:
    report = analyze_text("two.idx", TWO_CLAIMS, Options(verify=False))
    xml = _validate(junit.render([report], strict=False), [report])
    skipped = [c.name for c in next(iter(xml)) if _skipped(c)]
    # Neither derivative was checked, nor the claim that does not match symbolically.
    assert skipped == ["derivative dL/dW", "derivative dL/db", "claim dL/dW (line 6)"]


def test_every_entry_at_a_kink_is_a_skipped_derivative_and_a_failed_claim() -> None:
    """W110 (a warning) skips the derivative's case and E405 (an error) fails
    the claim's, each once: the verdict's diagnostic is not a case of its own."""
    # A claim not confirmed symbolically (twice the truth): only the numbers could judge it.
    text = "param x[2] = [0, 0]\nL = relu(x[i])\nderive dL/dx\ndL/dx[i] = 2 step(x[i])\n"
    report = analyze_text("k.idx", text, Options())
    assert sorted(str(d.code) for d in report.diagnostics) == ["E405", "W110"]
    xml = _validate(junit.render([report], strict=False), [report])
    cases = {case.name: case for suite in xml for case in suite}
    assert sorted(cases) == ["claim dL/dx (line 4)", "derivative dL/dx", "index and shape rules"]
    assert _skipped(cases["derivative dL/dx"]) and not _failed(cases["derivative dL/dx"])
    assert _failed(cases["claim dL/dx (line 4)"])
