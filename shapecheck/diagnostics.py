"""Diagnostics as data: severity, the table of stable codes, and located messages.

Every stage returns its diagnostics instead of printing them; only the
renderers in `shapecheck.render` turn them into text. Codes never change
meaning once published; docs/diagnostics.md documents each one (a test keeps
the two in step).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from shapecheck.source import Span

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class Code(str, enum.Enum):
    """A stable diagnostic code; each is a key of `CODES` (a test keeps the two in step).

    A member is its code: it equals, hashes, prints and formats as `"E201"`,
    so JSON and text output keep their exact words.
    """

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        # Python 3.11 formats mixed-in enums as `Code.E201`; output wants the code.
        return format(str(self.value), spec)

    __hash__ = str.__hash__

    E001 = "E001"
    E002 = "E002"
    E003 = "E003"
    E004 = "E004"
    E005 = "E005"
    E006 = "E006"
    E007 = "E007"
    E008 = "E008"
    E009 = "E009"
    E010 = "E010"
    E011 = "E011"
    E012 = "E012"
    E013 = "E013"
    E014 = "E014"
    E015 = "E015"
    E016 = "E016"
    E017 = "E017"
    E020 = "E020"
    E021 = "E021"
    E022 = "E022"
    E023 = "E023"
    E024 = "E024"
    E025 = "E025"
    E026 = "E026"
    E027 = "E027"
    E030 = "E030"
    E031 = "E031"
    E032 = "E032"
    E033 = "E033"
    E040 = "E040"
    E041 = "E041"
    E055 = "E055"
    E056 = "E056"
    E057 = "E057"
    E060 = "E060"
    E061 = "E061"
    E062 = "E062"
    E065 = "E065"
    E066 = "E066"
    E067 = "E067"
    E070 = "E070"
    E071 = "E071"
    E072 = "E072"
    E073 = "E073"
    E074 = "E074"
    E101 = "E101"
    E102 = "E102"
    E103 = "E103"
    E104 = "E104"
    E105 = "E105"
    E106 = "E106"
    E107 = "E107"
    E108 = "E108"
    E109 = "E109"
    E110 = "E110"
    E111 = "E111"
    E112 = "E112"
    E113 = "E113"
    E115 = "E115"
    E150 = "E150"
    E130 = "E130"
    E135 = "E135"
    E136 = "E136"
    E137 = "E137"
    E138 = "E138"
    E139 = "E139"
    E140 = "E140"
    E141 = "E141"
    E142 = "E142"
    E143 = "E143"
    E144 = "E144"
    E145 = "E145"
    E160 = "E160"
    E161 = "E161"
    E165 = "E165"
    E201 = "E201"
    E202 = "E202"
    E203 = "E203"
    E204 = "E204"
    E205 = "E205"
    E206 = "E206"
    E207 = "E207"
    E208 = "E208"
    E209 = "E209"
    E215 = "E215"
    E216 = "E216"
    E220 = "E220"
    E230 = "E230"
    E231 = "E231"
    E232 = "E232"
    E235 = "E235"
    E236 = "E236"
    E237 = "E237"
    E238 = "E238"
    E239 = "E239"
    E170 = "E170"
    E301 = "E301"
    E302 = "E302"
    E303 = "E303"
    E401 = "E401"
    E402 = "E402"
    E403 = "E403"
    E404 = "E404"
    E405 = "E405"
    E999 = "E999"
    W101 = "W101"
    W102 = "W102"
    W103 = "W103"
    W104 = "W104"
    W105 = "W105"
    W106 = "W106"
    W107 = "W107"
    W110 = "W110"
    W111 = "W111"
    W113 = "W113"
    W115 = "W115"
    W120 = "W120"
    W901 = "W901"
    W902 = "W902"
    W903 = "W903"


# code -> (severity, short title). The title names the violated rule; the
# message of each diagnostic names the offending items.
CODES: dict[Code, tuple[Severity, str]] = {
    # E0xx: reading and syntax
    Code.E001: (Severity.ERROR, "file is not UTF-8 text"),
    Code.E002: (Severity.ERROR, "unexpected character"),
    Code.E003: (Severity.ERROR, "syntax error"),
    Code.E004: (Severity.ERROR, "missing `]`"),
    Code.E005: (Severity.ERROR, "missing `=`"),
    Code.E006: (Severity.ERROR, "unclosed parenthesis or bracket"),
    Code.E007: (Severity.ERROR, "unmatched closing parenthesis or bracket"),
    Code.E008: (Severity.ERROR, "keyword used as a name"),
    Code.E009: (Severity.ERROR, "malformed number"),
    Code.E010: (Severity.ERROR, "indentation error"),
    Code.E011: (Severity.ERROR, "too deeply nested"),
    Code.E012: (Severity.ERROR, "statement or file too long"),
    Code.E013: (Severity.ERROR, "malformed `for` block"),
    Code.E014: (Severity.ERROR, "malformed derivative reference"),
    Code.E015: (Severity.ERROR, "`mean` without the indices it averages over"),
    Code.E016: (Severity.ERROR, "comparison needs parentheses"),
    Code.E017: (Severity.ERROR, "`max` or `min` needs two arguments"),
    # E020: a path of the command line or of a searched folder cannot be read
    Code.E020: (Severity.ERROR, "path cannot be read"),
    # E021-E026: notation from numpy, LaTeX or paper, shown the `.idx` way (spec 9.7)
    Code.E021: (Severity.ERROR, "matrix notation"),
    Code.E022: (Severity.ERROR, "numpy notation"),
    Code.E023: (Severity.ERROR, "slice"),
    Code.E024: (Severity.ERROR, "LaTeX notation"),
    Code.E025: (Severity.ERROR, "not a function of the language"),
    Code.E026: (Severity.ERROR, "`sum` without its indices"),
    # E027: a function of one argument given several
    Code.E027: (Severity.ERROR, "function takes one argument"),
    Code.E030: (Severity.ERROR, "misplaced or repeated `in` or `positive`"),
    Code.E031: (Severity.ERROR, "integer array or selection times an index in an index expression"),
    Code.E032: (Severity.ERROR, "`argmax` or `argmin` over several indices"),
    Code.E033: (Severity.ERROR, "function other than `argmax` or `argmin` in an index position"),
    # E040-E041: index expressions and size expressions (spec 9.4)
    Code.E040: (Severity.ERROR, "number with an exponent in an index list"),
    Code.E041: (Severity.ERROR, "index or size expression too long"),
    # E055-E057: the call forms of the matrix functions (spec 9.5)
    Code.E055: (Severity.ERROR, "matrix function of an expression"),
    Code.E056: (Severity.ERROR, "`inv(A)` without its two indices"),
    Code.E057: (Severity.ERROR, "`det(A)` or `trace(A)` with indices"),
    # E060-E064: opaque functions `fn f` and their primes `f'(x)` (spec 9.5)
    Code.E060: (Severity.ERROR, "prime after a name that is not an `fn` function"),
    Code.E061: (Severity.ERROR, "`fn` function without its argument in parentheses"),
    Code.E062: (Severity.ERROR, "`fn` statement with a shape, value or argument"),
    # E1xx: names, declarations, unrolling
    Code.E065: (Severity.ERROR, "derivative shorthand of order three or more"),
    Code.E066: (Severity.ERROR, "mixed second-derivative shorthand"),
    Code.E067: (Severity.ERROR, "second derivative by a name ending in a digit"),
    # E070-E074: the prefix sum `Σ_j e` as input (spec 10)
    Code.E070: (Severity.ERROR, "`Σ` without the index it sums over"),
    Code.E071: (Severity.ERROR, "`Σ_` not followed by an index"),
    Code.E072: (Severity.ERROR, "malformed index list after `Σ_`"),
    Code.E073: (Severity.ERROR, "`Σ_j` with nothing to sum"),
    Code.E074: (Severity.ERROR, "`Σ_j` bare in an exponent"),
    Code.E101: (Severity.ERROR, "unknown name"),
    Code.E102: (Severity.ERROR, "name defined twice"),
    Code.E103: (Severity.ERROR, "name used before its definition"),
    Code.E104: (Severity.ERROR, "more than one `layout` statement"),
    Code.E105: (Severity.ERROR, "invalid size"),
    Code.E106: (Severity.ERROR, "literal value does not fit the declared shape"),
    Code.E107: (Severity.ERROR, "dim name used as an index on the left-hand side"),
    Code.E108: (Severity.ERROR, "index repeated on the left-hand side"),
    Code.E109: (Severity.ERROR, "invalid `layout`"),
    Code.E110: (Severity.ERROR, "derivative reference outside a claim"),
    Code.E111: (Severity.ERROR, "invalid unroll range"),
    Code.E112: (Severity.ERROR, "invalid name template"),
    Code.E113: (Severity.ERROR, "left-hand side index is not a name"),
    Code.E115: (Severity.ERROR, "name used both as an index and as a size"),
    Code.E150: (Severity.ERROR, "variable of `sum[t in A..B]` already in use"),
    Code.E130: (Severity.ERROR, "`softmax`, `logsumexp` or `norm` without its indices"),
    Code.E135: (Severity.ERROR, "`in` on a declaration other than `input`"),
    Code.E136: (Severity.ERROR, "`in` together with `positive`"),
    Code.E137: (Severity.ERROR, "integer value outside its range"),
    Code.E138: (Severity.ERROR, "`argmax` or `argmin` without its index"),
    Code.E139: (Severity.ERROR, "integer array as a derivative target"),
    Code.E140: (Severity.ERROR, "index position may leave its range"),
    Code.E141: (Severity.ERROR, "size expression that is not a polynomial of the sizes"),
    Code.E142: (Severity.ERROR, "`--size` sets a computed size"),
    Code.E143: (Severity.ERROR, "no sizes make a computed size a positive whole number"),
    Code.E144: (Severity.ERROR, "product of two indices in an index expression"),
    Code.E145: (Severity.ERROR, "index that stands only inside index expressions has no size"),
    # E160-E161: the matrix of `det`, `inv`, `trace` (spec 9.5)
    Code.E160: (Severity.ERROR, "matrix function of an array that is not 2-D"),
    Code.E161: (Severity.ERROR, "matrix function of a matrix that is not square"),
    Code.E165: (Severity.ERROR, "`fn` function used as an array"),
    # E2xx: the index rules of spec section 4
    Code.E201: (Severity.ERROR, "index has two sizes"),
    Code.E202: (Severity.ERROR, "wrong number of indices"),
    Code.E203: (Severity.ERROR, "literal index out of range"),
    Code.E204: (Severity.ERROR, "left-hand side index missing on the right"),
    Code.E205: (Severity.ERROR, "delta indices of different sizes"),
    Code.E206: (Severity.ERROR, "index bound by `sum` used elsewhere"),
    Code.E207: (Severity.ERROR, "index bound by `sum` missing from its body"),
    Code.E208: (Severity.ERROR, "delta needs two or more indices"),
    Code.E209: (Severity.ERROR, "index size unknown"),
    Code.E215: (Severity.ERROR, "index bound by `mean` missing from its body"),
    Code.E216: (Severity.ERROR, "index bound by `mean` used elsewhere"),
    Code.E220: (Severity.ERROR, "index used as a value indexes no array"),
    Code.E230: (
        Severity.ERROR,
        "index of `softmax`, `logsumexp` or `norm` missing from its argument",
    ),
    Code.E231: (Severity.ERROR, "index bound by `logsumexp` or `norm` used elsewhere"),
    Code.E232: (Severity.ERROR, "index listed twice in, or not allowed in, a function's brackets"),
    Code.E235: (Severity.ERROR, "integer array indexes a position of another size"),
    Code.E236: (Severity.ERROR, "array in an index position is not an integer array"),
    Code.E237: (
        Severity.ERROR,
        "index bound by `max`, `min`, `argmax` or `argmin` used elsewhere",
    ),
    Code.E238: (
        Severity.ERROR,
        "index of `max`, `min`, `argmax` or `argmin` missing from its argument",
    ),
    Code.E239: (Severity.ERROR, "`argmax` or `argmin` indexes a position of another size"),
    # E3xx: derivatives and claims
    Code.E170: (Severity.ERROR, "second derivative through `loss`"),
    Code.E301: (Severity.ERROR, "claim signature does not match the derivative"),
    Code.E302: (Severity.ERROR, "named signature does not match the derivative"),
    Code.E303: (Severity.ERROR, "derivation too large"),
    # E4xx: numeric verification
    Code.E401: (Severity.ERROR, "derivative disagrees with finite differences"),
    Code.E402: (Severity.ERROR, "claim is wrong"),
    Code.E403: (Severity.ERROR, "numeric check inconclusive"),
    Code.E404: (Severity.ERROR, "claim could not be verified"),
    Code.E405: (Severity.ERROR, "claim could not be verified: every entry at a kink"),
    # E999: shapecheck itself failed on the file (a bug; the file still fails)
    Code.E999: (Severity.ERROR, "internal error"),
    # Wxxx: warnings never change the exit status unless --strict
    Code.W101: (Severity.WARNING, "unused declaration"),
    Code.W102: (Severity.WARNING, "derivative is identically zero"),
    Code.W103: (Severity.WARNING, "`--layout` overridden by the file"),
    Code.W104: (Severity.WARNING, "derivative too large to verify"),
    Code.W105: (Severity.WARNING, "empty file"),
    Code.W106: (Severity.WARNING, "index named like a dim"),
    Code.W107: (Severity.WARNING, "derivative not written out with `--expand`"),
    Code.W110: (Severity.WARNING, "derivative not verified: every entry at a kink"),
    Code.W111: (Severity.WARNING, "derivative not verified: ill-conditioned matrix"),
    Code.W113: (Severity.WARNING, "not verified: numeric check inconclusive"),
    Code.W115: (Severity.WARNING, "derivative spelling also names another array"),
    Code.W120: (Severity.WARNING, "two sizes coincide in the numeric checks"),
    # W9xx: `# shapecheck: ignore[...]` comments
    Code.W901: (Severity.WARNING, "unused suppression"),
    Code.W902: (Severity.WARNING, "suppression not honoured"),
    Code.W903: (Severity.WARNING, "code cannot be suppressed"),
}


@dataclass(frozen=True)
class Label:
    """A secondary place in the file, with what is true there."""

    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    """One located problem. `span` is None only for file-level problems."""

    code: Code
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
        # A bare "E201" (from an API user) becomes its member.
        object.__setattr__(self, "code", Code(self.code))
        if self.position is not None and min(self.position) < 1:
            raise ValueError(f"bad position {self.position}")

    @property
    def severity(self) -> Severity:
        return CODES[self.code][0]

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def diagnostic(
    code: Code,
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
