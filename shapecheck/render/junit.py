"""JUnit XML for CI test reports (GitLab, Jenkins): a test suite per file and
a test case per diagnostic, per derivative check and per claim.

Each test case carries `classname` and `file` (the file's path), `line` and
`time` (0: the pipeline does not time files, and no clock may make two runs
of one input differ). An error fails its case; a warning is `<skipped>` with
its rendering in `system-out` (it shows in GitLab's and Jenkins' counts
without failing the pipeline), except under --strict, where it fails. A
diagnostic that words a claim's or a derivative's verdict (E401-E404, W104)
is shown in that claim's or derivative's case rather than in a case of its
own, so a wrong claim is one failure, not two. A file without other
diagnostics has one passing case, so that every file shows in the report.

Every text and attribute passes through `escape.xml_text`: XML 1.0 forbids
most C0 controls, U+FFFE, U+FFFF and lone surrogates even as character
references, so the document stays well-formed whatever the file holds or is
called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from xml.etree import ElementTree as ET

from shapecheck.diagnostics import Diagnostic
from shapecheck.numeric.verdicts import ClaimVerdict, Verdict
from shapecheck.pipeline import ClaimResult, DerivativeResult, FileReport
from shapecheck.render import derivatives as facts
from shapecheck.render.diagnostics import render_plain
from shapecheck.render.escape import visible, xml_text
from shapecheck.render.findings import claim_of, derivative_of, verdict_problems
from shapecheck.render.places import first_line

Outcome = Literal["passed", "failed", "skipped"]
# The one case of a file without diagnostics of its own, so that it shows.
_RULES_PASSED = "index and shape rules"


@dataclass(frozen=True)
class _Case:
    name: str
    line: int
    outcome: Outcome
    message: str = ""  # the failure's or skip's one line
    text: str = ""  # the whole story: snippets, verdict words


def render(reports: Sequence[FileReport], *, strict: bool) -> str:
    suites = ET.Element("testsuites", name="shapecheck")
    totals = {"tests": 0, "failures": 0}
    for report in reports:
        cases = _cases(report, strict)
        failures = sum(c.outcome == "failed" for c in cases)
        skipped = sum(c.outcome == "skipped" for c in cases)
        file = xml_text(report.source.name, keep="")
        suite = ET.SubElement(suites, "testsuite", name=file)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", str(skipped))
        suite.set("time", "0")
        for case in cases:
            _write(suite, file, case)
        totals["tests"] += len(cases)
        totals["failures"] += failures
    suites.set("tests", str(totals["tests"]))
    suites.set("failures", str(totals["failures"]))
    suites.set("errors", "0")
    suites.set("time", "0")
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def _write(suite: ET.Element, file: str, case: _Case) -> None:
    element = ET.SubElement(
        suite,
        "testcase",
        name=xml_text(case.name, keep=""),
        classname=file,
        file=file,
        line=str(case.line),
        time="0",
    )
    if case.outcome == "failed":
        # GitLab and Jenkins show a failure's text as its details.
        failure = ET.SubElement(
            element, "failure", message=xml_text(case.message, keep=""), type="shapecheck"
        )
        failure.text = xml_text(case.text)
        return
    if case.outcome == "skipped":
        ET.SubElement(element, "skipped", message=xml_text(case.message, keep=""))
    if case.text:
        ET.SubElement(element, "system-out").text = xml_text(case.text)


def _cases(report: FileReport, strict: bool) -> list[_Case]:
    """The file's test cases in order: diagnostics, derivatives, claims."""
    cases = [
        _diagnostic_case(report, d, strict)
        for d in report.diagnostics
        if claim_of(report, d) is None and derivative_of(report, d) is None
    ]
    if not cases:
        cases.append(_Case(_RULES_PASSED, 1, "passed"))
    cases.extend(_derivative_case(report, r, strict) for r in report.derivatives)
    cases.extend(_claim_case(report, c) for c in report.claims)
    return cases


def _diagnostic_case(report: FileReport, problem: Diagnostic, strict: bool) -> _Case:
    line = first_line(report.source, problem)
    text = render_plain(report.source, problem)
    name = f"{problem.code} {visible(problem.message, keep='')} (line {line})"
    outcome: Outcome = "failed" if problem.is_error or strict else "skipped"
    return _Case(name, line, outcome, text.splitlines()[0], text)


def _story(report: FileReport, words: str, result: object) -> str:
    rendered = [render_plain(report.source, d) for d in verdict_problems(report, result)]
    return "\n\n".join([words, *rendered])


def _derivative_case(report: FileReport, result: DerivativeResult, strict: bool) -> _Case:
    span = result.request.span
    line = report.source.position(span.start)[0] if span is not None else 1
    words = facts.check_words(result.check)
    name = f"derivative {result.derivation.label}"
    check = result.check
    outcome: Outcome
    if check is None:
        outcome, words = "skipped", "not verified numerically"
    elif check.verdict is Verdict.INCONCLUSIVE:
        # Not verified, a warning (W110 at a kink, W111 for an ill-conditioned
        # matrix, W113 otherwise), as too large is.
        outcome = "failed" if strict else "skipped"
    elif check.verdict is Verdict.FAILED:
        outcome = "failed"
    elif check.verdict is Verdict.NOT_VERIFIED:
        outcome = "failed" if strict else "skipped"
    else:
        outcome = "passed"
    return _Case(name, line, outcome, words, _story(report, words, result))


def _claim_case(report: FileReport, claim: ClaimResult) -> _Case:
    words = facts.claim_words(claim)
    line = report.source.position(claim.symbolic.claim.span.start)[0]
    name = f"claim {claim.symbolic.claim.label} (line {line})"
    check = claim.check
    outcome: Outcome
    if check is not None and check.verdict is ClaimVerdict.WRONG:
        outcome = "failed"  # wrong, or confirmed symbolically and a bug in shapecheck (E401)
    elif claim.confirmed:
        outcome = "passed"
    else:
        outcome = "skipped" if check is None else "failed"
    return _Case(name, line, outcome, words.splitlines()[0], _story(report, words, claim))
