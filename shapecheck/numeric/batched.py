"""Evaluate terms for a whole batch of inputs at once: finite differences in bulk.

Finite differences rerun the definitions between a derivative's denominator
and its numerator once per perturbed input. Run one by one, a small recurrence
(the RNN at T = 1000) made 138,000 tiny einsum calls; here every perturbed
input of a chunk is stacked along a leading batch axis and each definition is
evaluated once for the whole stack. Arrays named in `batched` carry that axis;
a subterm that mentions none of them is evaluated once by the plain
`Evaluator` and broadcast. Values have the term's free indices in `term.free`
order, after the batch axis when there is one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shapecheck.exhaustive import assert_never
from shapecheck.numeric import kinks
from shapecheck.numeric.evaluate import (
    EXTREMUM,
    Evaluator,
    align,
    compare,
    contract_product,
    expand_axes,
    indexed_function,
    shifted_picks,
    size_value,
)
from shapecheck.numeric.matrices import inverse_name, matrix_function
from shapecheck.symbolic import terms as t

Array = Any

# Functions whose samples alias: a step that moves their argument by more than a
# period sees a smooth-looking curve that is not the function (`differences`).
OSCILLATING = ("sin", "cos")


def _oscillates(term: t.Func | t.Opaque) -> bool:
    # An `fn` function's stand-in is a sine too (`standins.py`).
    return isinstance(term, t.Opaque) or term.name in OSCILLATING


class BatchedEvaluator:
    """Values of terms when the arrays in `batched` have a leading batch axis."""

    def __init__(
        self,
        values: Mapping[str, Array],
        batched: set[str],
        centre: Mapping[str, Array] | None = None,
        centre_branches: dict[t.Term, Array] | None = None,
    ) -> None:
        self.values = values
        self.batched = batched
        self.plain = Evaluator(values)
        self._depends: dict[int, tuple[t.Term, bool]] = {}
        # With the unperturbed values (`centre`): per batch row, how far the
        # argument of any sin or cos moved from its value there (`bend`).
        self.centre = None if centre is None else Evaluator(centre)
        self.bend: Array | None = None
        # With `centre` too: per batch row, whether a kinked node takes
        # another branch there than at the centre (`kinks`).
        self.straddles = kinks.Straddles()
        # The centre's branch of each kinked node, kept by the caller across
        # reruns: it is the same for every stack of perturbed points.
        self.centre_branches = {} if centre_branches is None else centre_branches

    def value(self, term: t.Term) -> tuple[Array, bool]:
        """The value, and whether it has the batch axis (first)."""
        if not self._mentions_batched(term):
            return self.plain.value(term), False
        return np.asarray(self._value(term), dtype=np.float64), True

    def _mentions_batched(self, term: t.Term) -> bool:
        # Keyed by identity, and the term is kept with its answer: a term made
        # for one evaluation (a softmax's written form) could otherwise be
        # freed and its id reused by another, which would inherit the answer.
        cached = self._depends.get(id(term))
        known = None if cached is None else cached[1]
        if known is None:
            known = (
                (
                    isinstance(term, (t.Tensor, t.Loss, t.Matrix))
                    and (term.name if isinstance(term, t.Tensor) else term.array) in self.batched
                )
                or any(self._mentions_batched(c) for c in t.children(term))
                or any(self._mentions_batched(s.choice) for s in _selections(term))
            )
            self._depends[id(term)] = (term, known)
        return known

    def _value(self, term: t.Term) -> Array:
        """A term that mentions a batched array (so it has the batch axis)."""
        match term:
            case t.Const() | t.SizeOf() | t.Zero() | t.IndexValue():
                raise AssertionError("a term without arrays mentions no batched array")
            case t.Tensor() | t.Delta():
                return self._positioned(term)
            case t.Loss() | t.Matrix():
                return _of_whole_array(self, term)
            case t.Func() | t.Opaque():
                return self._function(term)
            case t.IndexedFunc():
                return self._indexed(term)
            case t.Compare() | t.Extremum():
                return self._pair(term)
            case t.Pow():
                base = self._aligned(term.base, term.free)
                exponent = self._aligned(term.exponent, term.free)
                with np.errstate(all="ignore"):
                    return np.power(base, exponent)
            case t.Add():
                parts = [self._aligned(part, term.free) for part in term.terms]
                total = parts[0]
                for part in parts[1:]:
                    total = total + part
                return total
            case t.Product():
                pairs = [self.value(f) for f in term.factors]
                batch = tuple(b for _, b in pairs)
                with np.errstate(all="ignore"):
                    return contract_product(term, [v for v, _ in pairs], batch)
            case _:
                assert_never(term)

    def _lookup(self, name: str) -> Array:
        return self.plain.lookup(name)

    def _positioned(self, term: t.Tensor | t.Delta) -> Array:
        """An array, or a delta (only one holding a selection that moves with the batch)."""
        match term:
            case t.Tensor():
                return self._tensor(term)
            case t.Delta():
                return self._delta(term)
            case _:
                assert_never(term)

    def _note_bend(self, argument: t.Term, inner: Array) -> None:
        assert self.centre is not None
        moved = np.abs(np.asarray(inner) - self.centre.value(argument))
        rows = np.reshape(moved, (moved.shape[0], -1)).max(axis=1, initial=0.0)
        rows = np.where(np.isnan(rows), np.inf, rows)
        self.bend = rows if self.bend is None else np.maximum(self.bend, rows)

    def _function(self, term: t.Func | t.Opaque) -> Array:
        inner, _ = self.value(term.arg)
        if self.centre is not None and _oscillates(term):
            self._note_bend(term.arg, inner)
        if kinks.is_kinked(term):
            self._note_kink(term, (inner,))
        return self.plain.apply_term(term, inner)

    def _indexed(self, term: t.IndexedFunc) -> Array:
        """softmax and its kin; a norm notes its kink (a zero vector), `max[j]`
        and its kin theirs (the position they select, from their argument)."""
        if t.read_at_gather(term):
            return self._aligned(t.as_written(term), term.free)
        inner, _ = self.value(term.arg)
        value = indexed_function(term, inner, lead=1)
        if kinks.is_kinked(term):
            self._note_kink(term, (inner,) if term.name in kinks.SELECTING else (value,))
        return value

    def _pair(self, term: t.Compare | t.Extremum) -> Array:
        """A comparison or max/min: both operands on the term's axes, and its kinks noted."""
        a, b = (self._aligned(part, term.free) for part in t.children(term))
        self._note_kink(term, (a, b))
        if isinstance(term, t.Compare):
            return compare(term.op, a, b)
        with np.errstate(all="ignore"):
            return EXTREMUM[term.name](a, b)

    def _note_kink(self, term: t.Term, operands: tuple[Array, ...]) -> None:
        """The rows where this kinked node's branch differs from the centre's."""
        if self.centre is None:
            return
        centre = self.centre_branches.get(term)
        if centre is None:
            centre = self.centre_branches[term] = centre_branch(self.centre, term)
        self.straddles.note(kinks.branch(term, operands), centre)

    def _tensor(self, term: t.Tensor) -> Array:
        array = np.asarray(self._lookup(term.name))
        if t.selections(term.indices):
            return self._selected(term, array)
        if any(isinstance(i, t.Gather | t.Shift) for i in term.indices):
            # Integer arrays are never perturbed: their picks are the plain ones,
            # and the batch axis is kept whole in front of them.
            gathered = (slice(None), *self.plain.picks(term.indices, term.free))
            return array[gathered]
        if any(isinstance(i, t.Fixed) for i in term.indices):
            # The batch axis is kept whole, then each index picks or keeps.
            picks = [slice(None)] + [
                i.value - 1 if isinstance(i, t.Fixed) else slice(None) for i in term.indices
            ]
            array = array[tuple(picks)]
        names = [i.name for i in term.indices if isinstance(i, t.Idx)]
        if len(set(names)) < len(names):
            letters = {n: chr(ord("a") + k) for k, n in enumerate(dict.fromkeys(names))}
            subscripts = "".join(letters[n] for n in names)
            output = "".join(letters[i.name] for i in term.free)
            array = np.einsum(f"Z{subscripts}->Z{output}", array)
        return array

    def _picks(self, indices: tuple[t.Index, ...], free: tuple[t.Idx, ...]) -> list[Array]:
        """`Evaluator.picks` where an `argmax[j](e)` in a position moves with the
        batch: its picks get the batch axis in front (and its kink is noted);
        every other position's picks broadcast over it from the right."""
        axes = ("", *t.names(free))  # "" names the batch axis: no index is named so
        found: list[Array] = []
        for index in indices:
            moves = any(self._mentions_batched(s.choice) for s in t.selections((index,)))
            if isinstance(index, t.Select) and moves:
                chosen = np.asarray(self._indexed(index.choice)).astype(np.intp) - 1
                found.append(expand_axes(chosen, ("", *t.names(index.choice.free)), axes))
            elif isinstance(index, t.Shift) and moves:  # `2 a + argmax[u](e) - 2`
                parts = self._picks(tuple(part for part, _ in index.parts), free)
                found.append(shifted_picks(index, parts))
            else:
                found.extend(self.plain.picks((index,), free))
        return found

    def _selected(self, term: t.Tensor, array: Array) -> Array:
        """An array read at positions an `argmax[j](e)` selects, per batch row."""
        picks = self._picks(term.indices, term.free)
        if term.name in self.batched:
            rows = np.arange(array.shape[0]).reshape((-1,) + (1,) * len(term.free))
            return array[tuple([rows, *picks])]
        return np.broadcast_to(array[tuple(picks)], _batched_shape(picks, term.free))

    def _delta(self, term: t.Delta) -> Array:
        """A delta holding an `argmax[j](e)` that moves with the batch."""
        picks = self._picks(term.indices, term.free)
        equal = np.all(np.broadcast_arrays(*[np.equal(picks[0], p) for p in picks[1:]]), axis=0)
        return np.broadcast_to(equal, _batched_shape(picks, term.free)).astype(np.float64)

    def _aligned(self, term: t.Term, target: tuple[t.Idx, ...]) -> Array:
        """A part's value on `target`'s axes (after the batch axis, when it has one);
        numpy broadcasting adds the batch axis to parts without it."""
        value, batched = self.value(term)
        return align_batched(value, t.names(term.free), target, batched)


def centre_branch(centre: Evaluator, term: t.Term) -> Array:
    """The branch a kinked node takes at the unperturbed values."""
    if isinstance(term, t.IndexedFunc) and term.name in kinks.SELECTING:
        # `max[j]` and its kin: the position they select, from their argument.
        at_centre: tuple[Array, ...] = (np.asarray(centre.value(term.arg)),)
    elif isinstance(term, t.IndexedFunc):
        # A norm's branch is its own value (0 at a zero vector), not its argument's.
        at_centre = (np.asarray(centre.value(term)),)
    else:
        at_centre = tuple(
            align(centre.value(c), t.names(c.free), term.free) for c in t.children(term)
        )
    return kinks.branch(term, at_centre)


def _of_whole_array(evaluator: BatchedEvaluator, term: t.Loss | t.Matrix) -> Array:
    """loss(A) for each A of the stack; det, inv or trace of each matrix of the
    stack, inv read at its indices."""
    array = np.asarray(evaluator.plain.lookup(term.array))
    if isinstance(term, t.Loss):
        upstream = np.asarray(evaluator.plain.lookup(f"dloss/d{term.array}"))
        return np.sum((upstream * array).reshape(array.shape[0], -1), axis=1)
    value = matrix_function(term.name, array)
    if term.name != "inv":
        return value
    name = inverse_name(term.array)
    reader = BatchedEvaluator({**evaluator.values, name: value}, {name})
    return reader._tensor(t.Tensor(name, term.indices))


def _batched_shape(picks: list[Array], free: tuple[t.Idx, ...]) -> tuple[int, ...]:
    """The shape of a pick over `free` with the batch axis of the picks that have it."""
    rows = max(np.shape(p)[0] for p in picks if np.ndim(p) == len(free) + 1)
    return (rows, *(size_value(i.size) for i in free))


def _selections(term: t.Term) -> list[t.Select]:
    """The selections in the positions of an array or delta (none elsewhere)."""
    if isinstance(term, t.Tensor | t.Delta | t.Matrix):
        return t.selections(term.indices)
    return []


def align_batched(
    array: Array, axes: tuple[str, ...], target: tuple[t.Idx, ...], batched: bool
) -> Array:
    """`evaluate.align`, keeping a leading batch axis in front when there is one."""
    lead = 1 if batched else 0
    order = [axes.index(i.name) + lead for i in target if i.name in axes]
    full = list(range(lead)) + order
    if full != list(range(len(full))):
        array = np.transpose(array, full)
    present = [i.name in axes for i in target]
    if all(present):
        return array
    shape = list(array.shape[:lead])
    position = lead
    for here in present:
        if here:
            shape.append(array.shape[position])
            position += 1
        else:
            shape.append(1)
    array = array.reshape(shape)
    return np.broadcast_to(array, (*array.shape[:lead], *(size_value(i.size) for i in target)))
