"""Diagnostics as data: severity, the table of stable codes, and located messages.

Every stage returns its diagnostics instead of printing them; only the
renderers in `shapecheck.render` turn them into text. Codes never change
meaning once published; docs/diagnostics.md documents each one (a test keeps
the two in step).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from shapecheck.source import Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


# code -> (severity, short title). The title names the violated rule; the
# message of each diagnostic names the offending items.
CODES: dict[str, tuple[Severity, str]] = {
    # E0xx: reading and syntax
    "E001": (Severity.ERROR, "file is not UTF-8 text"),
    "E002": (Severity.ERROR, "unexpected character"),
    "E003": (Severity.ERROR, "syntax error"),
    "E004": (Severity.ERROR, "missing `]`"),
    "E005": (Severity.ERROR, "missing `=`"),
    "E006": (Severity.ERROR, "unclosed parenthesis or bracket"),
    "E007": (Severity.ERROR, "unmatched closing parenthesis or bracket"),
    "E008": (Severity.ERROR, "keyword used as a name"),
    "E009": (Severity.ERROR, "malformed number"),
    "E010": (Severity.ERROR, "indentation error"),
    "E011": (Severity.ERROR, "too deeply nested"),
    "E012": (Severity.ERROR, "statement or file too long"),
    "E013": (Severity.ERROR, "malformed `for` block"),
    "E014": (Severity.ERROR, "malformed derivative reference"),
    # E020: a path of the command line or of a searched folder cannot be read
    "E020": (Severity.ERROR, "path cannot be read"),
    # E1xx: names, declarations, unrolling
    "E101": (Severity.ERROR, "unknown name"),
    "E102": (Severity.ERROR, "name defined twice"),
    "E103": (Severity.ERROR, "name used before its definition"),
    "E104": (Severity.ERROR, "more than one `layout` statement"),
    "E105": (Severity.ERROR, "invalid size"),
    "E106": (Severity.ERROR, "literal value does not fit the declared shape"),
    "E107": (Severity.ERROR, "dim name used as an index on the left-hand side"),
    "E108": (Severity.ERROR, "index repeated on the left-hand side"),
    "E109": (Severity.ERROR, "invalid `layout`"),
    "E110": (Severity.ERROR, "derivative reference outside a claim"),
    "E111": (Severity.ERROR, "invalid unroll range"),
    "E112": (Severity.ERROR, "invalid name template"),
    "E113": (Severity.ERROR, "left-hand side index is not a name"),
    # E2xx: the index rules of spec section 4
    "E201": (Severity.ERROR, "index has two sizes"),
    "E202": (Severity.ERROR, "wrong number of indices"),
    "E203": (Severity.ERROR, "literal index out of range"),
    "E204": (Severity.ERROR, "left-hand side index missing on the right"),
    "E205": (Severity.ERROR, "delta indices of different sizes"),
    "E206": (Severity.ERROR, "index bound by `sum` used elsewhere"),
    "E207": (Severity.ERROR, "index bound by `sum` missing from its body"),
    "E208": (Severity.ERROR, "delta needs two or more indices"),
    "E209": (Severity.ERROR, "index size unknown"),
    # E3xx: derivatives and claims
    "E301": (Severity.ERROR, "claim signature does not match the derivative"),
    "E303": (Severity.ERROR, "derivation too large"),
    # E4xx: numeric verification
    "E401": (Severity.ERROR, "derivative disagrees with finite differences"),
    "E402": (Severity.ERROR, "claim is wrong"),
    "E403": (Severity.ERROR, "numeric check inconclusive"),
    "E404": (Severity.ERROR, "claim could not be verified"),
    # E999: shapecheck itself failed on the file (a bug; the file still fails)
    "E999": (Severity.ERROR, "internal error"),
    # Wxxx: warnings never change the exit status unless --strict
    "W101": (Severity.WARNING, "unused declaration"),
    "W102": (Severity.WARNING, "derivative is identically zero"),
    "W103": (Severity.WARNING, "`--layout` overridden by the file"),
    "W104": (Severity.WARNING, "derivative too large to verify"),
    "W105": (Severity.WARNING, "empty file"),
    # W9xx: `# shapecheck: ignore[...]` comments
    "W901": (Severity.WARNING, "unused suppression"),
    "W902": (Severity.WARNING, "suppression not honoured"),
    "W903": (Severity.WARNING, "code cannot be suppressed"),
}


@dataclass(frozen=True)
class Label:
    """A secondary place in the file, with what is true there."""

    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    """One located problem. `span` is None only for file-level problems."""

    code: str
    message: str
    span: Span | None
    labels: tuple[Label, ...] = ()
    hints: tuple[str, ...] = ()
    # Where an unrolled line came from, e.g. "in `for t in 1..3` with t = 2".
    context: str | None = None
    # 1-based (line, column) of a problem in a file that has no decoded text
    # to hold a span (an invalid UTF-8 byte): renderers still print
    # `file:line:col:` for it.
    position: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown diagnostic code {self.code}")
        if self.position is not None and min(self.position) < 1:
            raise ValueError(f"bad position {self.position}")

    @property
    def severity(self) -> Severity:
        return CODES[self.code][0]

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def diagnostic(
    code: str,
    span: Span | None,
    message: str,
    *,
    labels: tuple[Label, ...] | list[Label] = (),
    hints: tuple[str, ...] | list[str] = (),
    context: str | None = None,
    position: tuple[int, int] | None = None,
) -> Diagnostic:
    """`position` locates a problem that has no span (see `Diagnostic.position`)."""
    return Diagnostic(code, message, span, tuple(labels), tuple(hints), context, position)
