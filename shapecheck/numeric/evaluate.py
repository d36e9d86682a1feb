"""Evaluate terms with numpy, and write the same computation as numpy code.

`Evaluator.value(term)` returns an array whose axes are the term's free
indices in `term.free` order. Products are `numpy.einsum` calls whose
contraction path is planned once per subscripts and shapes
(`numpy.einsum_path`) and cached across evaluators, since finite differences
evaluate the same products many times. Deltas between free indices are built
as identity blocks (the result has that
structure anyway); deltas on summed indices never reach here, because the
simplifier eats them.

The same steps as printable numpy code are in `codegen.py`, which needs no
numpy. Dispatch over term kinds is one `match` ending in `assert_never`, so
mypy names this place when a term kind is added.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from shapecheck.check.program import Size
from shapecheck.exhaustive import assert_never
from shapecheck.numeric import standins
from shapecheck.numeric.matrices import inverse_name, matrix_function
from shapecheck.symbolic import terms as t

Array = Any  # numpy.ndarray; kept loose so that mypy does not need numpy's stubs here

_LETTERS = string.ascii_letters


class EvaluationError(Exception):
    """A value is missing, or one step of a product has more indices than einsum
    can name (a product as a whole may have any number: `stepwise`)."""


def _sigmoid(x: Array) -> Array:
    # The logistic function to full relative precision on both sides and
    # without overflow: exp of -|x| only. (0.5 (1 + tanh(x/2)) lost every digit
    # for x below about -37, which made finite differences of it garbage:
    # a false E401 found by fuzzing.) In place where it can be: a fuzzed file
    # took its sigmoid over millions of entries 50 times, and each temporary
    # is a fresh mapping of pages.
    small = np.abs(x, out=np.empty(np.shape(x)))  # an array even for a 0-d x
    np.negative(small, out=small)
    np.exp(small, out=small)
    result = np.where(x >= 0, 1.0, small)
    small += 1.0
    result /= small
    return result


_FUNCTIONS: dict[str, Any] = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda x: np.maximum(x, 0.0),
    "sin": np.sin,
    "cos": np.cos,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "step": lambda x: (x > 0).astype(np.float64),
    "sign": np.sign,
}


# Comparisons and max/min, entry by entry (1.0 or 0.0 for a comparison).
COMPARE: dict[str, Any] = {
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
EXTREMUM: dict[str, Any] = {"max": np.maximum, "min": np.minimum}


def compare(op: str, left: Array, right: Array) -> Array:
    return COMPARE[op](left, right).astype(np.float64)


def size_value(size: Size) -> int:
    if size.value is None:
        raise EvaluationError(f"size {size} has no value")
    return int(size.value)


def _delta_at(value: int, shape: tuple[int, ...]) -> Array:
    """`δ[p, q, 3]`: 1 where every free position is 3. An index expression may
    fold to a number outside the positions (`δ[q, 2 2 2]`): then 0 everywhere
    (spec 9.4)."""
    array = np.zeros(shape)
    if all(1 <= value <= n for n in shape):
        array[(value - 1,) * len(shape)] = 1.0
    return array


def align(array: Array, axes: tuple[str, ...], target: tuple[t.Idx, ...]) -> Array:
    """Transpose and broadcast `array` (axes `axes`) to the axes of `target`."""
    if axes == tuple([i.name for i in target]):
        return array  # the common case, at every node evaluated: nothing to do
    order = [axes.index(i.name) for i in target if i.name in axes]
    array = np.transpose(array, order) if order != list(range(len(order))) else array
    present = [i.name in axes for i in target]
    if all(present):
        return array
    shape = []
    position = 0
    for here in present:
        if here:
            shape.append(array.shape[position])
            position += 1
        else:
            shape.append(1)
    array = array.reshape(shape)
    return np.broadcast_to(array, tuple(size_value(i.size) for i in target))


def expand_axes(array: Array, axes: tuple[str, ...], target: tuple[str, ...]) -> Array:
    """`array` (axes `axes`, a subset of `target`) transposed to `target`'s order,
    with a length-1 axis for each axis of `target` it lacks: ready to broadcast."""
    order = sorted(range(len(axes)), key=lambda k: target.index(axes[k]))
    array = np.transpose(array, order) if order != list(range(len(axes))) else array
    shape = [1] * len(target)
    for k in order:
        shape[target.index(axes[k])] = array.shape[order.index(k)]
    return array.reshape(shape)


# Contraction paths by subscripts and operand shapes: finite differences
# evaluate the same products hundreds of times with new evaluators.
_PATHS: dict[tuple[str, tuple[tuple[int, ...], ...]], Any] = {}
_MAX_PATHS = 4096


def shifted_picks(index: t.Shift, parts: list[Array]) -> Array:
    """`2 a + u - 2` as 0-based picks from its parts' 0-based picks: each
    part's 1-based values, scaled and summed by broadcasting (no loop over
    entries)."""
    total: Array = np.intp(index.offset.value() - 1)
    for pick, (_, coefficient) in zip(parts, index.parts, strict=True):
        total = total + coefficient.value() * (pick + 1)
    return total


class Evaluator:
    """Values of terms given the values of the arrays they name."""

    def __init__(self, values: Mapping[str, Array]) -> None:
        self.values = values
        # Whether any intermediate was NaN or infinite, or a power of a nonzero
        # number underflowed to 0: a finite result can still be wrong then
        # (1 / S^2 is 0 for a large S), so the comparisons that read it must
        # not trust it.
        self.nonfinite = False

    def value(self, term: t.Term) -> Array:
        result = self._value(term)
        return np.asarray(result, dtype=np.float64)

    def _value(self, term: t.Term) -> Array:
        result = self._node(term)
        # The method, not np.all: this runs for every node evaluated.
        if not self.nonfinite and not np.isfinite(result).all():
            self.nonfinite = True
        return result

    def _node(self, term: t.Term) -> Array:
        # The common kinds first: a class pattern is one isinstance test per case.
        match term:
            case t.Product():
                return self._product(term)
            case t.Add():
                return self._sum(term)
            case t.Tensor():
                return self._tensor(term)
            case t.Const():
                return np.float64(term.value)
            case t.SizeOf():
                return np.float64(size_value(term.size))
            case t.Zero():
                return np.zeros(tuple(size_value(i.size) for i in term.free))
            case t.Delta():
                return self._delta(term)
            case t.Loss() | t.Matrix():
                return whole_array_value(self, term)
            case t.Func() | t.Opaque():
                return self.apply_term(term, self._value(term.arg))
            case t.IndexedFunc() if t.read_at_gather(term):
                written = t.as_written(term)
                return align(self._value(written), t.names(written.free), term.free)
            case t.IndexedFunc():
                return indexed_function(term, self._value(term.arg))
            case t.Pow():
                return self._power(term)
            case t.Compare() | t.Extremum() | t.IndexValue():
                return self._piecewise(term)
            case _:
                assert_never(term)

    def _piecewise(self, term: t.Compare | t.Extremum | t.IndexValue) -> Array:
        """A comparison (1 or 0), max/min, an index as its values 1..size."""
        match term:
            case t.Compare():
                left, right = self._pair(term.left, term.right, term.free)
                return compare(term.op, left, right)
            case t.Extremum():
                first, second = self._pair(term.first, term.second, term.free)
                return EXTREMUM[term.name](first, second)
            case t.IndexValue():
                return np.arange(1.0, size_value(term.index.size) + 1.0)
            case _:
                assert_never(term)

    def _power(self, term: t.Pow) -> Array:
        base = align(self._value(term.base), t.names(term.base.free), term.free)
        exponent = align(self._value(term.exponent), t.names(term.exponent.free), term.free)
        with np.errstate(all="ignore"):
            result = np.power(base, exponent)
        # 1 / S^2 underflows to 0 for a large finite S: every product it then
        # enters loses its value, so the result is no longer to be trusted.
        if not self.nonfinite and np.any((result == 0) & (base != 0) & np.isfinite(base)):
            self.nonfinite = True
        return result

    def _pair(self, a: t.Term, b: t.Term, free: tuple[t.Idx, ...]) -> tuple[Array, Array]:
        """Two operands on the axes of `free` (each broadcast over what it lacks)."""
        return (
            align(self._value(a), t.names(a.free), free),
            align(self._value(b), t.names(b.free), free),
        )

    def _sum(self, term: t.Add) -> Array:
        # Terms lacking some of the free indices are broadcast over them (rule 4).
        total = np.zeros(tuple(size_value(i.size) for i in term.free))
        for part in term.terms:
            total = total + align(self._value(part), t.names(part.free), term.free)
        return total

    def apply(self, function: str, argument: Array) -> Array:
        """A named function, entry by entry."""
        with np.errstate(all="ignore"):
            return _FUNCTIONS[function](argument)

    def apply_term(self, term: t.Func | t.Opaque, argument: Array) -> Array:
        """A built-in function or an `fn` function's seeded stand-in, entry by entry."""
        if isinstance(term, t.Opaque):
            return standins.apply(self._lookup(standins.key(term.name)), term.order, argument)
        return self.apply(term.name, argument)

    def apply_extremum(self, name: str, first: Array, second: Array) -> Array:
        """max or min, entry by entry."""
        with np.errstate(all="ignore"):
            return EXTREMUM[name](first, second)

    def lookup(self, name: str) -> Array:
        return self._lookup(name)

    def _lookup(self, name: str) -> Array:
        try:
            return self.values[name]
        except KeyError:
            raise EvaluationError(f"no value for `{name}`") from None

    def picks(self, indices: tuple[t.Index, ...], free: tuple[t.Idx, ...]) -> list[Array]:
        """Each position's 0-based picks as integer arrays that broadcast over the
        axes of `free`: an index is a range along its own axis, a literal a
        number, a gather (spec 9.3) its integer array's entries less one, a
        selection (spec 9.2) the position it selects less one."""
        axes = t.names(free)
        found: list[Array] = []
        for index in indices:
            match index:
                case t.Idx():
                    shape = [1] * len(axes)
                    shape[axes.index(index.name)] = size_value(index.size)
                    found.append(np.arange(size_value(index.size)).reshape(shape))
                case t.Fixed():
                    found.append(np.intp(index.value - 1))
                case t.Gather():
                    inner = t.Tensor(index.name, index.indices)
                    labels = np.asarray(self._tensor(inner)).astype(np.intp) - 1
                    found.append(expand_axes(labels, t.names(inner.free), axes))
                case t.Select():
                    # The first position of the maximum, 1-based as a value.
                    chosen = np.asarray(self._value(index.choice)).astype(np.intp) - 1
                    found.append(expand_axes(chosen, t.names(index.choice.free), axes))
                case t.Shift():
                    parts = self.picks(tuple(part for part, _ in index.parts), free)
                    found.append(shifted_picks(index, parts))
                case _:
                    assert_never(index)
        return found

    def _gathered(self, term: t.Tensor) -> Array:
        """An array read at positions some integer array picks: fancy indexing."""
        array = np.asarray(self._lookup(term.name))
        return array[tuple(self.picks(term.indices, term.free))]

    def _tensor(self, term: t.Tensor) -> Array:
        if t.picks_entries(term.indices):
            return self._gathered(term)
        array = np.asarray(self._lookup(term.name))
        if any(isinstance(i, t.Fixed) for i in term.indices):
            picks = tuple(
                i.value - 1 if isinstance(i, t.Fixed) else slice(None) for i in term.indices
            )
            array = array[picks]
        names = [i.name for i in term.indices if isinstance(i, t.Idx)]
        if len(set(names)) < len(names):
            # A repeated index is a diagonal: einsum("ii->i", A).
            letters = {n: _LETTERS[k] for k, n in enumerate(dict.fromkeys(names))}
            subscripts = "".join(letters[n] for n in names)
            output = "".join(letters[i.name] for i in term.free)
            array = np.einsum(f"{subscripts}->{output}", array)
        return array

    def _delta(self, term: t.Delta) -> Array:
        if t.picks_entries(term.indices):
            # 1 where every position picks the same entry: `δ[k, y[i]]` one-hot.
            first, *others = self.picks(term.indices, term.free)
            equal = np.ones((), dtype=bool)
            for other in others:
                equal = equal & np.equal(first, other)
            return np.broadcast_to(equal, tuple(size_value(i.size) for i in term.free)).astype(
                np.float64
            )
        literals = {i.value for i in term.indices if isinstance(i, t.Fixed)}
        free = term.free
        if len(literals) > 1:
            return np.zeros(tuple(size_value(i.size) for i in free))
        if literals:
            return _delta_at(next(iter(literals)), tuple(size_value(i.size) for i in free))
        n = size_value(free[0].size)
        array = np.zeros((n,) * len(free))
        diagonal = np.arange(n)
        array[(diagonal,) * len(free)] = 1.0
        return array

    def _product(self, term: t.Product) -> Array:
        operands = [self._value(f) for f in term.factors]
        with np.errstate(all="ignore"):
            return contract_product(term, operands)


# ---------------------------------------------------------------------------
# softmax, logsumexp and norm (spec 9.5), numerically stable


def whole_array_value(evaluator: Evaluator, term: t.Loss | t.Matrix) -> Array:
    """A function of a whole array: loss(A) as the verifier reads it (Σ dloss/dA A);
    det(A) or trace(A) as a number; inv(A) read at its indices, as an array
    standing at them would be (literals, a diagonal, a gather)."""
    if isinstance(term, t.Loss):
        upstream = evaluator.lookup(f"dloss/d{term.array}")
        return np.float64(np.sum(upstream * evaluator.lookup(term.array)))
    value = matrix_function(term.name, evaluator.lookup(term.array))
    if term.name != "inv":
        return np.float64(value)
    name = inverse_name(term.array)
    reader = Evaluator({**evaluator.values, name: value})
    return reader.value(t.Tensor(name, term.indices))


def indexed_function(term: t.IndexedFunc, argument: Array, lead: int = 0) -> Array:
    """The function's value from its argument's (axes: `lead` batch axes, then
    `term.arg.free`), with axes `term.free` after the batch axes.

    softmax and logsumexp subtract the largest entry along the reduced axes
    first, so that an argument of 1000 neither overflows nor loses the
    result; norm divides by the largest magnitude for the same reason.
    """
    argument, names, axes = _along(term, argument, lead)
    with np.errstate(all="ignore"):
        if term.name in EXTREMES:
            return EXTREMES[term.name](argument, axes)
        if term.name == "logsumexp":
            return _logsumexp(argument, axes)
        if term.name == "norm":
            return _norm(argument, axes)
        return _read_at(term, names, _softmax(argument, axes), lead)


def _along(
    term: t.IndexedFunc, argument: Array, lead: int
) -> tuple[Array, tuple[str, ...], tuple[int, ...]]:
    """The argument on axes that hold every index the function runs over, their
    names (after `lead` batch axes), and the axes it runs along."""
    names = t.names(term.arg.free)
    argument = np.asarray(argument, dtype=np.float64)
    missing = [o for o in term.over if o.name not in names]
    if missing:
        # An argument constant along an index it runs over (left by a
        # rewrite): it runs over that index all the same.
        expanded = np.reshape(argument, (*argument.shape, *([1] * len(missing))))
        argument = np.broadcast_to(
            expanded, (*argument.shape, *(size_value(o.size) for o in missing))
        )
        names = names + t.names(tuple(missing))
    return argument, names, tuple(lead + names.index(o.name) for o in term.over)


def softmax_magnitude(term: t.IndexedFunc, argument: Array, spread: Array) -> Array:
    """A bound on the magnitudes softmax carries from its argument's (for
    `rounding.py`): s_k (1 + A_k + Σ_j s_j A_j), its first-order slopes
    s_k (δ[k,j] - s_j) taken in absolute value. Each entry's magnitude is
    weighted by its own probability, so an entry masked to 0 (`- 1e9` in a
    causal mask) carries nothing of its huge magnitude."""
    argument, names, axes = _along(term, argument, 0)
    spread, _, _ = _along(term, spread, 0)
    with np.errstate(all="ignore"):
        weights = _softmax(argument, axes)
        weighted = np.sum(weights * spread, axis=axes, keepdims=True)
        return _read_at(term, names, weights * (1.0 + spread + weighted), 0)


def _first(argument: Array, axes: tuple[int, ...], pick: Any) -> Array:
    """1 + the first position of the maximum (or minimum) along the one axis,
    as numpy's argmax gives it (a NaN counts as the extreme, as in np.max)."""
    return (pick(argument, axis=axes[0]) + 1).astype(np.float64)


# `max[j]`, `min[j]`, `argmax[j]`, `argmin[j]` (spec 9.2) over the axes of `j`.
EXTREMES: dict[str, Any] = {
    "max": lambda a, axes: np.max(a, axis=axes),
    "min": lambda a, axes: np.min(a, axis=axes),
    "argmax": lambda a, axes: _first(a, axes, np.argmax),
    "argmin": lambda a, axes: _first(a, axes, np.argmin),
}


def _shift(argument: Array, axes: tuple[int, ...]) -> Array:
    """The largest entry along `axes` (kept as length-1 axes), 0 where it is not finite."""
    largest = np.max(argument, axis=axes, keepdims=True)
    return np.where(np.isfinite(largest), largest, 0.0)


def _softmax(argument: Array, axes: tuple[int, ...]) -> Array:
    shifted = np.exp(argument - _shift(argument, axes))
    return shifted / np.sum(shifted, axis=axes, keepdims=True)


def _logsumexp(argument: Array, axes: tuple[int, ...]) -> Array:
    shift = _shift(argument, axes)
    total = np.sum(np.exp(argument - shift), axis=axes, keepdims=True)
    return np.squeeze(np.log(total) + shift, axis=axes)


def _norm(argument: Array, axes: tuple[int, ...]) -> Array:
    scale = np.max(np.abs(argument), axis=axes, keepdims=True)
    safe = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
    total = np.sqrt(np.sum(np.square(argument / safe), axis=axes, keepdims=True))
    return np.squeeze(total * safe, axis=axes)


def _read_at(term: t.IndexedFunc, names: tuple[str, ...], values: Array, lead: int) -> Array:
    """softmax values (axes: batch, then `names`) read at `term.at`: a literal
    picks one entry; an index already on another axis takes the diagonal."""
    places = t.read_at_places(term, names)
    if places is None:
        raise EvaluationError("softmax read at an argmax or argmin")
    positions, labels = places
    picks: list[Any] = [slice(None)] * lead
    picks.extend(slice(None) if p is None else p for p in positions)
    values = values[tuple(picks)]
    output = t.names(term.free)
    if tuple(labels) == output:
        return values
    letters = {n: _LETTERS[k + 1] for k, n in enumerate(dict.fromkeys([*labels, *output]))}
    batch = "a" * lead
    source = batch + "".join(letters[n] for n in labels)
    return np.einsum(f"{source}->{batch}{''.join(letters[n] for n in output)}", values)


def contract_product(
    term: t.Product, operands: list[Array], batch: tuple[bool, ...] | None = None
) -> Array:
    """The product's value from its factors' (those marked in `batch`, and the
    result when any is, with a leading batch axis): one einsum when its indices
    have letters enough and the factors are few, else factor by factor
    (`stepwise`)."""
    subscripts = None if len(operands) > _MANY_FACTORS else product_subscripts(term, batch)
    if subscripts is None:
        return stepwise(term, operands, batch)
    return contract(subscripts, operands)


# Above this many factors, numpy's path planning (greedy: pair costs updated
# at every step) grows faster than cubically in them: a fuzzed claim with 500
# factors under a norm spent 50 s there. Factor by factor is linear.
_MANY_FACTORS = 32


def product_subscripts(term: t.Product, batch: tuple[bool, ...] | None = None) -> str | None:
    """einsum subscripts of a product; factors marked in `batch` (and the result,
    when any is) carry a leading batch axis, named by a letter no index uses.
    None when the product has more indices than einsum has letters (52)."""
    batched = batch or (False,) * len(term.factors)
    # Terms are immutable and evaluated many times: remember the words on the term
    # (as `terms.used_names` does).
    cache = term.__dict__.setdefault("_subscripts", {})
    if batched not in cache:
        cache[batched] = _subscripts(term, batched)
    known = cache[batched]
    return None if known is None else str(known)


def _subscripts(term: t.Product, batched: tuple[bool, ...]) -> str | None:
    names = list(dict.fromkeys([*(i.name for f in term.factors for i in f.free)]))
    if len(names) + any(batched) > len(_LETTERS):
        return None
    letters = {n: _LETTERS[k] for k, n in enumerate(names)}
    extra = _LETTERS[len(names)] if any(batched) else ""
    inputs = [
        (extra if here else "") + "".join(letters[i.name] for i in f.free)
        for f, here in zip(term.factors, batched, strict=True)
    ]
    output = (extra if any(batched) else "") + "".join(letters[i.name] for i in term.free)
    return ",".join(inputs) + "->" + output


# Below this many multiply-adds a plain einsum loop beats planning a path and
# calling BLAS: numpy re-derives the contraction list on every call even when
# given a path, which dominated verification of small recurrences.
_SMALL_WORK = 4096


def contract(subscripts: str, operands: list[Array]) -> Array:
    """einsum, planned (cached path) when the work is large, plain when it is small."""
    if len(operands) <= 2 and _work(subscripts, operands) <= _SMALL_WORK:
        return np.einsum(subscripts, *operands)
    return np.einsum(subscripts, *operands, optimize=_path(subscripts, operands))


def _work(subscripts: str, operands: list[Array]) -> int:
    """Entries of the outer product of all operands (einsum's naive loop count)."""
    sizes: dict[str, int] = {}
    for letters, operand in zip(subscripts.split("->")[0].split(","), operands, strict=True):
        sizes.update(zip(letters, np.shape(operand), strict=True))
    work = 1
    for size in sizes.values():
        work *= size
    return work


def _path(subscripts: str, operands: list[Array]) -> Any:
    """einsum's contraction path for these subscripts and shapes, planned once."""
    key = (subscripts, tuple(np.shape(o) for o in operands))
    path = _PATHS.get(key)
    if path is None:
        path = np.einsum_path(subscripts, *operands, optimize="greedy")[0]
        if len(_PATHS) >= _MAX_PATHS:
            _PATHS.clear()
        _PATHS[key] = path
    return path


def largest_intermediate(subscripts: str, shapes: list[tuple[int, ...]]) -> int:
    """Entries of the largest array the planned einsum makes (its operands' copies,
    intermediates and result), measured on the path `contract` will use, without
    allocating: the operands are zero-stride views of one number."""
    operands = [np.broadcast_to(np.zeros(()), shape) for shape in shapes]
    if len(operands) <= 2 and _work(subscripts, operands) <= _SMALL_WORK:
        return _work(subscripts, operands)
    path = _path(subscripts, operands)
    _, info = np.einsum_path(subscripts, *operands, optimize=path)
    match = re.search(r"Largest intermediate:\s*([0-9.e+]+)", info)
    largest = int(float(match.group(1))) if match else _work(subscripts, operands)
    return max([largest, *(math.prod(shape) for shape in shapes)])


def planned(product: t.Product, shapes: Sequence[tuple[int, ...]]) -> int:
    """`budget.ProductMeasure` for the einsum `Evaluator` runs: entries of the
    largest array of its planned path (operands, intermediates, result), or of
    the factor-by-factor contraction `stepwise` runs (as `contract_product`
    chooses: it runs stepwise past _MANY_FACTORS factors too)."""
    subscripts = None if len(shapes) > _MANY_FACTORS else product_subscripts(product)
    if subscripts is None:
        sizes: dict[str, int] = {}
        for factor, shape in zip(product.factors, shapes, strict=True):
            sizes.update(zip(t.names(factor.free), shape, strict=True))
        names = _factor_names(product, None)
        steps = _steps(names, _output_names(product, None))
        # A step may multiply its two operands out over all their axes
        # before it sums (numpy's einsum of two operands does, where it
        # cannot call BLAS): the union of the axes counts, not what is kept.
        held = [names[0], *steps[:-1]]
        unions = [dict.fromkeys(axes + own) for axes, own in zip(held, names[1:], strict=True)]
        largest = [math.prod(sizes[n] for n in union) for union in unions]
        return max([*largest, *(math.prod(shape) for shape in shapes)])
    return largest_intermediate(subscripts, list(shapes))


# The batch axis's name in `stepwise`: no index name starts with `#`.
_BATCH = "#batch"


def _factor_names(term: t.Product, batch: tuple[bool, ...] | None) -> list[tuple[str, ...]]:
    batched = batch or (False,) * len(term.factors)
    return [
        ((_BATCH,) if here else ()) + t.names(f.free)
        for f, here in zip(term.factors, batched, strict=True)
    ]


def _output_names(term: t.Product, batch: tuple[bool, ...] | None) -> tuple[str, ...]:
    return ((_BATCH,) if batch and any(batch) else ()) + t.names(term.free)


def _steps(names: list[tuple[str, ...]], output: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The axes kept after multiplying in each factor after the first: those the
    result or a later factor still needs (every other index is summed there)."""
    kept: list[tuple[str, ...]] = []
    current = names[0]
    for k in range(1, len(names)):
        later = set(output).union(*names[k + 1 :])
        current = tuple(n for n in dict.fromkeys(current + names[k]) if n in later)
        kept.append(current)
    return kept


def stepwise(
    term: t.Product, operands: list[Array], batch: tuple[bool, ...] | None = None
) -> Array:
    """A product with more indices than einsum has letters, contracted factor by
    factor: each step is an einsum over two operands' indices only, summing an
    index as soon as no later factor and not the result mentions it. Products of
    many factors over few axes each (`a[i0] a[i1] … a[i99]`) stay small."""
    names = _factor_names(term, batch)
    output = _output_names(term, batch)
    current, axes = operands[0], names[0]
    for operand, keep, own in zip(operands[1:], _steps(names, output), names[1:], strict=True):
        letters = {n: _LETTERS[k] for k, n in enumerate(dict.fromkeys(axes + own))}
        if len(letters) > len(_LETTERS):
            raise EvaluationError(f"a step of a product with {len(letters)} indices")
        word = "".join
        subscripts = (
            f"{word(letters[n] for n in axes)},{word(letters[n] for n in own)}"
            f"->{word(letters[n] for n in keep)}"
        )
        current, axes = contract(subscripts, [current, operand]), keep
    if axes != output:
        # A single factor, or axes in another order than the result's.
        letters = {n: _LETTERS[k] for k, n in enumerate(dict.fromkeys(axes))}
        inner = "".join(letters[n] for n in axes)
        current = np.einsum(f"{inner}->{''.join(letters[n] for n in output)}", current)
    return current
