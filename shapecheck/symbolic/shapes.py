"""Adjoints simplified once per shape: a memo over `simplify` for reverse mode.

Part of the symbolic stage, used by `derive.py`. An unrolled loop makes the
same adjoint again and again with other arrays: dL/ds{t} of an RNN is
`dL/ds{t+1}[a] U[i,a] (1 - s{t+1}[a]^2)` for every t. `ShapeMemo` simplifies
the first of them and gives each later one the stored result with its arrays
renamed, which is exactly what simplifying it would give, because:

- the key holds every node of the term in preorder, each array's name
  replaced by its number (by first appearance), so index names and sizes,
  constants (by repr: `-0.0` is not `0.0`), functions, array kinds and the
  tree itself are equal on a hit;
- it holds which nodes carry the engine's fixed-point mark, and of which
  rules, since the engine does not rewrite those (an instantiated
  definition is marked);
- the rules see array names only through equality and through the order of
  canonical keys (`canonical.py`), strings in which a name is followed by
  `[`. Two names get the same placeholder only where they have the same
  characters but for their digits (same length, digits in the same places),
  and the key holds, for every pair of names in the term, their order and
  whether one begins the other. Then every comparison of two keys comes out
  the same: where two keys first differ inside names, it is decided by those
  two names (or, where one begins the other, by a digit or letter against
  the `[` after the shorter, whichever the digit), and a name against other
  text is decided by a letter, or by a digit against a character that is not
  a digit, whichever the digit. Terms where arrays are named in other places
  (gathers, `argmax` in positions, losses, matrix functions, `fn` calls) are
  not memoised.

The stored result is renamed with the fixed-point marks of every node
carried over, as the engine would have left them.

A sum too large to key (the dL/dU above: one part per time step) is
simplified part by part through the memo, then as a whole. That is what the
engine does with it: it rewrites each term of a sum to its fixed point, on
its own, before any rule sees the sum, and then skips the marked parts. The
parts share one `Spent`, a hit adding what its miss cost, so that the limits
bound the sum as they did when it was simplified at once.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from itertools import combinations
from typing import Protocol

from shapecheck.symbolic import terms as t
from shapecheck.symbolic.simplify import LEAVES, NORMAL_FORM_RULES, RULES, Spent

_DIGIT = re.compile(r"[0-9]")
_FIXED = "_fixed"
# Beyond this many arrays a term is not memoised: the key's pairs of names
# grow as its square, and such a term (the sum over 1,000 time steps of
# dL/dU) is not made twice.
MAX_NAMES = 64


class _Unmemoisable(Exception):
    """The term names an array outside a `Tensor` node."""


def _plain_indices(indices: tuple[t.Index, ...]) -> bool:
    """No gather or selection (which name arrays) among the indices."""
    for index in indices:
        if isinstance(index, t.Gather | t.Select):
            return False
        if isinstance(index, t.Shift) and not all(isinstance(i, t.Idx) for i, _ in index.parts):
            return False
    return True


def _local(node: t.Term, names: dict[str, int]) -> tuple[Hashable, ...]:
    """What a node is besides its children, an array's name as its number;
    a number as its repr (`-0.0` is not `0.0`); raises `_Unmemoisable`."""
    match node:
        case t.Tensor() if _plain_indices(node.indices):
            return (t.Tensor, names.setdefault(node.name, len(names)), node.indices, node.kind)
        case t.Const():
            return (t.Const, repr(node.value))
        case t.Product():
            return (t.Product, node.summed, len(node.factors))
        case t.Add():
            return (t.Add, node.free, len(node.terms))
        case t.Func():
            return (t.Func, node.name)
        case t.Extremum():
            return (t.Extremum, node.name)
        case t.IndexedFunc() if _plain_indices(node.at):
            return (t.IndexedFunc, node.name, node.over, node.at)
        case t.Pow():
            return (t.Pow,)
        case t.Compare():
            return (t.Compare, node.op)
        case t.Delta() if _plain_indices(node.indices):
            return (t.Delta, node.indices)
        case t.SizeOf():
            return (t.SizeOf, node.size)
        case t.Zero():
            return (t.Zero, node.free)
        case t.IndexValue():
            return (t.IndexValue, node.index)
    raise _Unmemoisable


def _mark(node: t.Term) -> int:
    """The fixed-point mark the engine reads: none on a leaf (ignored)."""
    if isinstance(node, LEAVES):
        return 0
    mark = node.__dict__.get(_FIXED)
    if mark is None:
        return 0
    if mark is RULES:
        return 1
    if mark is NORMAL_FORM_RULES:
        return 2
    raise _Unmemoisable


def _walk(term: t.Term) -> tuple[list[str], tuple[Hashable, ...]]:
    """The arrays' names in order of first appearance, and each node in
    preorder as `_local` gives it with its mark; raises `_Unmemoisable`
    (also past MAX_NAMES arrays)."""
    names: dict[str, int] = {}
    nodes: list[Hashable] = []
    stack = [term]
    while stack:
        node = stack.pop()
        nodes.append((_local(node, names), _mark(node)))
        if len(names) > MAX_NAMES:
            raise _Unmemoisable  # not the rest of a sum over 1,000 time steps
        stack.extend(reversed(t.children(node)))
    return list(names), tuple(nodes)


def _relations(names: list[str]) -> tuple[tuple[int, bool, bool], ...]:
    """For each pair of names: their order, and whether either begins the other."""
    return tuple(
        ((a > b) - (a < b), b.startswith(a), a.startswith(b)) for a, b in combinations(names, 2)
    )


def shape_of(term: t.Term) -> tuple[Hashable, list[str]] | None:
    """The memo's key of a term and its arrays' names in the key's order;
    None where the term is not memoised."""
    try:
        names, nodes = _walk(term)
    except _Unmemoisable:
        return None
    masks = tuple(_DIGIT.sub("0", name) for name in names)
    shape = (nodes, masks, _relations(names))
    return shape, names


class Simplify(Protocol):
    """`simplify.simplify` as the memo calls it."""

    def __call__(self, term: t.Term, *, spent: Spent | None = None) -> t.Term: ...


class ShapeMemo:
    """Simplified adjoints by shape, for one Deriver (one checked program)."""

    def __init__(self) -> None:
        # Per shape: the result, its arrays' names, and what simplifying it cost.
        self._done: dict[Hashable, tuple[t.Term, list[str], Spent]] = {}
        self.hits = 0

    def simplified(self, term: t.Term, simplify: Simplify) -> t.Term:
        """`simplify(term)`, from the memo where a term of its shape was simplified
        (or, for a sum too large to key, each of its parts)."""
        found = shape_of(term)
        spent = Spent()
        if found is not None or not isinstance(term, t.Add) or _FIXED in term.__dict__:
            return self._one(term, found, simplify, spent)
        parts = tuple(self._one(p, shape_of(p), simplify, spent) for p in term.terms)
        # As the engine: the same node where every part was a fixed point already.
        unchanged = all(new is old for new, old in zip(parts, term.terms, strict=True))
        return simplify(term if unchanged else t.with_children(term, parts), spent=spent)

    def _one(
        self,
        term: t.Term,
        found: tuple[Hashable, list[str]] | None,
        simplify: Simplify,
        spent: Spent,
    ) -> t.Term:
        """`simplify(term)`, its shape and names `found`, adding its cost to `spent`."""
        if found is None:
            return simplify(term, spent=spent)
        shape, names = found
        stored = self._done.get(shape)
        if stored is None:
            before = Spent(spent.work, spent.rewrites)
            result = simplify(term, spent=spent)
            if {n for n, _ in _arrays(result)} <= set(names):
                cost = Spent(spent.work - before.work, spent.rewrites - before.rewrites)
                self._done[shape] = (result, names, cost)
            return result
        result, before_names, cost = stored
        self.hits += 1
        spent.work += cost.work
        spent.rewrites += cost.rewrites
        mapping = dict(zip(before_names, names, strict=True))
        return _renamed_arrays(result, mapping)


# What a node keeps under a renaming of arrays: the engine's fixed-point mark
# (a hit must leave what a miss leaves) and its free indices (computed once).
_KEPT = (_FIXED, "free")


def _renamed_arrays(node: t.Term, mapping: dict[str, str]) -> t.Term:
    """`node` with its arrays renamed by `mapping`, each rebuilt node keeping
    what `_KEPT` names of the node it replaces; a subtree that names no
    renamed array is the stored one itself (terms are immutable)."""
    if isinstance(node, t.Tensor):
        name = mapping[node.name]
        return node if name == node.name else t.Tensor(name, node.indices, node.kind)
    kids = t.children(node)
    if not kids:
        return node
    new = tuple(_renamed_arrays(kid, mapping) for kid in kids)
    if all(a is b for a, b in zip(new, kids, strict=True)):
        return node
    rebuilt = t.with_children(node, new)
    for kept in _KEPT:
        value = node.__dict__.get(kept)
        if value is not None:
            rebuilt.__dict__[kept] = value
    return rebuilt


def _arrays(term: t.Term) -> list[tuple[str, str]]:
    """The (name, kind) of every `Tensor` node of a term."""
    found: list[tuple[str, str]] = []
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor):
            found.append((node.name, node.kind))
        stack.extend(t.children(node))
    return found
