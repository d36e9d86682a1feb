"""Which diagnostics word a claim's or a derivative's numeric verdict.

`numeric.report` turns a wrong claim into an E402 at the claim, an
inconclusive check into an E403 or E404 (E405 for a claim with every entry at
a kink; W113 for a claim confirmed symbolically, E401 if its numbers disagree),
a failed derivative into an E401, an inconclusive one into a W113, one too
large into a W104, one with every entry at a kink into a W110 and one whose
matrix stays ill-conditioned into a W111 at its
`derive` statement. Formats that give each
claim and each derivative a record of its own (JUnit, SARIF properties) use
this to show such a diagnostic with its claim once, not twice.
"""

from __future__ import annotations

from shapecheck.diagnostics import Code, Diagnostic
from shapecheck.pipeline import ClaimResult, DerivativeResult, FileReport

# E401 and W113 word a claim confirmed symbolically whose numeric check
# disagrees (a bug in shapecheck) or cannot decide.
_CLAIM_CODES = frozenset({Code.E401, Code.E402, Code.E403, Code.E404, Code.E405, Code.W113})
_DERIVATIVE_CODES = frozenset({Code.E401, Code.W104, Code.W110, Code.W111, Code.W113})


def claim_of(report: FileReport, problem: Diagnostic) -> ClaimResult | None:
    """The claim whose verdict `problem` words, if any."""
    if problem.code not in _CLAIM_CODES or problem.span is None:
        return None
    for claim in report.claims:
        if claim.symbolic.claim.span == problem.span and claim.check is not None:
            return claim
    return None


def derivative_of(report: FileReport, problem: Diagnostic) -> DerivativeResult | None:
    """The derivative whose check `problem` words, if any."""
    if problem.code not in _DERIVATIVE_CODES or problem.span is None:
        return None
    for result in report.derivatives:
        if result.request.span == problem.span and result.check is not None:
            return result
    return None


def verdict_problems(report: FileReport, result: object) -> list[Diagnostic]:
    """The diagnostics that word the verdict of `result` (a claim or a derivative result)."""
    return [
        d for d in report.diagnostics if (claim_of(report, d) or derivative_of(report, d)) is result
    ]
