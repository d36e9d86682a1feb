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
again (`report.off_kinks`). Sides that are bare values (an array's entry, a
constant, an index value) are exact, and their ties are resolved alike by any
evaluation: only computed sides count.

Stage: numeric; used by `verify` and `claimcheck`; reads `rounding`, `kinks`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from shapecheck.numeric.evaluate import align
from shapecheck.numeric.kinks import KINKED_FUNCTIONS, SELECTING
from shapecheck.numeric.rounding import Magnitudes, rounding_error
from shapecheck.numeric.verdicts import NEAR_TIE, Check, Verdict
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.formula import formula

Array = Any

__all__ = ["NEAR_TIE", "tie_hint", "tied_node", "unless_tied"]

# Leaves: their values are the point itself, not computed.
_EXACT = (t.Tensor, t.Const, t.IndexValue, t.Delta, t.SizeOf, t.Zero)


def tied_node(
    formulas: Sequence[t.Term], values: Mapping[str, Array], known: Mapping[str, Array]
) -> t.Term | None:
    """The first kinked node of `formulas` within rounding of its tie at
    `values` (`known`: rounding magnitudes of arrays that are themselves
    results, as `rounding.Magnitudes` takes them); None when there is none."""
    magnitudes = Magnitudes(values, known)
    seen: set[int] = set()
    stack = list(reversed(formulas))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        with np.errstate(all="ignore"):
            if _near_tie(node, magnitudes):
                return node
        stack.extend(reversed(t.children(node)))
        if isinstance(node, t.Tensor | t.Delta | t.Matrix):
            # An `argmax[j](e)` standing in an index position is a node too.
            stack.extend(s.choice for s in t.selections(node.indices))
    return None


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


def tie_hint(node: t.Term) -> str:
    """What the user reads: the node, and why its branch proves nothing."""
    return (
        f"`{formula(node)}` is within rounding of its tie here: its side depends on "
        "the order its operands are computed in, so the formulas compared may "
        "take different branches"
    )


def _near_tie(node: t.Term, magnitudes: Magnitudes) -> bool:
    """Whether this node is kinked and some entry of it is within rounding of its tie."""
    match node:
        case t.Compare() | t.Extremum():
            first, second = t.children(node)
            if isinstance(first, _EXACT) and isinstance(second, _EXACT):
                return False
            a, a_size = _on(magnitudes, first, node)
            b, b_size = _on(magnitudes, second, node)
            return _within(np.abs(a - b), a_size + b_size)
        case t.Func() if node.name in KINKED_FUNCTIONS:
            if isinstance(node.arg, _EXACT):
                return False
            a, a_size = magnitudes.both(node.arg)
            return _within(np.abs(a), a_size)
        case t.IndexedFunc() if node.name in SELECTING and not t.read_at_gather(node):
            if isinstance(node.arg, _EXACT):
                return False
            return _selection_tied(node, magnitudes)
        case _:
            return False


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
    close = np.sum(extreme - signed <= reach, axis=axis)
    return bool(np.any(close > 1))


def _on(magnitudes: Magnitudes, part: t.Term, whole: t.Term) -> tuple[Array, Array]:
    value, size = magnitudes.both(part)
    names = t.names(part.free)
    return align(value, names, whole.free), align(size, names, whole.free)


def _within(margin: Array, size: Array) -> bool:
    """Whether any finite margin is within the rounding bound of its sides' magnitudes."""
    margin = np.asarray(margin, dtype=np.float64)
    return bool(np.any(np.isfinite(margin) & (margin <= rounding_error(size))))
