"""JUnit XML for CI dashboards: a test suite per file; a test case for its
diagnostics, one per derivative's numeric check and one per claim.

Every text and attribute passes through `escape.xml_text`: XML 1.0 forbids
most C0 controls, U+FFFE, U+FFFF and lone surrogates even as character
references, so the document stays well-formed whatever the file holds or is
called.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from shapecheck.numeric.verdicts import ClaimVerdict, Verdict
from shapecheck.pipeline import ClaimResult, DerivativeResult, FileReport
from shapecheck.render import derivatives as facts
from shapecheck.render.diagnostics import render_plain
from shapecheck.render.escape import xml_text


def _case(suite: ET.Element, file: str, name: str, failure: str | None, output: str = "") -> bool:
    case = ET.SubElement(suite, "testcase", classname=xml_text(file, keep=""), name=xml_text(name))
    if failure is not None:
        failure = xml_text(failure)
        element = ET.SubElement(case, "failure", message=failure.splitlines()[0], type="shapecheck")
        element.text = failure
    if output:
        ET.SubElement(case, "system-out").text = xml_text(output)
    return failure is not None


def render(reports: Sequence[FileReport], *, strict: bool) -> str:
    suites = ET.Element("testsuites", name="shapecheck")
    total_tests = total_failures = 0
    for report in reports:
        suite = ET.SubElement(suites, "testsuite", name=xml_text(report.source.name, keep=""))
        results = _cases(suite, report, strict)
        suite.set("tests", str(len(results)))
        suite.set("failures", str(sum(results)))
        suite.set("errors", "0")
        total_tests += len(results)
        total_failures += sum(results)
    suites.set("tests", str(total_tests))
    suites.set("failures", str(total_failures))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def _cases(suite: ET.Element, report: FileReport, strict: bool) -> list[bool]:
    """The file's test cases, in order; True for each that failed."""
    file = report.source.name
    failing = [d for d in report.diagnostics if d.is_error or strict]
    passing = [d for d in report.diagnostics if d not in failing]
    results = [
        _case(
            suite,
            file,
            "diagnostics",
            "\n\n".join(render_plain(report.source, d) for d in failing) or None,
            "\n\n".join(render_plain(report.source, d) for d in passing),
        )
    ]
    results.extend(_derivative_case(suite, file, r) for r in report.derivatives)
    results.extend(_claim_case(suite, report, c) for c in report.claims)
    return results


def _derivative_case(suite: ET.Element, file: str, result: DerivativeResult) -> bool:
    check = result.check
    words = facts.check_words(check)
    bad = check is not None and check.verdict in (Verdict.FAILED, Verdict.INCONCLUSIVE)
    name = f"derivative {result.derivation.label}"
    return _case(suite, file, name, words if bad else None, words)


def _claim_case(suite: ET.Element, report: FileReport, claim: ClaimResult) -> bool:
    words = facts.claim_words(claim)
    bad = claim.check is not None and claim.check.verdict is not ClaimVerdict.OK
    line = report.source.position(claim.symbolic.claim.span.start)[0]
    name = f"claim {claim.symbolic.claim.label} (line {line})"
    return _case(suite, report.source.name, name, words if bad else None, words)
