"""The tolerance of numeric verification: running maxima over compared pairs.

Used by `differences` (derived against finite differences) and `claimcheck`
(claimed against true). An entry passes when |derived - reference| ≤ atol +
rtol · max(|derived|, |reference|) + 4 |uncertainty|, where the uncertainty is
the finite difference's own (fd(h) - fd(2h)): it grows with rounding noise in
large sums, where fixed tolerances fail on correct gradients, and stays tiny
next to a real mistake, which is off by O(1). A NaN or an Inf on either side
makes the comparison inconclusive, never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shapecheck.numeric.verdicts import Check, Mode, Settings, Verdict, Worst

Array = Any


@dataclass
class Comparison:
    """Running maxima over compared pairs, and the worst one."""

    settings: Settings
    compared: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    worst_excess: float = -math.inf
    worst: Worst | None = None
    failed: bool = False
    nonfinite: bool = False

    def add(
        self,
        derived: Array,
        reference: Array,
        uncertainty: Array,
        where: Callable[[int], Worst],
    ) -> None:
        """Compare two arrays entry by entry; `where` names the entry at a flat position."""
        reference = np.asarray(reference, dtype=np.float64)
        uncertainty = np.broadcast_to(np.asarray(uncertainty, dtype=np.float64), reference.shape)
        uncertainty = uncertainty.ravel()
        derived = np.asarray(derived, dtype=np.float64).ravel()
        reference = reference.ravel()
        if not (np.all(np.isfinite(derived)) and np.all(np.isfinite(reference))):
            self.nonfinite = True
            return
        self.compared += derived.size
        if derived.size:
            self._update(derived, reference, uncertainty, where)

    def _update(
        self, derived: Array, reference: Array, uncertainty: Array, where: Callable[[int], Worst]
    ) -> None:
        error = np.abs(derived - reference)
        scale = np.maximum(np.abs(derived), np.abs(reference))
        allowed = self.settings.atol + self.settings.rtol * scale + 4.0 * np.abs(uncertainty)
        relative = error / np.maximum(scale, np.finfo(np.float64).tiny)
        self.max_abs = max(self.max_abs, float(error.max()))
        self.max_rel = max(self.max_rel, float(np.where(scale > 0, relative, 0.0).max()))
        excess = error - allowed
        position = int(np.argmax(excess))
        if excess[position] > self.worst_excess:
            self.worst_excess = float(excess[position])
            self.worst = where(position)
        if np.any(excess > 0):
            self.failed = True

    def result(self, mode: Mode) -> Check:
        if self.nonfinite:
            return Check(
                Verdict.INCONCLUSIVE, mode, self.compared, reason="NaN or Inf in the comparison"
            )
        return Check(
            Verdict.FAILED if self.failed else Verdict.OK,
            mode,
            self.compared,
            self.max_abs,
            self.max_rel,
            self.worst,
        )
