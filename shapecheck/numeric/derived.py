"""The derived side of numeric verification: a derivation's own value.

What `verify` compares finite differences with, what `claimcheck` compares a
claim with, and what `--save` writes: each derived Jacobian evaluated once on
the forward values (its adjoint lines first), cached by label, with the
rounding magnitudes of that evaluation beside it. A value whose evaluation
overflowed or underflowed on the way is NaN throughout, so no check trusts it.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from shapecheck.numeric import differences, rounding, ties
from shapecheck.numeric.evaluate import Evaluator, align
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Adjoint, Derivation

Array = Any


class DerivedValues:
    """Derived Jacobians and their rounding magnitudes on one forward pass."""

    def __init__(
        self,
        forward: Mapping[str, Array],
        steps: Sequence[tuple[str, tuple[t.Idx, ...], t.Term]] = (),
    ) -> None:
        self.forward = forward
        # The forward pass's definitions (name, indices, formula), for the
        # rounding magnitudes of the arrays it computed, when a tie is asked about.
        self._steps = steps
        self._computed: dict[str, Array] | None = None
        # Per derivation label, its lines' and the forward pass's magnitudes
        # as ties are looked at (a claim asks twice: which node, which entries).
        self._tie_known: dict[str, Mapping[str, Array]] = {}
        self.values: dict[str, Array] = {}
        self.magnitudes: dict[str, Array] = {}
        # The last adjoint lines evaluated, their values and whether any
        # overflowed: derivatives of one A (dL/dWh, dL/dWx, dL/db) share their
        # lines. One set only, so the memory budget's estimate still holds.
        self.lines: tuple[tuple[Adjoint, ...], dict[str, Array], bool] | None = None

    def adjoints(self, derivation: Derivation) -> tuple[dict[str, Array], Evaluator]:
        """The forward values with every adjoint line of the derivation beside
        them, and the evaluator that made them (it knows whether one overflowed)."""
        if self.lines is not None and self.lines[0] == derivation.adjoints:
            values = dict(self.lines[1])
            evaluator = Evaluator(values)
            evaluator.nonfinite = self.lines[2]
            return values, evaluator
        self.lines = None
        values = dict(self.forward)
        evaluator = Evaluator(values)
        for adjoint in derivation.adjoints:
            values[adjoint.label] = align(
                evaluator.value(adjoint.formula),
                tuple(i.name for i in adjoint.formula.free),
                adjoint.indices,
            )
        self.lines = (derivation.adjoints, dict(values), evaluator.nonfinite)
        return values, evaluator

    def value(self, derivation: Derivation) -> Array:
        """The derived Jacobian, numerator order (A's indices, then B's)."""
        cached = self.values.get(derivation.label)
        if cached is None:
            _, evaluator = self.adjoints(derivation)
            cached = align(
                trusted(evaluator.value(derivation.formula), evaluator),
                tuple(i.name for i in derivation.formula.free),
                derivation.indices,
            )
            self.values[derivation.label] = cached
        return cached

    def signature_value(self, derivation: Derivation) -> Array:
        """The derived Jacobian in the file's layout (signature order)."""
        order = differences.signature_permutation(derivation)
        return np.transpose(self.value(derivation), order)

    def computed(self) -> dict[str, Array]:
        """The rounding magnitudes of every array the forward pass computed
        (`rounding.forward_scales`), made on the first tie asked about: a
        comparison reading a defined array compares a computed number."""
        if self._computed is None:
            self._computed = rounding.forward_scales(self.forward, self._steps, per_operation=True)
        return self._computed

    def tied_node(self, derivation: Derivation) -> t.Term | None:
        """A kinked node of the derived formula or its adjoint lines within
        rounding of its tie at these values (`ties`), or None."""
        values, _ = self.adjoints(derivation)
        formulas = [derivation.formula, *(a.formula for a in derivation.adjoints)]
        return ties.tied_node(formulas, values, self._known(derivation))

    def _known(self, derivation: Derivation) -> Mapping[str, Array]:
        """The rounding magnitudes of the adjoint lines and of the forward
        pass's computed arrays."""
        known = self._tie_known.get(derivation.label)
        if known is None:
            steps = [(a.label, a.indices, a.formula) for a in derivation.adjoints]
            computed = self.computed()
            lines = rounding.forward_scales(self.forward, steps, per_operation=True, known=computed)
            known = self._tie_known[derivation.label] = ChainMap(lines, computed)
        return known

    def tied_entries(self, derivation: Derivation) -> Array | None:
        """The entries of the derived Jacobian, in the file's layout, that a
        kinked node within rounding of its tie reaches (`ties.tied_entries`),
        through the adjoint lines; None where none does."""
        values, _ = self.adjoints(derivation)
        magnitudes = rounding.Magnitudes(values, self._known(derivation), per_operation=True)
        lines: dict[str, Array] = {}
        for adjoint in derivation.adjoints:  # nearest A first: each reads nearer ones
            reached = ties.tied_entries(adjoint.formula, lines, magnitudes)
            if reached is not None:
                names = t.names(adjoint.formula.free)
                lines[adjoint.label] = align(reached, names, adjoint.indices)
        reached = ties.tied_entries(derivation.formula, lines, magnitudes)
        if reached is None:
            return None
        reached = align(reached, t.names(derivation.formula.free), derivation.indices)
        return np.transpose(reached, differences.signature_permutation(derivation))

    def tie_magnitude(self, derivation: Derivation) -> Array:
        """The derived Jacobian's rounding magnitudes as ties are looked at
        (`rounding`, per operation, on the forward pass's computed arrays), in
        the file's layout: a claim that refers to it reads a computed value."""
        order = differences.signature_permutation(derivation)
        size = rounding.derived_scale(
            self.forward, derivation, per_operation=True, known=self.computed()
        )
        return np.transpose(size, order)

    def rounding_error(self, derivation: Derivation) -> Array:
        """The bound on the derived Jacobian's own rounding (numerator order): a
        softmax's s (g − Σ s g) at saturation is 0 exactly and rounding in
        numbers, which finite differences do not see."""
        return rounding.rounding_error(rounding.derived_scale(self.forward, derivation))

    def along(self, derivation: Derivation, contracted: t.Term) -> Callable[[Array, Array], Array]:
        """vᵀ J u as `contracted` evaluates it (reading #u and #v), NaN where an
        evaluation behind it overflowed."""
        values, adjoints = self.adjoints(derivation)

        def along(u: Array, v: Array) -> Array:
            evaluator = Evaluator({**values, "#u": u, "#v": v})
            return trusted(evaluator.value(contracted), adjoints, evaluator)

        return along

    def along_error(
        self, derivation: Derivation, contracted: t.Term
    ) -> Callable[[Array, Array], Array]:
        """`rounding_error` for vᵀ J u evaluated as `contracted` (reading #u and #v)."""
        values, _ = self.adjoints(derivation)
        steps = [(a.label, a.indices, a.formula) for a in derivation.adjoints]
        lines = rounding.forward_scales(self.forward, steps)

        def error(u: Array, v: Array) -> Array:
            magnitudes = rounding.Magnitudes({**values, "#u": u, "#v": v}, lines)
            return rounding.rounding_error(magnitudes.both(contracted)[1])

        return error

    def magnitude(self, derivation: Derivation) -> Array:
        """The rounding magnitudes (`rounding`) of the derived Jacobian, in the
        file's layout: its evaluation carries at most `rounding_error` of them."""
        cached = self.magnitudes.get(derivation.label)
        if cached is None:
            order = differences.signature_permutation(derivation)
            cached = np.transpose(rounding.derived_scale(self.forward, derivation), order)
            self.magnitudes[derivation.label] = cached
        return cached


def trusted(value: Array, *evaluators: Evaluator) -> Array:
    """The value, or NaN throughout where any evaluation behind it overflowed or
    underflowed on the way: a finite result is no evidence then."""
    if any(evaluator.nonfinite for evaluator in evaluators):
        return np.full_like(value, np.nan)
    return value
