"""Gradescope autograder `results.json`: a test per (file, claim), scored.

The points come from the course's grading configuration (`Grading`, built by
the command line from `[tool.shapecheck]`), never from the student's file. A
claim scores its points when it is right (numerically, or symbolically when
numeric checks are off) and zero otherwise. A file with errors other than its
claims' own verdicts (E402-E404: a wrong claim must not cost the right ones)
scores zero on every claim, since no claim of a file that breaks the rules
was checked; under --strict its warnings count as errors. A required claim
missing from a file is a test of its own that scores zero and says why.

Gradescope shows `output` as text: user text is made visible
(`render.escape`) and the JSON is ASCII.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from shapecheck.diagnostics import Diagnostic
from shapecheck.pipeline import ClaimResult, FileReport
from shapecheck.render import derivatives as facts
from shapecheck.render.diagnostics import render_plain
from shapecheck.render.escape import visible
from shapecheck.render.findings import claim_of, verdict_problems

if TYPE_CHECKING:
    from shapecheck.render.output import RunContext
    from shapecheck.run.config import Config


@dataclass(frozen=True)
class Grading:
    """What each claim is worth: `points[label]`, else `points_per_claim`;
    `required` claims (labels such as `dL/dW`) every file must make."""

    points_per_claim: float = 1.0
    points: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    required: tuple[str, ...] = ()

    def worth(self, label: str) -> float:
        return float(self.points.get(label, self.points_per_claim))


def _blocking(report: FileReport, strict: bool) -> list[Diagnostic]:
    """The problems that leave the file's claims ungraded."""
    return [d for d in report.diagnostics if (d.is_error or strict) and claim_of(report, d) is None]


def _passed(claim: ClaimResult) -> bool:
    return claim.confirmed is True


def _blocked_words(report: FileReport, blocking: list[Diagnostic]) -> str:
    count = len(blocking)
    heads = [render_plain(report.source, d).splitlines()[0] for d in blocking[:5]]
    more = [f"... and {count - 5} more"] if count > 5 else []
    noun = "problem" if count == 1 else "problems"
    return "\n".join([f"not graded: the file has {count} {noun}:", *heads, *more])


def _claim_test(
    report: FileReport, claim: ClaimResult, grading: Grading, blocking: list[Diagnostic]
) -> dict[str, Any]:
    label = claim.symbolic.claim.label
    line = report.source.position(claim.symbolic.claim.span.start)[0]
    worth = grading.worth(label)
    words = facts.claim_words(claim)
    rendered = [render_plain(report.source, d) for d in verdict_problems(report, claim)]
    passed = _passed(claim) and not blocking
    output = "\n\n".join(
        [words, *rendered] + ([_blocked_words(report, blocking)] if blocking else [])
    )
    return _test(f"{report.source.name}: claim {label} (line {line})", passed, worth, output)


def _missing_test(
    report: FileReport, label: str, grading: Grading, blocking: list[Diagnostic]
) -> dict[str, Any]:
    output = (
        _blocked_words(report, blocking)
        if blocking
        else f"the required claim {label} is missing from {report.source.name}"
    )
    return _test(
        f"{report.source.name}: claim {label} (required)", False, grading.worth(label), output
    )


def _test(name: str, passed: bool, worth: float, output: str) -> dict[str, Any]:
    return {
        "name": visible(name, keep=""),
        "score": worth if passed else 0.0,
        "max_score": worth,
        "status": "passed" if passed else "failed",
        "output": visible(output, keep="\t\n"),
    }


def _file_tests(report: FileReport, grading: Grading, strict: bool) -> list[dict[str, Any]]:
    blocking = _blocking(report, strict)
    tests = [_claim_test(report, c, grading, blocking) for c in report.claims]
    made = {c.symbolic.claim.label for c in report.claims}
    tests += [
        _missing_test(report, label, grading, blocking)
        for label in grading.required
        if label not in made
    ]
    return tests


def render(reports: Sequence[FileReport], *, strict: bool, grading: Grading | None = None) -> str:
    """One grading for every file (the API's entry point)."""
    one = grading or Grading()
    return _document(reports, strict, lambda report: one)


def render_run(reports: Sequence[FileReport], context: RunContext) -> str:
    """Each file graded by the `[tool.shapecheck]` configuration nearest to it."""
    return _document(
        reports, context.strict, lambda r: grading_of(context.configs.get(r.source.name))
    )


def grading_of(config: Config | None) -> Grading:
    """The grading keys of a configuration: points per claim label (and a
    default), and the claims every file must make."""
    if config is None:
        return Grading()
    default = config.default_points
    return Grading(
        points_per_claim=1.0 if default is None else default,
        points=MappingProxyType(dict(config.points)),
        required=config.required_claims,
    )


def _document(
    reports: Sequence[FileReport], strict: bool, grading: Callable[[FileReport], Grading]
) -> str:
    tests = [t for report in reports for t in _file_tests(report, grading(report), strict)]
    for number, test in enumerate(tests, start=1):
        test["number"] = str(number)
    passed = sum(1 for t in tests if t["status"] == "passed")
    document = {
        "score": sum(t["score"] for t in tests),
        "output": f"{passed} of {len(tests)} claims right",
        "tests": tests,
    }
    return json.dumps(document, indent=2, ensure_ascii=True)
