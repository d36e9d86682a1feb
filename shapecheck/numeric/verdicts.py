"""Numeric verification's results: verdicts, check modes, and the records that carry them.

What `verify` and `claimcheck` produce and what `report` and the renderers
read. No numpy here, so that renderers and `report` may import it in a run
that verifies nothing.

The enums mix in `str`: each member equals, hashes and formats as its old
bare string ("ok", "not verified", ...), so that text and JSON output keep
their exact words and code comparing with strings keeps working.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any


class _Word(str, enum.Enum):
    """An enum whose members print, format and hash as their value."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        # Python 3.11 formats mixed-in enums as `Verdict.OK`; the output wants the word.
        return format(str(self.value), spec)

    # Equal to its value, so it must hash like it (Enum hashes by member name).
    __hash__ = str.__hash__


class Verdict(_Word):
    """How a derivative fared against finite differences."""

    OK = "ok"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"  # NaN, Inf or a kink: never a pass
    NOT_VERIFIED = "not verified"  # too large for the memory budget


class ClaimVerdict(_Word):
    """How a claim fared against the (verified) true derivative."""

    OK = "ok"
    WRONG = "wrong"
    INCONCLUSIVE = "inconclusive"


class Mode(_Word):
    """How a derivative was compared."""

    FULL = "full"  # every Jacobian entry
    DIRECTIONS = "directions"  # vᵀ J u along random directions
    NONE = "none"  # not evaluated


# The reason of a check with nothing left to compare once the entries whose
# differences straddle a kink are left out (`kinks`).
AT_KINK = "all entries at a kink"
# A comparison or kink within rounding of its tie in a formula compared
# (`numeric/ties.py`): rounding, not the point, picked the branch.
NEAR_TIE = "a comparison or kink is within rounding of its tie at these values"
# The reason's start for a check whose matrix stays ill-conditioned (spec 9.5;
# `numeric/matrices.py` gives the rest: which matrix, its condition number).
ILL_CONDITIONED = "ill-conditioned matrix"


def nobodys_fault(reason: str | None) -> bool:
    """Whether an inconclusive check is neither the user's doing nor the tool's
    (every entry at a kink, an ill-conditioned matrix): for a derived
    derivative, a warning and a skipped test rather than an error."""
    return reason is not None and (
        reason in (AT_KINK, NEAR_TIE) or reason.startswith(ILL_CONDITIONED)
    )


DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-8
DEFAULT_BUDGET_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Settings:
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    budget_bytes: int = DEFAULT_BUDGET_BYTES
    seed: int = 0


@dataclass(frozen=True)
class Worst:
    """The worst comparison: an entry (1-based, signature order) or a direction."""

    index: tuple[int, ...] | None
    direction: int | None
    derived: float
    reference: float


@dataclass(frozen=True)
class PointValue:
    """A derivative's value at the point the file itself fixes (every array it
    depends on has a literal value, or is given by `--at`): its shape and its
    entries in row-major order, as the report shows them."""

    shape: tuple[int, ...]
    entries: tuple[float, ...]

    def nested(self) -> float | list[Any]:
        """The entries as nested lists, one level per axis (a float for a scalar)."""

        def level(axis: int, start: int) -> float | list[Any]:
            if axis == len(self.shape):
                return self.entries[start]
            step = math.prod(self.shape[axis + 1 :])
            return [level(axis + 1, start + k * step) for k in range(self.shape[axis])]

        return level(0, 0)


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    mode: Mode
    compared: int = 0
    max_abs_error: float = 0.0
    # None where every compared value is zero to within the absolute
    # tolerance: a relative error is then 0/0, not applicable.
    max_rel_error: float | None = 0.0
    worst: Worst | None = None
    reason: str | None = None
    hints: tuple[str, ...] = ()
    suggested_sizes: tuple[tuple[str, int], ...] = ()
    # Entries (or directions) the finite differences could not resolve: their
    # own error estimate exceeds the tolerance; left out of `compared`.
    undecidable: int = 0
    # Entries (or direction coordinates) left out because a central difference
    # would straddle a kink (`kinks`), and how often drawn values were redrawn
    # to move off one.
    at_kink: int = 0
    redraws: int = 0
    # The derivative's value where the file fixes every value it depends on
    # (`numeric.point`), for a derivative whose check passed.
    value: PointValue | None = None


@dataclass(frozen=True)
class ClaimCheck:
    verdict: ClaimVerdict
    check: Check
    diagnosis: str | None = None
