"""Which branches the forward pass takes at a draw: where to look again at a
claim that its numbers alone confirmed.

Part of the numeric stage; the pipeline calls `other_branch_seeds` after a
claim's re-checks at the next draws (`pipeline._checked_at_other_draws`). A
claim that leaves out a mask (`keep[i,j] = r[i,j] < p`) agrees with the truth
at every draw where the mask keeps every entry, and three independent draws
make that unlikely, not impossible. So every kinked node of the definitions
(`kinks.is_kinked`: comparisons, relu, abs, step, sign, max and min,
`max[j]`, `argmax[j]` and their kin, norm) is a branch point: the branches
its entries take (`kinks.branch`) are gathered over the draws made, and the
seeds after them are drawn, at most MAX_SEARCHED, for those that send the
nodes that took one branch only down another; the claim is checked again at
the MAX_CHECKED of them that turn the most. A node that takes one branch by
construction (`x[i]^2 >= 0`) never changes, and costs one forward pass per
seed searched.
Nodes are told apart by their definition and their place in its formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from shapecheck.check.program import CheckedProgram
from shapecheck.numeric import kinks
from shapecheck.numeric import values as numbers
from shapecheck.numeric.budget import forward_entries, forward_pass_bytes
from shapecheck.numeric.evaluate import Evaluator, align, planned
from shapecheck.numeric.verify import forward_pass
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Deriver

Array = Any
# A kinked node: its definition, and its place in the formula (preorder).
Node = tuple[str, int]

# Seeds drawn, after those already checked, for one where a node that took
# one branch only takes another: a lone comparison that holds with
# probability q at a draw goes unturned over the three draws and all of
# these with probability q^35 (0.2 % at q = 0.84, `r < p` for a standard
# normal r and p drawn in [0.5, 2]; at 8 seeds it was 15 %). Fewer where a
# forward pass is large: the search spends at most SEARCH_WORK, counting a
# forward pass as its entries and NODE_WORK per node of its formulas (the
# evaluator's own time, about that of 1,000 entries), and at least
# MIN_SEARCHED seeds (the 1,000-step RNN: 14,000 entries, 9,000 nodes).
MAX_SEARCHED = 32
MIN_SEARCHED = 8
# Draws the claim is checked at again, of those searched: each is a whole
# numeric check of the claims (a 300-step recurrence with a relu per step,
# whose every draw turns some relu, was checked at all 8, 0.9 s each).
MAX_CHECKED = 2
SEARCH_WORK = 10**7
NODE_WORK = 1_000


def branches_taken(deriver: Deriver, forward: Mapping[str, Array]) -> dict[Node, frozenset[int]]:
    """The branches each kinked node of the definitions takes over its entries."""
    evaluator = Evaluator(forward)

    def on_axes(term: t.Term, axes: tuple[t.Idx, ...]) -> Array:
        return align(evaluator.value(term), t.names(term.free), axes)

    taken: dict[Node, frozenset[int]] = {}
    for name in deriver.graph.order:
        _, rhs = deriver.lowered[name]
        for place, node in enumerate(t.preorder(rhs)):
            if kinks.is_kinked(node):
                branch = kinks.branch(node, kinks.branch_operands(node, on_axes))
                taken[(name, place)] = frozenset(np.unique(branch).tolist())
    return taken


def other_branch_seeds(
    program: CheckedProgram, deriver: Deriver, seeds: Iterable[int], budget_bytes: int
) -> list[int]:
    """Seeds after `seeds` (of the next `searched`) whose draws send the nodes
    that took one branch only at every draw of `seeds` down another: at most
    MAX_CHECKED, each chosen for the most such nodes no earlier choice turns,
    in order; none where the forward pass does not fit `budget_bytes`."""
    if forward_pass_bytes(program, deriver, planned) > budget_bytes:
        return []
    done = list(seeds)
    seen: dict[Node, set[int]] = {}
    for seed in done:
        _merge(seen, _at(program, deriver, seed))
    untouched = {node for node, sides in seen.items() if len(sides) == 1}
    turns: dict[int, set[Node]] = {}
    for seed in range(max(done) + 1, max(done) + 1 + searched(program, deriver)):
        if not untouched:
            break
        taken = _at(program, deriver, seed)
        turns[seed] = {node for node in untouched if taken.get(node, frozenset()) - seen[node]}
        untouched -= turns[seed]
    return _covering(turns)


def _covering(turns: dict[int, set[Node]]) -> list[int]:
    """At most MAX_CHECKED seeds, greedily turning the most nodes (the lower
    seed on a tie), in order."""
    chosen: list[int] = []
    left = set().union(*turns.values()) if turns else set()
    while left and len(chosen) < MAX_CHECKED:
        best = max(sorted(turns), key=lambda seed: len(turns[seed] & left))
        chosen.append(best)
        left -= turns[best]
    return sorted(chosen)


def searched(program: CheckedProgram, deriver: Deriver) -> int:
    """How many seeds `other_branch_seeds` may draw for this program."""
    nodes = sum(t.size_count(deriver.lowered[name][1]) for name in deriver.graph.order)
    work = forward_entries(program) + NODE_WORK * nodes
    return min(MAX_SEARCHED, max(MIN_SEARCHED, SEARCH_WORK // max(work, 1)))


def _at(program: CheckedProgram, deriver: Deriver, seed: int) -> dict[Node, frozenset[int]]:
    return branches_taken(deriver, forward_pass(deriver, numbers.draw_values(program, seed)))


def _merge(seen: dict[Node, set[int]], taken: Mapping[Node, frozenset[int]]) -> None:
    for node, sides in taken.items():
        seen.setdefault(node, set()).update(sides)
