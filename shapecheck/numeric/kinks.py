"""Kinks in numeric checks (spec 9.2): where a piecewise term changes branch.

A comparison, `step`, `sign`, `relu`, `abs`, `max(a, b)` and `min(a, b)`, the
reductions `max[j]`, `min[j]`, `argmax[j]`, `argmin[j]` (where the position
they select changes: a tie), and `norm` at a zero vector have no derivative
where they change branch, and a
central difference whose points lie on both sides of such a point measures a
jump or a corner, not a slope.
So numeric checks never compare there:

- **The branch signature.** While the finite differences rerun the
  definitions for a stack of perturbed inputs (`batched.BatchedEvaluator`),
  every kinked node reports which branch each of its entries takes, at every
  perturbed point and at the unperturbed centre. A perturbed point whose
  signature differs anywhere from the centre's *straddles* a kink
  (`Straddles.rows`). An entry exactly at a kink (a tie, a relu of 0) has
  branch 0 there and ±1 at any point that moves it: it straddles too.
- **Full checks** leave out every Jacobian column (a perturbed input entry)
  whose points straddle; **directions** are zeroed on the coordinates whose
  perturbation straddles (`clear_direction`, by bisection); claims leave out
  the same entries as their true derivative (`Verifier.kinked_entries`).
- **Redraws** (`numeric/report.py`): while entries are left out and some array
  on the way is drawn, the drawn arrays are drawn again (a new seeded draw,
  at most MAX_REDRAWS times); literal and `--at` values are kept.
- Entries left out are counted (`Check.at_kink`), and a check with nothing
  left to compare is inconclusive with the reason AT_KINK.
- **Bounded work.** Each test a bisection makes is a forward pass of the
  definitions on the way at every point of a direction; one derivative's
  clearing, over all its redraws, spends at most CLEARING_MAX_WORK
  multiply-adds (`ClearingBudget`). Past it, the directions still to clear
  are left out whole and nothing is redrawn: the check compares what it
  cleared, and is inconclusive (AT_KINK) if that is nothing. (A definition
  with eight summed indices in a `step` reran 1.7 million entries per point
  about 36 times per check, 17 s at m = 6.)

**The hook.** `branch(term, operands)` is the one place that knows which term
kinds have kinks and what their branch is; `is_kinked(term)` says which nodes
it answers for. A new piecewise term (a reduction `max[j](e)`, whose branch is
the position it selects) adds one arm to each, and has the evaluator that
computes its value (`BatchedEvaluator._value`) call `_note_kink(term,
operands)` with the operand values it already computed (so nothing is
evaluated twice): an array per entry of the term (any dtype; equal entries
mean the same branch). `branch_operands(term, value_on)` says, one arm per
kind, what `branch` reads of a node evaluated on its own (the branches the
forward pass takes at a draw, `branches.py`). Everything else (full checks,
directions, claims, redraws, the report) follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from shapecheck.numeric.verdicts import AT_KINK
from shapecheck.symbolic import terms as t

__all__ = [
    "AT_KINK",
    "CLEARING_MAX_WORK",
    "MAX_REDRAWS",
    "Cleared",
    "ClearingBudget",
    "Straddles",
    "branch",
    "branch_operands",
    "clear_direction",
]

Array = Any

# Functions whose derivative jumps or does not exist at 0.
KINKED_FUNCTIONS = ("relu", "abs", "step", "sign")
# Redraws of the drawn arrays before straddling entries are left out for good.
MAX_REDRAWS = 5
# Multiply-adds the reruns of kink clearing may spend on one derivative, over
# all its redraws: about a second of einsum here, and 50 times what the
# directions check of a sample costs at its largest.
CLEARING_MAX_WORK = 5 * 10**8


def _side(left: Array, right: Array | float = 0.0) -> Array:
    """-1, 0 or 1 by the sign of `left - right`; NaN is a branch of its own (2).

    Compared, not subtracted, into 1-byte integers: a comparison broadcast
    over many indices is millions of entries per perturbed point, and a
    float difference, its NaN mask and its sign cost eight times the memory
    and twice the passes (a fuzzed file spent 4.5 s of 10 here)."""
    above = np.greater(left, right)
    below = np.less(left, right)
    side = above.view(np.int8) - below.view(np.int8)
    unordered = ~(above | below | np.equal(left, right))
    if unordered.any():
        # Rare (a NaN), and `where` serves a 0-d operand too.
        side = np.where(unordered, np.int8(2), side)
    return side


def is_kinked(term: t.Term) -> bool:
    """Whether the node has kinks of its own (part of THE HOOK)."""
    match term:
        case t.Compare() | t.Extremum():
            return True
        case t.Func():
            return term.name in KINKED_FUNCTIONS
        case t.IndexedFunc():
            # A norm of a zero vector: its derivative e / norm is 0 / 0 there;
            # `max[j]`, `argmax[j]` and their kin where the position they select changes.
            return term.name in SELECTING or term.name == "norm"
        case _:
            return False


def branch(term: t.Term, operands: tuple[Array, ...]) -> Array:
    """The branch each entry of a kinked node takes (THE HOOK: one arm per kind).

    `operands` are the values the evaluator computed for the node's own value,
    on the axes of its free indices (after the batch axis when there is one):
    a comparison's two sides, max/min's two arguments, a function's argument.
    """
    with np.errstate(invalid="ignore"):
        match term:
            case t.Compare() | t.Extremum():
                return _side(operands[0], operands[1])
            case t.Func():
                return _side(operands[0])
            case t.IndexedFunc() if term.name in SELECTING:
                return _selected_position(term, operands[0])
            case t.IndexedFunc():
                # The norm's own value: 0 at a zero vector, positive elsewhere.
                return _side(operands[0])
            case _:
                raise ValueError(f"{type(term).__name__} has no kinks")


def branch_operands(
    node: t.Term, value_on: Callable[[t.Term, tuple[t.Idx, ...]], Array]
) -> tuple[Array, ...]:
    """What `branch` reads of a kinked node (part of THE HOOK), from
    `value_on(term, axes)`, a term's value on the given axes: for a node not
    being evaluated already (`branches.py`; `BatchedEvaluator` passes the
    operands it computed for the node's own value)."""
    match node:
        case t.Compare():
            return (value_on(node.left, node.free), value_on(node.right, node.free))
        case t.Extremum():
            return (value_on(node.first, node.free), value_on(node.second, node.free))
        case t.Func():
            return (value_on(node.arg, node.free),)
        case t.IndexedFunc() if node.name in SELECTING:
            return (value_on(node.arg, node.arg.free),)
        case t.IndexedFunc():  # a norm: its own value
            return (value_on(node, node.free),)
        case _:
            raise ValueError(f"{type(node).__name__} has no kinks")


# The reductions whose branch is the position they select (spec 9.2).
SELECTING = (*t.EXTREME_REDUCTIONS, *t.SELECTIONS)


def _selected_position(term: t.IndexedFunc, argument: Array) -> Array:
    """The branch of `max[j](e)` and its kin, from e's values (axes: any batch
    axes, then `term.arg.free`): 1 + the first position of the extreme along
    j, 0 where two entries tie for it (a tie is a kink: any point that moves
    one of them selects one position), -1 where the entries hold a NaN."""
    argument = np.asarray(argument, dtype=np.float64)
    (index,) = term.over
    axis = argument.ndim - len(term.arg.free) + t.names(term.arg.free).index(index.name)
    pick = np.argmax if term.name in ("max", "argmax") else np.argmin
    position = pick(argument, axis=axis)
    extreme = np.take_along_axis(argument, np.expand_dims(position, axis), axis=axis)
    ties = np.sum(argument == extreme, axis=axis) > 1
    broken = np.any(np.isnan(argument), axis=axis)
    return np.where(broken, -1, np.where(ties, 0, position + 1))


def has_kinks(term: t.Term) -> bool:
    """Whether any node of `term` is kinked (checks skip the kink work otherwise);
    an `argmax[j](e)` standing in an index position is a node too."""
    stack = [term]
    while stack:
        node = stack.pop()
        if is_kinked(node):
            return True
        stack.extend(t.children(node))
        if isinstance(node, t.Tensor | t.Delta | t.Matrix):
            stack.extend(s.choice for s in t.selections(node.indices))
    return False


@dataclass
class Straddles:
    """What the last rerun saw: per row of its stack, whether the row's branch
    signature differs from the centre's (None: nothing kinked was evaluated).
    `columns` collects, per input entry of a full check, whether any of its
    points straddled (numerator order, flattened)."""

    rows: Array | None = None
    columns: Array | None = None
    # What clearing directions may still spend (None: unbounded).
    clearing: ClearingBudget | None = None

    def note(self, batched_branch: Array, centre_branch: Array) -> None:
        """Rows of a kinked node's batched branch that differ from the centre's."""
        differs = np.asarray(batched_branch != np.asarray(centre_branch)[None])
        rows = np.reshape(differs, (differs.shape[0], -1)).any(axis=1)
        self.rows = rows if self.rows is None else self.rows | rows


@dataclass
class Cleared:
    """A direction with the coordinates that straddle a kink zeroed; `dropped`
    when the clearing budget ran out and the whole direction was left out."""

    direction: Array
    zeroed: int = 0
    dropped: bool = False


@dataclass
class ClearingBudget:
    """What kink clearing may still spend on one derivative (`CLEARING_MAX_WORK`),
    shared by the checks of all its redraws; `test_cost` is one straddle
    test's reruns, in multiply-adds. Counted, not timed: the same file stops
    at the same test on every machine."""

    test_cost: int
    left: int = CLEARING_MAX_WORK
    exhausted: bool = False

    def pay(self) -> bool:
        """Whether one more test fits; the first that does not exhausts the budget."""
        if self.exhausted or self.test_cost > self.left:
            self.exhausted = True
            return False
        self.left -= self.test_cost
        return True


class _OverBudget(Exception):
    """Raised through the bisection when the clearing budget runs out."""


def clear_direction(
    u: Array, straddles: Callable[[Array], bool], clearing: ClearingBudget | None = None
) -> Cleared:
    """`u` zeroed on the coordinates whose perturbation straddles a kink.

    `straddles(w)` says whether the points x ± k h w straddle one. Coordinates
    are found by bisection: a half that does not straddle is kept whole, one
    that does is split, down to single coordinates, so k straddling
    coordinates cost about k log n reruns. Halves that are clear apart but
    straddle together (two coordinates that move one comparison's two sides)
    keep the larger half. Each test is paid from `clearing`; when it runs
    out, the direction is left out whole (`Cleared.dropped`).
    """
    flat = np.ravel(u)
    shape = np.shape(u)

    def straddles_flat(w: Array) -> bool:
        # The bisection works on the flattened direction; the test takes the
        # direction in the target's own shape (a matrix W moves as a matrix).
        if clearing is not None and not clearing.pay():
            raise _OverBudget
        return straddles(np.reshape(w, shape))

    try:
        if not straddles_flat(flat):
            return Cleared(u)
        kept = _clear(np.flatnonzero(flat), flat, straddles_flat)
    except _OverBudget:
        return Cleared(np.zeros_like(u), int(np.count_nonzero(flat)), dropped=True)
    cleared = np.zeros_like(flat)
    cleared[kept] = flat[kept]
    zeroed = int(np.count_nonzero(flat) - len(kept))
    return Cleared(np.reshape(cleared, np.shape(u)), zeroed)


def _clear(coordinates: Array, flat: Array, straddles: Callable[[Array], bool]) -> Array:
    if len(coordinates) == 0:
        return coordinates
    only = np.zeros_like(flat)
    only[coordinates] = flat[coordinates]
    if not straddles(only):
        return coordinates
    if len(coordinates) == 1:
        return coordinates[:0]
    half = len(coordinates) // 2
    first = _clear(coordinates[:half], flat, straddles)
    second = _clear(coordinates[half:], flat, straddles)
    both = np.concatenate([first, second])
    together = np.zeros_like(flat)
    together[both] = flat[both]
    if len(both) and straddles(together):
        return first if len(first) >= len(second) else second
    return both
