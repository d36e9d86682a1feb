"""JUnit XML: a test suite per file, a test case per check, for CI dashboards."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from shapecheck.pipeline import FileReport
from shapecheck.render.diagnostics import render_plain


def render(reports: Sequence[FileReport], *, strict: bool) -> str:
    suites = ET.Element("testsuites", name="shapecheck")
    total_failures = 0
    for report in reports:
        suite = ET.SubElement(suites, "testsuite", name=report.source.name)
        cases = 0
        failures = 0
        case = ET.SubElement(suite, "testcase", classname=report.source.name, name="check")
        cases += 1
        problems = [d for d in report.diagnostics if d.is_error or strict]
        if problems:
            failures += 1
            failure = ET.SubElement(
                case, "failure", message=f"{len(problems)} problem(s)", type="shapecheck"
            )
            failure.text = "\n\n".join(render_plain(report.source, d) for d in problems)
        warnings = [d for d in report.diagnostics if not d.is_error]
        if warnings and not strict:
            out = ET.SubElement(case, "system-out")
            out.text = "\n\n".join(render_plain(report.source, d) for d in warnings)
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        total_failures += failures
    suites.set("tests", str(sum(int(s.get("tests", "0")) for s in suites)))
    suites.set("failures", str(total_failures))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)
