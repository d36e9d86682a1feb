"""Simplify terms: the fixed-point engine over the rewrite rules (rules.py).

The engine rewrites bottom-up until no rule applies and checks, after every
rewrite, that the free indices and their sizes are exactly those of the term
it replaced (a rule that lets an index go, like δ[i,i] = 1, is wrapped to keep
broadcasting over it). `simplify` gives the form that is shown; `normal_form`
adds distribution (a sum of products) and is only for comparing two terms by
their canonical keys (canonical.py).

The names other stages and the tests use (`key`, `RULES`, `Rule`, ...) are
importable from here as well as from the modules that define them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shapecheck.symbolic import terms as t
from shapecheck.symbolic.canonical import key as key
from shapecheck.symbolic.rules import NORMAL_FORM_RULES as NORMAL_FORM_RULES
from shapecheck.symbolic.rules import RULES as RULES
from shapecheck.symbolic.rules import Rule as Rule

if TYPE_CHECKING:
    from shapecheck.symbolic.trace import Trace

MAX_REWRITES = 200_000
# Nodes the engine looks at, summed over its steps: a rewrite of a product of
# n factors costs about n, so counting rewrites alone does not bound time.
# Some seconds at worst; the largest legitimate case measured (the dL/dU of an
# RNN unrolled 5,000 steps) needs under half of it.
MAX_WORK = 1_000_000


class SimplifyLimit(Exception):
    """The rewriting did not settle within MAX_REWRITES steps or MAX_WORK nodes."""


@dataclass
class Spent:
    """Nodes visited and rewrites made: simplifications that share one
    `Spent` are bounded by the limits as one would be (the parts of a sum
    simplified one by one, `shapes.py`; the steps of comparing a claim,
    `claims.py`, which sets a lower `limit` on the nodes visited)."""

    work: int = 0
    rewrites: int = 0
    limit: int = MAX_WORK


def simplify(
    term: t.Term,
    rules: tuple[Rule, ...] = RULES,
    trace: Trace | None = None,
    max_work: int = MAX_WORK,
    spent: Spent | None = None,
) -> t.Term:
    """The fixed point of `rules`, applied bottom-up; free indices are unchanged.

    With a `trace`, each rule applied is recorded on the subterm it rewrote.
    Past `max_work` nodes visited, SimplifyLimit; with `spent`, counting from
    what it holds, and adding to it, and past its `limit` too.
    """
    engine = _Engine(rules, trace, max_work if spent is None else min(max_work, spent.limit))
    if spent is not None:
        engine.work, engine.rewrites = spent.work, spent.rewrites
        engine.check_limits()  # what was spent elsewhere may already pass them
    result = engine.rewrite(term)
    if spent is not None:
        spent.work, spent.rewrites = engine.work, engine.rewrites
    return result


def normal_form(term: t.Term, spent: Spent | None = None) -> t.Term:
    """A sum of simplified products, for comparing two terms by `key`."""
    return simplify(term, NORMAL_FORM_RULES, spent=spent)


# The kinds no rule rewrites: the engine neither rewrites nor marks them.
LEAVES = (t.Const, t.SizeOf, t.Tensor, t.Delta, t.Loss, t.Matrix, t.Zero, t.IndexValue)
# Marks a term as a fixed point of a rule set (the tuple itself is the mark).
_FIXED = "_fixed"


def renamed_fixed_point(original: t.Term, renamed: t.Term) -> t.Term:
    """Carry the fixed-point mark over a consistent renaming of indices.

    Every rule's applicability depends only on structure and on which index
    names are equal, so an injective renaming of a fixed point is a fixed
    point again, up to the order `sort_factors` would choose. The mark is
    copied node by node, so the engine skips re-simplifying instantiated
    definitions.
    """
    mark = original.__dict__.get(_FIXED)
    if mark is not None and type(original) is type(renamed):
        renamed.__dict__[_FIXED] = mark
        for a, b in zip(t.children(original), t.children(renamed), strict=True):
            renamed_fixed_point(a, b)
    return renamed


class _Engine:
    def __init__(self, rules: tuple[Rule, ...], trace: Trace | None, max_work: int) -> None:
        self.rules = rules
        self.max_work = max_work
        self.trace = trace
        self.by_kind: dict[type, tuple[Rule, ...]] = {
            kind: tuple(r for r in rules if kind in getattr(r, "kinds", (kind,)))
            for kind in (t.Add, t.Product, t.Func, t.Opaque, t.Pow, t.Compare, t.Extremum)
        }
        self.rewrites = 0
        self.work = 0
        self.memo: dict[t.Term, t.Term] = {}

    def rewrite(self, term: t.Term) -> t.Term:
        if isinstance(term, LEAVES):
            return term  # no rule rewrites a leaf
        if term.__dict__.get(_FIXED) is self.rules:
            return term  # already a fixed point of these rules
        cached = self.memo.get(term)
        if cached is not None:
            return cached
        original = term
        while True:
            kids = t.children(term)
            self.work += len(kids) + 1
            if self.work > self.max_work:
                self.check_limits()
            if kids:
                new_kids = tuple(self.rewrite(k) for k in kids)
                if new_kids != kids:
                    term = t.with_children(term, new_kids)
            replaced = self._first_rewrite(term)
            if replaced is None:
                break
            term = replaced
        self.memo[original] = term
        term.__dict__[_FIXED] = self.rules
        return term

    def check_limits(self) -> None:
        """SimplifyLimit where the work or the rewrites are past their limits."""
        if self.work > self.max_work:
            raise SimplifyLimit(f"simplifying would visit more than {self.max_work:,} nodes")
        if self.rewrites > MAX_REWRITES:
            raise SimplifyLimit(f"more than {MAX_REWRITES:,} rewrites")

    def _first_rewrite(self, term: t.Term) -> t.Term | None:
        """What the first rule that applies makes of `term` (children simplified)."""
        for rule in self.by_kind.get(type(term), ()):
            replaced = rule(term)
            if replaced is not None:
                break
        else:
            return None
        self.rewrites += 1
        if self.rewrites > MAX_REWRITES:
            self.check_limits()
        result = _same_free(rule, term, replaced)
        if self.trace is not None:
            self.trace.rewrite(rule.__name__, term, result)
        return result


def _same_free(rule: Rule, term: t.Term, replaced: t.Term) -> t.Term:
    """`replaced`, still broadcast over every free index of `term`."""
    before = {(i.name, i.size) for i in term.free}
    after = {(i.name, i.size) for i in replaced.free}
    if after == before:
        return replaced
    if not after <= before:
        raise AssertionError(f"{rule.__name__} changed free indices {before} -> {after}")
    # A rule let an index go (δ[i,i] = 1): keep broadcasting over it.
    return t.Add((replaced,), term.free)
