"""How much rounding a formula's float64 evaluation may carry: a running error bound.

A claim is compared with the true derivative (`claimcheck`); both are formulas
evaluated in float64, and a right claim written with heavy cancellation,
`(x[i] + 1e12) - 1e12 + x[i]`, loses digits that no tolerance relative to the
result accounts for. Its rounding error is bounded, to first order, by
ε · A, where A is the formula evaluated on magnitudes (Wilkinson's running
error bound):

- an array or a constant: A = |value| (each carries a relative error of ε);
- a sum: A = Σ A(part), which counts the size of the terms, not of the result;
- a product (an einsum): the same contraction of its factors' A;
- a function f(a): A = |f(a)| + |f'(a)| · A(a);
- softmax, logsumexp, norm along j: A = |f(a)| + (bound of the slope) · ‖A(a)‖
  along j (their slopes sum to at most 1 in magnitude; softmax's is twice its value);
- a power b^e: A = |b^e| + |e b^(e−1)| · A(b) + |log|b| · b^e| · A(e).

The ROUNDING ulps of the bound cover the few operations of a short
evaluation. With `per_operation` (the question of ties: can rounding have put
a side across its tie?), each addition and multiplication adds its own: a sum
of n terms + (n − 1)/ROUNDING · Σ|terms| (each partial sum is within Σ|terms|),
a product of k factors contracted over m entries + (k − 1 + m − 1)/ROUNDING
times the contraction of |factors|; these add up along a chain of definitions,
through `known` (a running sum s{t} = s{t-1} + a[t]). 1 + 2⁻⁵³ added 199
times in order stays 1, 2.2e-14 short; einsum keeps a few running sums, 500
ulps short over 2,000 entries; 16 ulps of Σ|terms| saw neither. Each
product, power and function whose operand may be nonzero adds the least
normal number, for underflow (`_underflow`). Round-off
estimates of finite differences keep ROUNDING ulps for a whole evaluation:
the worst case made entries of an RNN's loss over 200 steps undecidable,
where in-order error is about √n ulps.

`magnitude(term, values, known)` returns A on the term's free indices (in
`term.free` order, as `Evaluator.value`); `known` gives A for arrays that are
themselves results (derivative references, adjoints), and every other array
counts |value|. A NaN (0 to a negative power's derivative) counts as infinite:
nothing can be decided there.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from shapecheck.exhaustive import assert_never
from shapecheck.numeric.evaluate import (
    Evaluator,
    align,
    contract_product,
    indexed_function,
    size_value,
    softmax_magnitude,
)
from shapecheck.numeric.matrices import condition_number, inverse_name, matrix_function
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Derivation

Array = Any

# Ulps per operation the bound allows: the first-order bound assumes one rounding
# of ε per operation, and a sum of n terms may carry up to n (numpy's pairwise
# and BLAS sums carry about log n).
ROUNDING = 16.0
_EPS = float(np.finfo(np.float64).eps)
# What one operation may lose to underflow (gradual: at most half the least
# subnormal, 2⁻¹⁰⁷⁵), as a magnitude: the least normal number, whose
# ROUNDING ε is about 8e-323, covers it.
_UNDERFLOW = float(np.finfo(np.float64).tiny)


def _slopes(name: str, argument: Array, value: Array) -> Array:
    """|f'(a)| for the named function, entry by entry."""
    a = argument
    match name:
        case "exp":
            return np.abs(value)
        case "log":
            return 1.0 / np.abs(a)
        case "tanh":
            return 1.0 - value**2
        case "sigmoid":
            return value * (1.0 - value)
        case "sin":
            return np.abs(np.cos(a))
        case "cos":
            return np.abs(np.sin(a))
        case "sqrt":
            return 0.5 / np.abs(value)
        case "relu" | "abs":
            return np.ones_like(a)
        case _:  # step, sign: piecewise constant
            return np.zeros_like(a)


class _Absolute(Mapping[str, Array]):
    """Array magnitudes: `known` where given, else |value|."""

    def __init__(self, values: Mapping[str, Array], known: Mapping[str, Array]) -> None:
        self._values = values
        self._known = known

    def __getitem__(self, name: str) -> Array:
        if name in self._known:
            return self._known[name]
        return np.abs(np.asarray(self._values[name], dtype=np.float64))

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class Magnitudes:
    """Values and first-order rounding magnitudes of terms."""

    def __init__(
        self,
        values: Mapping[str, Array],
        known: Mapping[str, Array],
        varying: set[str] | None = None,
        *,
        per_operation: bool = False,
    ) -> None:
        self.plain = Evaluator(values)
        self.per_operation = per_operation
        self.known = known
        self.absolute = Evaluator(_Absolute(values, known))
        # Only the rounding of what changes with a perturbed input matters to
        # finite differences: a subterm free of `varying` is the same rounded
        # number at every point, and counts only its |value|.
        self.varying = varying
        # By identity, with the term kept: a term made for one evaluation (a
        # softmax's written form) is never freed for its id to be reused.
        self._varies: dict[int, tuple[t.Term, bool]] = {}

    def exact(self, term: t.Term) -> bool:
        """Whether the term is a bare value, the same number in every evaluation:
        a constant, an index value, an entry of an array given to the check.
        An array that is itself computed (`known`: a defined array, a
        derivative referred to, an adjoint line) is not: another formula
        computing the same quantity may round it to another number."""
        if isinstance(term, t.Tensor):
            return term.name not in self.known
        return isinstance(term, t.Const | t.IndexValue | t.Delta | t.SizeOf | t.Zero)

    def _constant(self, term: t.Term) -> bool:
        return self.varying is not None and not self._varying(term, self.varying)

    def _varying(self, term: t.Term, varying: set[str]) -> bool:
        cached = self._varies.get(id(term))
        known = None if cached is None else cached[1]
        if known is None:
            if isinstance(term, t.Tensor):
                known = term.name in varying
            elif isinstance(term, t.Loss | t.Matrix):
                known = term.array in varying
            else:
                known = any(self._varying(child, varying) for child in t.children(term))
            self._varies[id(term)] = (term, known)
        return known

    def both(self, term: t.Term) -> tuple[Array, Array]:
        """The term's value and its A, both on `term.free`."""
        with np.errstate(all="ignore"):
            value, size = self._both(term)
        size = np.where(np.isnan(size), np.inf, size)
        return np.asarray(value, dtype=np.float64), np.asarray(size, dtype=np.float64)

    def _both(self, term: t.Term) -> tuple[Array, Array]:
        value, size = self._both_node(term)
        # An overflowed (or NaN) intermediate makes every value above it
        # untrustworthy, however finite it looks: its error bound is infinite.
        if not np.all(np.isfinite(value)):
            return value, np.full(np.shape(size), np.inf)
        return value, size

    def _both_node(self, term: t.Term) -> tuple[Array, Array]:
        if self._constant(term):
            value = self.plain.value(term)
            return value, np.abs(value)
        match term:
            case t.Const() | t.SizeOf() | t.Zero() | t.Delta() | t.Tensor() | t.Loss():
                # Constants are not looked up: their sign is dropped here.
                return self.plain.value(term), np.abs(self.absolute.value(term))
            case t.IndexValue() | t.Compare() | t.Extremum():
                return self._piecewise(term)
            case t.Func() | t.Opaque() | t.Matrix():
                return self._applied(term)
            case t.IndexedFunc():
                return self._indexed(term)
            case t.Pow():
                return self._power(term)
            case t.Add():
                return self._sum(term)
            case t.Product():
                return self._product(term)
            case _:
                assert_never(term)

    def _sum(self, term: t.Add) -> tuple[Array, Array]:
        pairs = [(self._both(part), part) for part in term.terms]
        value = sum(_on(v, p, term) for (v, _), p in pairs)
        size = sum(_on(a, p, term) for (_, a), p in pairs)
        if self.per_operation and len(pairs) > 1:
            spread = sum(np.abs(_on(v, p, term)) for (v, _), p in pairs)
            size = size + (len(pairs) - 1) / ROUNDING * spread
        return value, size

    def _product(self, term: t.Product) -> tuple[Array, Array]:
        pairs = [self._both(factor) for factor in term.factors]
        value = contract_product(term, [v for v, _ in pairs])
        size = contract_product(term, [a for _, a in pairs])
        if self.per_operation:
            summed = math.prod(size_value(i.size) for i in term.summed)
            operations = len(pairs) - 1 + summed - 1
            if operations > 0:
                spread = contract_product(term, [np.abs(v) for v, _ in pairs])
                size = size + operations / ROUNDING * spread
            if len(pairs) > 1:
                # Products whose every factor may be nonzero, each of which may underflow.
                nonzero = contract_product(term, [(a > 0).astype(np.float64) for _, a in pairs])
                size = size + _UNDERFLOW * nonzero
        return value, size

    def _applied(self, term: t.Func | t.Opaque | t.Matrix) -> tuple[Array, Array]:
        """An element-wise function: its value's magnitude plus its slope times
        its argument's. The trace's magnitude is that of a sum (of |A|'s
        diagonal); a determinant or an inverse computed by elimination is off by
        its own size times the condition number (to first order, per unit of
        rounding)."""
        if isinstance(term, t.Func | t.Opaque):
            argument, spread = self._both(term.arg)
            value = self.plain.apply_term(term, argument)
            slope = self._slope(term, argument, value)
            size = np.abs(value) + _times(slope, spread)
            return value, self._underflow(size, spread)
        value = self.plain.value(term)
        if term.name == "trace":
            return value, np.abs(self.absolute.value(term))
        matrix = np.asarray(self.plain.lookup(term.array), dtype=np.float64)
        size = np.abs(value) * condition_number(matrix)
        # The condition number covers the matrix as given; a computed matrix
        # also carries its own rounding in (its A beyond |M|: `(x + c) - c`
        # at c = 1e14 is off by 0.7), which det and inv pass on to first
        # order: d det = det Σ M⁻¹[j,i] dM[i,j], d M⁻¹ = -M⁻¹ dM M⁻¹.
        carried = np.maximum(self.absolute.lookup(term.array) - np.abs(matrix), 0.0)
        if np.any(carried > 0):
            size = size + _passed_on(term, matrix, carried)
        return value, size

    def _slope(self, term: t.Func | t.Opaque, argument: Array, value: Array) -> Array:
        """|f'(a)|: a built-in's, or the derivative of an `fn` function's stand-in."""
        if isinstance(term, t.Opaque):
            following = t.Opaque(term.name, term.order + 1, term.arg)
            return np.abs(self.plain.apply_term(following, argument))
        return _slopes(term.name, argument, value)

    def _indexed(self, term: t.IndexedFunc) -> tuple[Array, Array]:
        if t.read_at_gather(term):
            written = t.as_written(term)
            value, size = self._both(written)
            return _on(value, written, term), _on(size, written, term)
        argument, spread = self._both(term.arg)
        value = indexed_function(term, argument)
        if term.name in t.SELECTIONS:
            # A position: a whole number, exact (one flipped by rounding is a kink).
            return value, np.abs(value)
        if term.name == "softmax":
            # Never an exact 0: every entry is an exp, divided.
            return value, self._underflow(softmax_magnitude(term, argument, spread), 1.0)
        # Each slope is bounded along j by 1 (logsumexp's are the softmax
        # weights, norm's e / ‖e‖, max's a delta), so ‖A(a)‖ along j bounds
        # what they carry.
        along = indexed_function(t.IndexedFunc("norm", term.over, term.arg), spread)
        return value, self._underflow(np.abs(value) + along, along)

    def _piecewise(self, term: t.IndexValue | t.Compare | t.Extremum) -> tuple[Array, Array]:
        """Index values and comparisons are whole numbers, exact (a comparison
        flipped by rounding is a kink); max/min carries the larger rounding
        magnitude of its two arguments."""
        if not isinstance(term, t.Extremum):
            value = self.plain.value(term)
            return value, np.abs(value)
        first, first_size = (_on(x, term.first, term) for x in self._both(term.first))
        second, second_size = (_on(x, term.second, term) for x in self._both(term.second))
        value = self.plain.apply_extremum(term.name, first, second)
        return value, np.maximum(first_size, second_size)

    def _power(self, term: t.Pow) -> tuple[Array, Array]:
        base, base_size = (_on(x, term.base, term) for x in self._both(term.base))
        power, power_size = (_on(x, term.exponent, term) for x in self._both(term.exponent))
        value = np.power(base, power)
        by_base = _times(np.abs(power * np.power(base, power - 1.0)), base_size)
        # A literal exponent (2, 1.5, -1) is exact; 0 to any power is exact too.
        if isinstance(term.exponent, t.Const):
            by_power = np.zeros_like(value)
        else:
            by_power = _times(np.abs(np.log(np.abs(base)) * value), power_size)
            by_power = np.where(value == 0, 0.0, by_power)
        return value, self._underflow(np.abs(value) + by_base + by_power, base_size)

    def _underflow(self, size: Array, operand: Array) -> Array:
        """Per operation, an operation whose operand may be nonzero (its bound
        above 0) may underflow: 1e-200 · 1e-200 is 0 with |a| |b| 0, where
        exactly it is 1e-400 > 0. An operand computed exactly as 0 (a masked
        entry, bound 0) stays exact."""
        if not self.per_operation:
            return size
        return size + _UNDERFLOW * (np.asarray(operand) > 0)


def _passed_on(term: t.Matrix, matrix: Array, carried: Array) -> Array:
    """What det or inv of `matrix` carries from rounding `carried` in its entries."""
    with np.errstate(all="ignore"):
        inverse = np.abs(matrix_function("inv", matrix))
        if term.name == "det":
            det = np.abs(matrix_function("det", matrix))
            return np.float64(det * np.sum(inverse.T * carried))
        spread = inverse @ carried @ inverse
    name = inverse_name(term.array)
    return Evaluator({name: spread}).value(t.Tensor(name, term.indices))


def _on(array: Array, part: t.Term, whole: t.Term) -> Array:
    return align(np.asarray(array), t.names(part.free), whole.free)


def _times(slope: Array, spread: Array) -> Array:
    """slope · spread, 0 where spread is 0 (an exact input at a pole is exact)."""
    return np.where(spread == 0, 0.0, slope * spread)


def forward_scales(
    leaves: Mapping[str, Array],
    steps: Iterable[tuple[str, tuple[t.Idx, ...], t.Term]],
    varying: set[str] | None = None,
    *,
    per_operation: bool = False,
    known: Mapping[str, Array] | None = None,
) -> dict[str, Array]:
    """A for every defined array of a forward pass: `steps` are (name, its
    indices, its formula) in file order, `leaves` the values of the arrays they
    use, `known` A of those that were computed (by default each counts
    |value|). With `varying`, only rounding in what depends on those arrays
    counts; `per_operation` as `Magnitudes` takes it."""
    values: dict[str, Array] = dict(leaves)
    scales: dict[str, Array] = dict(known or {})
    magnitudes = Magnitudes(values, scales, varying, per_operation=per_operation)
    for name, lhs, rhs in steps:
        value, size = magnitudes.both(rhs)
        values[name] = align(value, t.names(rhs.free), lhs)
        scales[name] = align(size, t.names(rhs.free), lhs)
    return scales


def derived_scale(
    forward: Mapping[str, Array],
    derivation: Derivation,
    *,
    per_operation: bool = False,
    known: Mapping[str, Array] | None = None,
) -> Array:
    """A for a derived Jacobian (numerator order), through its adjoints;
    `per_operation` and `known` (A of the forward pass's computed arrays) as
    `forward_scales` takes them."""
    steps = [(a.label, a.indices, a.formula) for a in derivation.adjoints]
    scales = forward_scales(forward, steps, per_operation=per_operation, known=known)
    values = {**forward}
    evaluator = Evaluator(values)
    for label, indices, formula in steps:
        values[label] = align(evaluator.value(formula), t.names(formula.free), indices)
    _, size = Magnitudes(values, scales, per_operation=per_operation).both(derivation.formula)
    return align(size, t.names(derivation.formula.free), derivation.indices)


def rounding_error(size: Array) -> Array:
    """The bound on rounding error for magnitudes A: ROUNDING · ε · A."""
    return ROUNDING * _EPS * np.asarray(size, dtype=np.float64)
