"""Simplify terms: one named function per rewrite rule and a fixed-point engine.

Each rule takes a term whose children are already simplified and returns the
rewritten term, or None when it does not apply. Every rule states its identity
and why applying it cannot go on forever. The engine rewrites bottom-up until
no rule applies and checks, after every rewrite, that the free indices and
their sizes are exactly those of the term it replaced (a rule that lets an
index go, like δ[i,i] = 1, is wrapped to keep broadcasting over it).

A canonical key (summed indices renamed in order of appearance, factors
sorted) makes equal terms compare equal, so like terms merge: Σ_j 2 X[i,j] and
Σ_k X[i,k] 2 are one term.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

from shapecheck.symbolic import terms as t

Rule = Callable[[t.Term], t.Term | None]
_R = TypeVar("_R", bound=Callable[[t.Term], "t.Term | None"])


def rewrites(*kinds: type) -> Callable[[_R], _R]:
    """Declare which term types a rule rewrites, so the engine tries it only there."""

    def mark(rule: _R) -> _R:
        rule.kinds = kinds  # type: ignore[attr-defined]
        return rule

    return mark


MAX_REWRITES = 200_000


class SimplifyLimit(Exception):
    """The rewriting did not settle within MAX_REWRITES steps."""


# ---------------------------------------------------------------------------
# Canonical keys


def key(term: t.Term, rename: dict[str, str] | None = None) -> str:
    """A string equal for terms equal up to renaming summed indices and factor order."""
    if not rename or rename.keys().isdisjoint(t.used_names(term)):
        # The common case, remembered on the (immutable) term.
        cache = term.__dict__
        found = cache.get("_key")
        if found is None:
            found = _key(term, {})
            cache["_key"] = found
        return found
    return _key(term, rename)


def _key(term: t.Term, rename: dict[str, str]) -> str:

    def index(i: t.Index) -> str:
        return str(i.value) if isinstance(i, t.Fixed) else rename.get(i.name, i.name)

    if isinstance(term, t.Const):
        return repr(term.value)
    if isinstance(term, t.SizeOf):
        return f"#size({term.size})"
    if isinstance(term, t.Tensor):
        return f"{term.name}[{','.join(index(i) for i in term.indices)}]"
    if isinstance(term, t.Delta):
        return f"δ[{','.join(sorted(index(i) for i in term.indices))}]"
    if isinstance(term, t.Loss):
        return f"loss({term.array})"
    if isinstance(term, t.Zero):
        return "0"
    if isinstance(term, t.Func):
        return f"{term.name}({key(term.arg, rename)})"
    if isinstance(term, t.Pow):
        return f"({key(term.base, rename)})^({key(term.exponent, rename)})"
    if isinstance(term, t.Add):
        return "(" + " + ".join(sorted(key(x, rename) for x in term.terms)) + ")"
    # A product: summed indices become placeholders named in the order they
    # first appear once the factors are sorted.
    summed = {i.name for i in term.summed}
    hidden = {**rename, **{name: "#" for name in summed}}
    ordered = sorted(term.factors, key=lambda f: key(f, hidden))
    canonical = dict(rename)
    counter = len([v for v in rename.values() if v.startswith("$")])
    for factor in ordered:
        for name in _appearance_order(factor):
            if name in summed and name not in canonical:
                canonical[name] = f"${counter}"
                counter += 1
    for name in summed:
        canonical.setdefault(name, f"${counter}")
    parts = sorted(key(f, canonical) for f in term.factors)
    sums = ",".join(sorted(canonical[name] for name in summed))
    return f"Σ[{sums}](" + " ".join(parts) + ")"


def _appearance_order(term: t.Term) -> list[str]:
    names: list[str] = []
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor | t.Delta):
            names.extend(i.name for i in node.indices if isinstance(i, t.Idx))
        stack.extend(reversed(t.children(node)))
    return names


# The order factors are printed in: constants, arrays, functions, deltas last.
_CATEGORY = {
    kind: position
    for position, kind in enumerate(
        (t.Const, t.SizeOf, t.Tensor, t.Loss, t.Func, t.Pow, t.Add, t.Product, t.Delta)
    )
}


def _category(term: t.Term) -> int:
    return _CATEGORY.get(type(term), len(_CATEGORY))


def _coefficient(term: t.Term) -> tuple[float, t.Term]:
    """Split a leading constant: 2 X -> (2, X)."""
    if isinstance(term, t.Const):
        return term.value, t.Const(1.0)
    if isinstance(term, t.Product) and term.factors and isinstance(term.factors[0], t.Const):
        rest = term.factors[1:]
        if not rest:
            return term.factors[0].value, t.Product((), term.summed)
        if len(rest) == 1 and not term.summed:
            return term.factors[0].value, rest[0]
        return term.factors[0].value, t.Product(rest, term.summed)
    return 1.0, term


def _scaled(coefficient: float, term: t.Term) -> t.Term:
    if coefficient == 1.0:
        return term
    if isinstance(term, t.Const):
        return t.Const(coefficient * term.value)
    if isinstance(term, t.Product):
        return t.Product((t.Const(coefficient), *term.factors), term.summed)
    return t.Product((t.Const(coefficient), term))


# ---------------------------------------------------------------------------
# Rules on sums


@rewrites(t.Add)
def flatten_add(term: t.Term) -> t.Term | None:
    """(a + b) + c = a + b + c. Terminates: the nesting depth of sums drops."""
    if not isinstance(term, t.Add) or not any(isinstance(x, t.Add) for x in term.terms):
        return None
    flat: list[t.Term] = []
    for x in term.terms:
        flat.extend(x.terms if isinstance(x, t.Add) else (x,))
    return t.Add(tuple(flat), term.free)


@rewrites(t.Add)
def drop_zero_terms(term: t.Term) -> t.Term | None:
    """a + 0 = a. Terminates: the number of terms drops."""
    if not isinstance(term, t.Add) or not any(isinstance(x, t.Zero) for x in term.terms):
        return None
    kept = tuple(x for x in term.terms if not isinstance(x, t.Zero))
    return t.Add(kept, term.free) if kept else t.Zero(term.free)


@rewrites(t.Add)
def unwrap_add(term: t.Term) -> t.Term | None:
    """A sum of one term over that term's own indices is the term. Terminates: a node goes."""
    if not isinstance(term, t.Add) or len(term.terms) != 1:
        return None
    (only,) = term.terms
    if {(i.name, i.size) for i in only.free} == {(i.name, i.size) for i in term.free}:
        return only
    return None


@rewrites(t.Add)
def merge_like_terms(term: t.Term) -> t.Term | None:
    """c₁ T + c₂ T = (c₁ + c₂) T, with T compared by canonical key. Terminates: terms drop."""
    if not isinstance(term, t.Add) or len(term.terms) < 2:
        return None
    groups: dict[str, list[tuple[float, t.Term]]] = {}
    for x in term.terms:
        coefficient, rest = _coefficient(x)
        groups.setdefault(key(rest), []).append((coefficient, rest))
    if len(groups) == len(term.terms):
        return None
    merged: list[t.Term] = []
    for members in groups.values():
        total = math.fsum(c for c, _ in members)
        rest = members[0][1]
        if total == 0.0:
            merged.append(t.Zero(rest.free))
        elif isinstance(rest, t.Product) and not rest.factors:
            merged.append(t.Product((t.Const(total),), rest.summed))
        else:
            merged.append(_scaled(total, rest))
    return t.Add(tuple(merged), term.free)


@rewrites(t.Product)
def distribute_constant(term: t.Term) -> t.Term | None:
    """c (a + b) = c a + c b, for a constant c only (never a general expansion).

    Terminates: the product goes, and its sum's terms get a constant factor,
    which fold_constants merges.
    """
    if not isinstance(term, t.Product) or term.summed or len(term.factors) != 2:
        return None
    first, second = term.factors
    if not (isinstance(first, t.Const) and isinstance(second, t.Add)):
        return None
    return t.Add(tuple(_scaled(first.value, x) for x in second.terms), second.free)


@rewrites(t.Func, t.Pow)
def lift_broadcast(term: t.Term) -> t.Term | None:
    """f(x broadcast over i) = f(x) broadcast over i; likewise for powers.

    Terminates: the broadcast wrapper moves one level up the tree.
    """
    if not isinstance(term, t.Func | t.Pow):
        return None
    kids = t.children(term)
    if not any(isinstance(k, t.Add) and len(k.terms) == 1 for k in kids):
        return None
    inner = tuple(k.terms[0] if isinstance(k, t.Add) and len(k.terms) == 1 else k for k in kids)
    return t.Add((t.with_children(term, inner),), term.free)


# ---------------------------------------------------------------------------
# Rules on products


@rewrites(t.Product)
def unwrap_broadcast(term: t.Term) -> t.Term | None:
    """In a product, a factor broadcast over i is the factor itself: a product
    already spans the union of its factors' indices (and the engine keeps any
    index the product would lose). Terminates: a wrapper goes.
    """
    if not isinstance(term, t.Product):
        return None
    if not any(isinstance(f, t.Add) and len(f.terms) == 1 for f in term.factors):
        return None
    factors = tuple(
        f.terms[0] if isinstance(f, t.Add) and len(f.terms) == 1 else f for f in term.factors
    )
    return t.Product(factors, term.summed)


@rewrites(t.Product)
def flatten_product(term: t.Term) -> t.Term | None:
    """Σ_i (a Σ_j b c) = Σ_{i,j} a b c, renaming j if it clashes.

    Terminates: the nesting depth of products drops.
    """
    if not isinstance(term, t.Product) or not any(isinstance(f, t.Product) for f in term.factors):
        return None
    taken = {i.name for i in term.summed} | t.index_names(term)
    fresh = t.FreshNames(taken)
    factors: list[t.Term] = []
    summed = list(term.summed)
    # An inner summed index must not capture an index that is free in any
    # factor (nested products included) or already summed outside.
    outer_names = {i.name for i in term.summed} | {i.name for f in term.factors for i in f.free}
    for factor in term.factors:
        if not isinstance(factor, t.Product):
            factors.append(factor)
            continue
        mapping: dict[str, t.Index] = {}
        for inner in factor.summed:
            if inner.name in outer_names or any(s.name == inner.name for s in summed):
                mapping[inner.name] = t.Idx(fresh.take(), inner.size)
        body = t.Product(factor.factors, ())
        renamed = t.substitute(body, mapping) if mapping else body
        assert isinstance(renamed, t.Product)
        factors.extend(renamed.factors)
        for inner in factor.summed:
            replacement = mapping.get(inner.name, inner)
            assert isinstance(replacement, t.Idx)
            summed.append(replacement)
            outer_names.add(replacement.name)
    return t.Product(tuple(factors), tuple(summed))


@rewrites(t.Product)
def zero_product(term: t.Term) -> t.Term | None:
    """A product with a zero factor is zero. Terminates: the product goes."""
    if isinstance(term, t.Product) and any(isinstance(f, t.Zero) for f in term.factors):
        return t.Zero(term.free)
    return None


@rewrites(t.Product)
def fold_constants(term: t.Term) -> t.Term | None:
    """2 · x · 3 = 6 x; 1 · x = x; 0 · x = 0; a sized SizeOf is a number.

    Terminates: constant factors drop to at most one, in front.
    """
    if not isinstance(term, t.Product):
        return None
    factors = [
        t.Const(float(f.size.value)) if isinstance(f, t.SizeOf) and f.size.value else f
        for f in term.factors
    ]
    constants = [f.value for f in factors if isinstance(f, t.Const)]
    others = [f for f in factors if not isinstance(f, t.Const)]
    value = math.prod(constants) if constants else 1.0
    if value == 0.0:
        return t.Zero(term.free)
    new = ([t.Const(value)] if value != 1.0 else []) + others
    if tuple(new) == term.factors:
        return None
    return t.Product(tuple(new), term.summed)


@rewrites(t.Product)
def eat_deltas(term: t.Term) -> t.Term | None:
    """Σ_j δ[i,j] f(j) = f(i); δ[1,p] with p summed sets p = 1; δ[1,2] = 0; δ[i,i] = 1.

    Terminates: each application removes a delta index or a summed index.
    """
    if not isinstance(term, t.Product):
        return None
    summed = {i.name: i for i in term.summed}
    for position, factor in enumerate(term.factors):
        if not isinstance(factor, t.Delta):
            continue
        literals = {i.value for i in factor.indices if isinstance(i, t.Fixed)}
        if len(literals) > 1:
            return t.Zero(term.free)  # δ[1,2] = 0
        distinct: list[t.Index] = []
        for i in factor.indices:
            if i not in distinct:
                distinct.append(i)
        if len(distinct) < len(factor.indices):  # δ[i,i,j] = δ[i,j]
            rest = list(term.factors)
            if len(distinct) == 1:
                del rest[position]
            else:
                rest[position] = t.Delta(tuple(distinct))
            return t.Product(tuple(rest), term.summed)
        victims = [i for i in factor.indices if isinstance(i, t.Idx) and i.name in summed]
        if not victims:
            continue
        victim = victims[0]
        # Keep a literal if there is one, else an index that stays.
        keepers = [i for i in factor.indices if i != victim]
        keeper = next((i for i in keepers if isinstance(i, t.Fixed)), None) or next(
            (i for i in keepers if isinstance(i, t.Idx) and i.name not in summed), keepers[0]
        )
        remaining = [i for i in factor.indices if i != victim]
        rest = [f for k, f in enumerate(term.factors) if k != position]
        if len(remaining) >= 2:
            rest.insert(position, t.Delta(tuple(remaining)))
        replaced = tuple(t.substitute(f, {victim.name: keeper}) for f in rest)
        new_summed = tuple(i for i in term.summed if i.name != victim.name)
        return t.Product(replaced, new_summed)
    return None


@rewrites(t.Product)
def unused_sum(term: t.Term) -> t.Term | None:
    """Σ_j f = size(j) · f when no factor uses j. Terminates: a summed index goes."""
    if not isinstance(term, t.Product):
        return None
    used = {i.name for f in term.factors for i in f.free}
    idle = [i for i in term.summed if i.name not in used]
    if not idle:
        return None
    kept = tuple(i for i in term.summed if i.name in used)
    return t.Product(tuple(t.SizeOf(i.size) for i in idle) + term.factors, kept)


@rewrites(t.Product)
def merge_powers(term: t.Term) -> t.Term | None:
    """x^a · x^b = x^(a+b) for constant a, b; x^0 goes.

    Terminates: the number of factors drops.
    """
    if not isinstance(term, t.Product):
        return None
    # Cheap test first: two factors can only share a base if they name the
    # same array or function.
    heads = [_head(f.base if isinstance(f, t.Pow) else f) for f in term.factors]
    named = [h for h in heads if h is not None]
    if len(set(named)) == len(named) and not any(
        isinstance(f, t.Pow) and isinstance(f.exponent, t.Const) and f.exponent.value == 0.0
        for f in term.factors
    ):
        return None
    exponents: dict[str, float] = {}
    bases: dict[str, t.Term] = {}
    order: list[str] = []
    others: list[t.Term] = []
    for factor in term.factors:
        if isinstance(factor, t.Pow) and isinstance(factor.exponent, t.Const):
            base, exponent = factor.base, factor.exponent.value
        elif isinstance(factor, t.Tensor | t.Func):
            base, exponent = factor, 1.0
        else:
            others.append(factor)
            continue
        k = key(base)
        if k not in bases:
            bases[k] = base
            order.append(k)
            exponents[k] = 0.0
        exponents[k] += exponent
    merged = len(order) + len(others)
    if merged == len(term.factors) and all(exponents[k] != 0.0 for k in order):
        return None
    new: list[t.Term] = list(others)
    for k in order:
        if exponents[k] == 0.0:
            continue
        new.append(bases[k] if exponents[k] == 1.0 else t.Pow(bases[k], t.Const(exponents[k])))
    return t.Product(tuple(new), term.summed)


def _head(term: t.Term) -> tuple[str, str] | None:
    """What a power's base is made of, coarsely: an array's or a function's name."""
    if isinstance(term, t.Tensor):
        return ("tensor", term.name)
    if isinstance(term, t.Func):
        return ("function", term.name)
    if isinstance(term, t.Pow):
        return _head(term.base)
    return None


@rewrites(t.Product)
def sort_factors(term: t.Term) -> t.Term | None:
    """Factors in a canonical order: constants, arrays, functions, deltas last.

    Terminates: sorting a sorted product changes nothing, and then returns None.
    """
    if not isinstance(term, t.Product):
        return None
    ordered = tuple(sorted(term.factors, key=lambda f: (_category(f), key(f))))
    return None if ordered == term.factors else t.Product(ordered, term.summed)


@rewrites(t.Product)
def single_factor(term: t.Term) -> t.Term | None:
    """A product of one factor and no sum is the factor; of none, 1. Terminates: a node goes."""
    if not isinstance(term, t.Product) or term.summed:
        return None
    if not term.factors:
        return t.Const(1.0)
    return term.factors[0] if len(term.factors) == 1 else None


# ---------------------------------------------------------------------------
# Rules on functions and powers

_VALUES: dict[str, Callable[[float], float]] = {
    "exp": math.exp,
    "log": lambda x: math.log(x) if x > 0 else math.nan,
    "tanh": math.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0,
    "relu": lambda x: max(x, 0.0),
    "sin": math.sin,
    "cos": math.cos,
    "sqrt": lambda x: math.sqrt(x) if x >= 0 else math.nan,
    "abs": abs,
    "step": lambda x: 1.0 if x > 0 else 0.0,
    "sign": lambda x: float((x > 0) - (x < 0)),
}


@rewrites(t.Func, t.Pow)
def fold_functions(term: t.Term) -> t.Term | None:
    """f(c) and c^d for constants are numbers (when finite); f(0) for the zero array.

    Terminates: a function or power node goes.
    """
    if isinstance(term, t.Func):
        arg = term.arg
        if isinstance(arg, t.Const):
            value = _VALUES[term.name](arg.value)
            return t.Const(value) if math.isfinite(value) else None
        if isinstance(arg, t.Zero):
            value = _VALUES[term.name](0.0)
            if not math.isfinite(value):
                return None
            return t.Zero(arg.free) if value == 0.0 else t.add([t.Const(value)], arg.free)
        return None
    if isinstance(term, t.Pow) and isinstance(term.exponent, t.Const):
        exponent = term.exponent.value
        if exponent == 1.0:
            return term.base
        if exponent == 0.0:
            return t.add([t.Const(1.0)], term.free)
        if isinstance(term.base, t.Const):
            try:
                value = term.base.value**exponent
            except (OverflowError, ZeroDivisionError):
                return None
            if isinstance(value, float) and math.isfinite(value):
                return t.Const(value)
            return None
        if isinstance(term.base, t.Zero) and exponent > 0:
            return t.Zero(term.free)
        if (
            isinstance(term.base, t.Pow)
            and isinstance(term.base.exponent, t.Const)
            and float(exponent).is_integer()
        ):
            return t.Pow(term.base.base, t.Const(term.base.exponent.value * exponent))
    return None


RULES: tuple[Rule, ...] = (
    flatten_add,
    drop_zero_terms,
    unwrap_add,
    lift_broadcast,
    unwrap_broadcast,
    distribute_constant,
    flatten_product,
    zero_product,
    eat_deltas,
    unused_sum,
    fold_constants,
    merge_powers,
    single_factor,
    fold_functions,
    merge_like_terms,
    sort_factors,
)


@rewrites(t.Product)
def distribute(term: t.Term) -> t.Term | None:
    """Σ_i a (b + c) = Σ_i a b + Σ_i a c: the sum-of-products normal form.

    Only in NORMAL_FORM_RULES, for comparing terms (a claim with the truth): it
    can grow a term, so it is never used for what is shown. Terminates: the
    number of sums inside products drops with each application.
    """
    if not isinstance(term, t.Product):
        return None
    for position, factor in enumerate(term.factors):
        if isinstance(factor, t.Add) and len(factor.terms) > 1:
            parts = []
            for part in factor.terms:
                factors = list(term.factors)
                factors[position] = part
                parts.append(t.Product(tuple(factors), term.summed))
            return t.Add(tuple(parts), term.free)
    return None


NORMAL_FORM_RULES: tuple[Rule, ...] = (*RULES, distribute)


# ---------------------------------------------------------------------------
# The engine


def _signature(term: t.Term) -> set[tuple[str, object]]:
    return {(i.name, i.size) for i in term.free}


_LEAVES = (t.Const, t.SizeOf, t.Tensor, t.Delta, t.Loss, t.Zero)
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
    def __init__(self, rules: tuple[Rule, ...]) -> None:
        self.rules = rules
        self.by_kind: dict[type, tuple[Rule, ...]] = {
            kind: tuple(r for r in rules if kind in getattr(r, "kinds", (kind,)))
            for kind in (t.Add, t.Product, t.Func, t.Pow)
        }
        self.rewrites = 0
        self.memo: dict[t.Term, t.Term] = {}

    def rewrite(self, term: t.Term) -> t.Term:
        if isinstance(term, _LEAVES):
            return term  # no rule rewrites a leaf
        if term.__dict__.get(_FIXED) is self.rules:
            return term  # already a fixed point of these rules
        cached = self.memo.get(term)
        if cached is not None:
            return cached
        original = term
        while True:
            kids = t.children(term)
            if kids:
                new_kids = tuple(self.rewrite(k) for k in kids)
                if new_kids != kids:
                    term = t.with_children(term, new_kids)
            for rule in self.by_kind.get(type(term), ()):
                replaced = rule(term)
                if replaced is not None:
                    break
            else:
                break
            self.rewrites += 1
            if self.rewrites > MAX_REWRITES:
                raise SimplifyLimit(f"more than {MAX_REWRITES} rewrites")
            before, after = _signature(term), _signature(replaced)
            if after != before:
                if not after <= before:
                    raise AssertionError(
                        f"{rule.__name__} changed free indices {before} -> {after}"
                    )
                # A rule let an index go (δ[i,i] = 1): keep broadcasting over it.
                replaced = t.Add((replaced,), term.free)
            term = replaced
        self.memo[original] = term
        term.__dict__[_FIXED] = self.rules
        return term


def simplify(term: t.Term, rules: tuple[Rule, ...] = RULES) -> t.Term:
    """The fixed point of `rules`, applied bottom-up; free indices are unchanged."""
    return _Engine(rules).rewrite(term)


def normal_form(term: t.Term) -> t.Term:
    """A sum of simplified products, for comparing two terms by `key`."""
    return simplify(term, NORMAL_FORM_RULES)
