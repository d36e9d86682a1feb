"""JUnit XML for CI dashboards: a test suite per file; a test case for its
diagnostics, one per derivative's numeric check and one per claim."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from shapecheck.pipeline import FileReport
from shapecheck.render import derivatives as facts
from shapecheck.render.diagnostics import render_plain


def _case(suite: ET.Element, file: str, name: str, failure: str | None, output: str = "") -> bool:
    case = ET.SubElement(suite, "testcase", classname=file, name=name)
    if failure is not None:
        element = ET.SubElement(case, "failure", message=failure.splitlines()[0], type="shapecheck")
        element.text = failure
    if output:
        ET.SubElement(case, "system-out").text = output
    return failure is not None


def render(reports: Sequence[FileReport], *, strict: bool) -> str:
    suites = ET.Element("testsuites", name="shapecheck")
    total_tests = total_failures = 0
    for report in reports:
        file = report.source.name
        suite = ET.SubElement(suites, "testsuite", name=file)
        results: list[bool] = []
        failing = [d for d in report.diagnostics if d.is_error or strict]
        passing = [d for d in report.diagnostics if d not in failing]
        results.append(
            _case(
                suite,
                file,
                "diagnostics",
                "\n\n".join(render_plain(report.source, d) for d in failing) or None,
                "\n\n".join(render_plain(report.source, d) for d in passing),
            )
        )
        for result in report.derivatives:
            check = result.check
            words = facts.check_words(check)
            bad = check is not None and check.verdict in ("failed", "inconclusive")
            results.append(
                _case(
                    suite,
                    file,
                    f"derivative {result.derivation.label}",
                    words if bad else None,
                    words,
                )
            )
        for claim in report.claims:
            words = facts.claim_words(claim)
            bad = claim.check is not None and claim.check.verdict != "ok"
            line = report.source.position(claim.symbolic.claim.span.start)[0]
            name = f"claim {claim.symbolic.claim.label} (line {line})"
            results.append(_case(suite, file, name, words if bad else None, words))
        suite.set("tests", str(len(results)))
        suite.set("failures", str(sum(results)))
        suite.set("errors", "0")
        total_tests += len(results)
        total_failures += sum(results)
    suites.set("tests", str(total_tests))
    suites.set("failures", str(total_failures))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)
