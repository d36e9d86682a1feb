"""Kinked nodes within rounding of their tie: where rounding, not the point, picks a branch.

A comparison whose two sides are equal as formulas but computed differently
(`W[k,a] W[k,b] / W[q,q] >= W[b,e]` where k = b = q and a = e) is true or false
at a point as rounding falls; the derived formula, a claim and the finite
differences each compute it their own way, so each may take its own branch,
and their values then differ by a whole branch where nobody is wrong (a
fuzzed file got a false E401 this way). The branch signatures of `kinks` do
not see it: at every perturbed point the forward pass rounds alike.

So before a disagreement becomes a verdict (E401 for a derived derivative,
E402 for a claim), `tied_node` looks for a kinked node of the formulas
compared that sits within its rounding bound (`rounding`: ROUNDING · ε · A) of
its tie at the values compared. Where one does, the disagreement proves
nothing: the check is inconclusive with NEAR_TIE, and drawn values are drawn
again (`report.off_kinks`). Sides that are bare values (a constant, an index
value, an entry of an array given to the check) are exact, and their ties are
resolved alike by any evaluation: only computed sides count, and an array that
is itself computed is one (`Magnitudes.exact`: `g[i] >= 0` in the truth and
`dM/dw[i] >= 0` in a claim, with `g[i] = dM/dw[i]`, read one quantity computed
two ways).

Stage: numeric; used by `verify` and `claimcheck`; reads `rounding`, `kinks`.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from shapecheck.exhaustive import assert_never
from shapecheck.numeric.evaluate import Evaluator, align, size_value
from shapecheck.numeric.kinks import KINKED_FUNCTIONS, SELECTING
from shapecheck.numeric.rounding import Magnitudes, rounding_error
from shapecheck.numeric.verdicts import NEAR_TIE, Check, Verdict
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.formula import formula

Array = Any

__all__ = [
    "NEAR_TIE",
    "left_out_hint",
    "tie_hint",
    "tied_entries",
    "tied_node",
    "unless_tied",
]


def tied_node(
    formulas: Sequence[t.Term], values: Mapping[str, Array], known: Mapping[str, Array]
) -> t.Term | None:
    """The first kinked node of `formulas` within rounding of its tie at
    `values` (`known`: rounding magnitudes of arrays that are themselves
    results, as `rounding.Magnitudes` takes them); None when there is none."""
    magnitudes = Magnitudes(values, known, per_operation=True)
    seen: set[int] = set()
    stack = list(reversed(formulas))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        mask = _tie_mask(node, magnitudes)
        if mask is not None and np.any(mask):
            return node
        stack.extend(reversed(t.children(node)))
        # An `argmax[j](e)` standing in an index position is a node too.
        if isinstance(node, t.Tensor | t.Delta | t.Matrix):
            stack.extend(s.choice for s in t.selections(node.indices))
        elif isinstance(node, t.IndexedFunc):
            stack.extend(s.choice for s in t.selections(node.at))
    return None


def tied_entries(
    formula: t.Term, lines: Mapping[str, Array], magnitudes: Magnitudes
) -> Array | None:
    """The entries of `formula` (on `formula.free`) that a kinked node within
    rounding of its tie can reach, or None where none can; `lines` holds the
    entries so reached of arrays that are themselves results (adjoint lines),
    on their own indices. Entries reached are over-counted, never missed: a
    product is reached wherever a factor is, whatever the other factors."""
    return _Reach(magnitudes, lines).of(formula)


class _Reach:
    """`tied_entries`, node by node (each node once: formulas share subterms)."""

    def __init__(self, magnitudes: Magnitudes, lines: Mapping[str, Array]) -> None:
        self.magnitudes = magnitudes
        self.lines = lines
        # The lines' entries reached, read as values (0 or 1) wherever a
        # formula reads the line, at whatever indices (`Evaluator`).
        marks = {name: reached.astype(np.float64) for name, reached in lines.items()}
        self._marks = Evaluator(ChainMap(marks, dict(magnitudes.plain.values)))
        self._done: dict[int, tuple[t.Term, Array | None]] = {}

    def of(self, node: t.Term) -> Array | None:
        done = self._done.get(id(node))
        if done is None:
            reached = self._of(node)
            done = (node, reached if reached is not None and np.any(reached) else None)
            self._done[id(node)] = done
        return done[1]

    def _of(self, node: t.Term) -> Array | None:
        match node:
            case t.Tensor() | t.Delta() | t.Matrix():
                return self._read(node)
            case t.Loss():
                return np.ones((), dtype=bool) if self._whole_line_reached(node) else None
            case t.Product():
                return _union(node, [self._summed_out(f, node) for f in node.factors])
            case t.IndexedFunc():
                return self._indexed(node)
            case t.Add() | t.Func() | t.Opaque() | t.Pow() | t.Compare() | t.Extremum():
                kids = [(self.of(k), k) for k in t.children(node)]
                reached = [None if r is None else _aligned(r, k, node) for r, k in kids]
                return _union(node, [*reached, _tie_mask(node, self.magnitudes)])
            case t.Const() | t.SizeOf() | t.Zero() | t.IndexValue():
                return None
            case _:
                assert_never(node)

    def _read(self, node: t.Tensor | t.Delta | t.Matrix) -> Array | None:
        """An array read at its indices: a line's entries reached, read there."""
        whole = isinstance(node, t.Matrix) and self._whole_line_reached(node)
        if whole or self._selection_reached(node.indices):
            return np.ones(_shape(node), dtype=bool)
        if isinstance(node, t.Tensor) and node.name in self.lines:
            return np.asarray(self._marks.value(node)) > 0
        return None

    def _indexed(self, node: t.IndexedFunc) -> Array | None:
        # Along `over` every entry reads every other (softmax, max): all of it.
        own = _tie_mask(node, self.magnitudes)
        inner = self.of(node.arg)
        if own is None and inner is None and not self._selection_reached(node.at):
            return None
        return np.ones(_shape(node), dtype=bool)

    def _selection_reached(self, indices: tuple[t.Index, ...]) -> bool:
        """Whether an `argmax[j](e)` standing in these index positions is reached
        (where it picks may change, so everything read through it may)."""
        return any(self.of(s.choice) is not None for s in t.selections(indices))

    def _whole_line_reached(self, node: t.Matrix | t.Loss) -> bool:
        """A function of a whole result array (`det`, `loss`) any of whose entries is reached."""
        return node.array in self.lines and bool(np.any(self.lines[node.array]))

    def _summed_out(self, factor: t.Term, product: t.Product) -> Array | None:
        reached = self.of(factor)
        if reached is None:
            return None
        names = t.names(factor.free)
        inner = tuple(n for n, name in enumerate(names) if name not in t.names(product.free))
        kept = tuple(name for name in names if name in t.names(product.free))
        return align(np.any(reached, axis=inner), kept, product.free)


def _aligned(reached: Array, part: t.Term, whole: t.Term) -> Array:
    return align(reached, t.names(part.free), whole.free)


def _union(node: t.Term, reached: Sequence[Array | None]) -> Array | None:
    """The entries any of `reached` (each on `node.free`) marks, or None."""
    marks = [r for r in reached if r is not None and np.any(r)]
    if not marks:
        return None
    union = np.zeros(_shape(node), dtype=bool)
    for mark in marks:
        union |= mark
    return union


def unless_tied(failed: Check, node: t.Term | None) -> Check:
    """A failed check, or inconclusive (NEAR_TIE) where `node` of the formulas
    compared sits within rounding of its tie: the failure proves nothing."""
    if node is None:
        return failed
    return replace(
        failed,
        verdict=Verdict.INCONCLUSIVE,
        reason=NEAR_TIE,
        hints=(*failed.hints, tie_hint(node)),
    )


def left_out_hint(node: t.Term) -> str:
    """What a wrong claim's reader is told of the tie its comparison left out."""
    return (
        f"`{formula(node)}` is within rounding of its tie here: the entries it can "
        "reach were left out of the comparison"
    )


def tie_hint(node: t.Term) -> str:
    """What the user reads: the node, and why its branch proves nothing."""
    return (
        f"`{formula(node)}` is within rounding of its tie here: its side depends on "
        "the order its operands are computed in, so the formulas compared may "
        "take different branches"
    )


def _tie_mask(node: t.Term, magnitudes: Magnitudes) -> Array | None:
    """The entries (on `node.free`) where this kinked node is within rounding
    of its tie; None for a node that is not kinked or whose sides are exact."""
    with np.errstate(all="ignore"):
        match node:
            case t.Compare() | t.Extremum():
                first, second = t.children(node)
                if magnitudes.exact(first) and magnitudes.exact(second):
                    return None
                a, a_size = _on(magnitudes, first, node)
                b, b_size = _on(magnitudes, second, node)
                return _within(np.abs(a - b), a_size + b_size)
            case t.Func() if node.name in KINKED_FUNCTIONS:
                if magnitudes.exact(node.arg):
                    return None
                a, a_size = magnitudes.both(node.arg)
                return _within(np.abs(a), a_size)
            case t.IndexedFunc() if node.name in SELECTING and not t.read_at_gather(node):
                if magnitudes.exact(node.arg) or not _selection_tied(node, magnitudes):
                    return None
                # Which entry is selected may change anywhere along the others: all of it.
                return np.ones(_shape(node), dtype=bool)
            case _:
                return None


def _selection_tied(node: t.IndexedFunc, magnitudes: Magnitudes) -> bool:
    """`max[j](e)` and its kin: two entries along j within rounding of the extreme."""
    a, size = magnitudes.both(node.arg)
    (index,) = node.over
    axis = t.names(node.arg.free).index(index.name)
    sign = 1.0 if node.name in ("max", "argmax") else -1.0
    signed = sign * a
    extreme = np.max(signed, axis=axis, keepdims=True)
    position = np.expand_dims(np.argmax(signed, axis=axis), axis)
    reach = rounding_error(size + np.take_along_axis(size, position, axis=axis))
    # Entries computed exactly (a bound of 0, as a masked 0) tie alike in every
    # evaluation: only a bound above 0 lets rounding pick another.
    close = np.sum((extreme - signed <= reach) & (reach > 0), axis=axis)
    itself = np.take_along_axis(reach, position, axis=axis).squeeze(axis) > 0
    return bool(np.any(close - itself >= 1))


def _on(magnitudes: Magnitudes, part: t.Term, whole: t.Term) -> tuple[Array, Array]:
    value, size = magnitudes.both(part)
    names = t.names(part.free)
    return align(value, names, whole.free), align(size, names, whole.free)


def _within(margin: Array, size: Array) -> Array:
    """Where a finite margin is within the rounding bound of its sides'
    magnitudes, a bound above 0: sides computed exactly (a masked entry, 0 with
    a bound of 0) meet alike in every evaluation, a kink (`kinks`), no tie."""
    margin = np.asarray(margin, dtype=np.float64)
    bound = rounding_error(size)
    return np.isfinite(margin) & (margin <= bound) & (bound > 0)


def _shape(node: t.Term) -> tuple[int, ...]:
    """The node's entries: its free indices' sizes."""
    return tuple(size_value(i.size) for i in node.free)
