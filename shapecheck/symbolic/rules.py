"""The rewrite rules of the simplifier: one named function per identity.

Each rule takes a term whose children are already simplified and returns the
rewritten term, or None when it does not apply; `@rewrites` names the node
kinds it can rewrite, so the engine (simplify.py) tries it only there. Every
docstring states the rule's identity and why applying it cannot go on
forever. The order of RULES matters: the engine applies the first rule that
fires, so cheap structural clean-ups come before the rules that compare
canonical keys.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

from shapecheck.exhaustive import assert_never
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.canonical import factor_orders, key, keys_bounded

Rule = Callable[[t.Term], t.Term | None]
_R = TypeVar("_R", bound=Callable[[t.Term], "t.Term | None"])


def rewrites(*kinds: type) -> Callable[[_R], _R]:
    """Declare which term types a rule rewrites, so the engine tries it only there."""

    def mark(rule: _R) -> _R:
        rule.kinds = kinds  # type: ignore[attr-defined]
        return rule

    return mark


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
    # Terms with equal keys read the same arrays (a key writes every array's
    # name), so a term whose arrays no other term reads is a group of its own,
    # unkeyed: the 1,000 steps of an RNN's dL/dU. Not where keys are counted
    # (`canonical_form`), whose limit must see the keys it always saw.
    reads = None if keys_bounded() else [_arrays_read(x) for x in term.terms]
    shared = Counter(reads or ())
    groups: dict[str | int, list[tuple[float, t.Term]]] = {}
    for position, x in enumerate(term.terms):
        coefficient, rest = _coefficient(x)
        alone = reads is not None and shared[reads[position]] == 1
        groups.setdefault(position if alone else key(rest), []).append((coefficient, rest))
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


def _arrays_read(term: t.Term) -> frozenset[str]:
    """`terms.arrays_read`, remembered on the (immutable) term."""
    found: frozenset[str] | None = term.__dict__.get("_arrays_read")
    if found is None:
        found = t.arrays_read(term)
        term.__dict__["_arrays_read"] = found
    return found


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


@rewrites(t.Func, t.Opaque, t.Pow, t.Compare, t.Extremum)
def lift_broadcast(term: t.Term) -> t.Term | None:
    """f(x broadcast over i) = f(x) broadcast over i; likewise for `fn`
    functions, powers, comparisons and max/min.

    Terminates: the broadcast wrapper moves one level up the tree.
    """
    if not isinstance(term, t.Func | t.Opaque | t.Pow | t.Compare | t.Extremum):
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
    fresh = t.FreshNames({i.name for i in term.summed} | t.index_names(term))
    factors: list[t.Term] = []
    summed = list(term.summed)
    # An inner summed index must not capture an index that is free in any
    # factor (nested products included) or already summed outside.
    outer_names = {i.name for i in term.summed} | {i.name for f in term.factors for i in f.free}
    for factor in term.factors:
        if not isinstance(factor, t.Product):
            factors.append(factor)
            continue
        inner_factors, inner_summed = _hoisted(factor, summed, outer_names, fresh)
        factors.extend(inner_factors)
        summed.extend(inner_summed)
        outer_names.update(i.name for i in inner_summed)
    return t.Product(tuple(factors), tuple(summed))


def _hoisted(
    inner: t.Product, summed: list[t.Idx], outer_names: set[str], fresh: t.FreshNames
) -> tuple[tuple[t.Term, ...], tuple[t.Idx, ...]]:
    """An inner product's factors and summed indices, ready to join the outer
    product: each summed index that would clash is renamed to a fresh one."""
    mapping: dict[str, t.Index] = {}
    for index in inner.summed:
        if index.name in outer_names or any(s.name == index.name for s in summed):
            mapping[index.name] = t.Idx(fresh.take(), index.size)
    body = t.Product(inner.factors, ())
    renamed = t.substitute(body, mapping) if mapping else body
    assert isinstance(renamed, t.Product)
    new_summed: list[t.Idx] = []
    for index in inner.summed:
        replacement = mapping.get(index.name, index)
        assert isinstance(replacement, t.Idx)
        new_summed.append(replacement)
    return renamed.factors, tuple(new_summed)


@rewrites(t.Product)
def zero_product(term: t.Term) -> t.Term | None:
    """A product with a zero factor is zero. Terminates: the product goes."""
    if isinstance(term, t.Product) and any(isinstance(f, t.Zero) for f in term.factors):
        return t.Zero(term.free)
    return None


@rewrites(t.Product)
def fold_constants(term: t.Term) -> t.Term | None:
    """2 · x · 3 = 6 x; 1 · x = x; 0 · x = 0; the size of a literal shape is a number.

    A size with a name stays a name (`2 / n`, spec 10), whatever its value:
    the result must not change with the number chosen or given for it.
    Terminates: constant factors drop to at most one, in front.
    """
    if not isinstance(term, t.Product):
        return None
    factors = [
        t.Const(float(f.size.value))
        if isinstance(f, t.SizeOf) and f.size.name is None and f.size.value
        else f
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
    summed = {i.name for i in term.summed}
    for position, factor in enumerate(term.factors):
        if isinstance(factor, t.Delta):
            eaten = _eat_delta(term, position, factor, summed)
            if eaten is not None:
                return eaten
    return None


def _eat_delta(term: t.Product, position: int, delta: t.Delta, summed: set[str]) -> t.Term | None:
    """The product with the delta at `position` simplified, or None if it stays."""
    if len({i.value for i in delta.indices if isinstance(i, t.Fixed)}) > 1:
        return t.Zero(term.free)  # δ[1,2] = 0
    distinct: list[t.Index] = []
    for i in delta.indices:
        if i not in distinct:
            distinct.append(i)
    if len(distinct) < len(delta.indices):  # δ[i,i,j] = δ[i,j]; δ[i,i] = 1
        rest = list(term.factors)
        if len(distinct) == 1:
            del rest[position]
        else:
            rest[position] = t.Delta(tuple(distinct))
        return t.Product(tuple(rest), term.summed)
    victim = _victim(delta, summed)
    if victim is None:
        return None
    return _sum_out(term, position, delta, victim)


def _victim(delta: t.Delta, summed: set[str]) -> t.Idx | None:
    """The summed index a delta eats, if any. One that a gather of the delta
    also reads (`δ[k, y[k]]`), or that an argmax of the delta reads free
    (`δ[k, argmax[j](X[k,j])]`), is not a single value to substitute: such a
    delta stays under its sum (spec 9.3, 9.2)."""
    if any(isinstance(i, t.Shift) for i in delta.indices):
        # Setting an index to `a + u - 1` would need `1 <= a + u - 1 <= size`:
        # a shifted or strided delta stays under its sum (spec 9.4).
        return None
    inside = {
        i.name
        for g in delta.indices
        if isinstance(g, t.Gather | t.Select)
        for i in t.index_leaves((g,))
    }
    return next(
        (
            i
            for i in delta.indices
            if isinstance(i, t.Idx) and i.name in summed and i.name not in inside
        ),
        None,
    )


def _sum_out(term: t.Product, position: int, delta: t.Delta, victim: t.Idx) -> t.Term:
    """Σ_victim δ[victim, keeper, ...] f(victim) = δ[keeper, ...] f(keeper)."""
    remaining = [i for i in delta.indices if i != victim]
    keeper = _keeper(remaining, {i.name for i in term.summed})
    rest = [f for k, f in enumerate(term.factors) if k != position]
    if len(remaining) >= 2:
        rest.insert(position, t.Delta(tuple(remaining)))
    replaced = tuple(_reads_last(t.substitute(f, {victim.name: keeper})) for f in rest)
    new_summed = tuple(i for i in term.summed if i.name != victim.name)
    return t.Product(replaced, new_summed)


def _reads_last(factor: t.Term) -> t.Term:
    """A delta that a label or an argmax was substituted into, with those
    last, as the notes write it: `δ[k, y[i]]`, `δ[q, argmax[j](X[i,j])]`
    (order in a delta does not change its value)."""
    return reads_last(factor) if isinstance(factor, t.Delta) else factor


def reads_last(delta: t.Delta) -> t.Delta:
    """The delta with its plain indices first and what reads an array (a
    label `y[i]`, an argmax) last, each group in its own order."""
    plain = [i for i in delta.indices if not isinstance(i, t.Gather | t.Select)]
    if len(plain) == len(delta.indices) or not plain:
        return delta
    read = [i for i in delta.indices if isinstance(i, t.Gather | t.Select)]
    ordered = (*plain, *read)
    return delta if ordered == delta.indices else t.Delta(ordered)


def _keeper(remaining: list[t.Index], summed: set[str]) -> t.Index:
    """What a summed-out index becomes: a literal if there is one, else an index that stays."""
    literal = next((i for i in remaining if isinstance(i, t.Fixed)), None)
    if literal is not None:
        return literal
    return next(
        (i for i in remaining if isinstance(i, t.Idx) and i.name not in summed), remaining[0]
    )


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
    if not isinstance(term, t.Product) or not _may_merge_powers(term.factors):
        return None
    exponents: dict[str, float] = {}  # by the key of the base, in order of appearance
    bases: dict[str, t.Term] = {}
    others: list[t.Term] = []
    for factor in term.factors:
        power = _as_power(factor)
        if power is None:
            others.append(factor)
            continue
        base, exponent = power
        k = key(base)
        bases.setdefault(k, base)
        exponents[k] = exponents.get(k, 0.0) + exponent
    if len(bases) + len(others) == len(term.factors) and 0.0 not in exponents.values():
        return None
    new: list[t.Term] = list(others)
    for k, exponent in exponents.items():
        if exponent != 0.0:
            new.append(bases[k] if exponent == 1.0 else t.Pow(bases[k], t.Const(exponent)))
    return t.Product(tuple(new), term.summed)


def _may_merge_powers(factors: tuple[t.Term, ...]) -> bool:
    """A cheap test first: two factors can only share a base if they name the
    same array or function; and x^0 goes whatever the others are."""
    heads = [_head(f.base if isinstance(f, t.Pow) else f) for f in factors]
    named = [h for h in heads if h is not None]
    return len(set(named)) != len(named) or any(
        isinstance(f, t.Pow) and isinstance(f.exponent, t.Const) and f.exponent.value == 0.0
        for f in factors
    )


def _as_power(factor: t.Term) -> tuple[t.Term, float] | None:
    """A factor as base^exponent for a constant exponent (an array or function
    is its own first power), or None for a factor that merges with nothing."""
    if isinstance(factor, t.Pow) and isinstance(factor.exponent, t.Const):
        return factor.base, factor.exponent.value
    if isinstance(factor, t.Tensor | t.Func | t.Opaque | t.IndexedFunc | t.SizeOf | t.Matrix):
        return factor, 1.0  # a size too: `n · n^-1 = 1` (spec 9.1)
    if isinstance(factor, t.IndexValue | t.Extremum | t.Loss):
        # An index as a number (never 0: `i · i^-1 = 1`), max/min, loss(A):
        # whatever `_cancelling` lets cancel must merge here, or
        # distribute_to_cancel and factor_common undo each other forever.
        return factor, 1.0
    return None


def _head(term: t.Term) -> tuple[str, str] | None:
    """What a power's base is made of, coarsely: an array's, a function's or a size's name."""
    match term:
        case t.SizeOf():
            return ("size", str(term.size))
        case t.Tensor():
            return ("tensor", term.name)
        case t.Func() | t.IndexedFunc():
            return ("function", term.name)
        case t.Opaque():
            return ("fn", term.written)
        case t.Matrix():
            return ("matrix", f"{term.name}({term.array})")
        case t.Pow():
            return _head(term.base)
        case t.Const() | t.Delta() | t.Product() | t.Add() | t.Zero():
            return None
        case t.IndexValue():
            return ("index", term.index.name)
        case t.Extremum():
            return ("extremum", term.name)
        case t.Loss():
            return ("loss", term.array)
        case t.Compare():
            return None
        case _:
            assert_never(term)


@rewrites(t.Product)
def sort_factors(term: t.Term) -> t.Term | None:
    """Factors in a canonical order: constants, arrays, functions, deltas last
    (and in a delta, what reads a label or an argmax last: `δ[k,y[i]]`).

    Terminates: sorting a sorted product changes nothing, and then returns None.
    """
    if not isinstance(term, t.Product):
        return None
    # A delta's reads (`y[i]`) go last too, however the delta was made.
    factors = tuple(_reads_last(f) for f in term.factors)
    orders = factor_orders(factors)
    ordered = tuple(f for _, f in sorted(zip(orders, factors, strict=True), key=lambda p: p[0]))
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
    """f(c) and c^d for constants are numbers (when finite); f(0) for the zero
    array; x^0 = 1 also where the exponent is the zero array.

    Terminates: a function or power node goes.
    """
    if isinstance(term, t.Func):
        return _fold_function(term)
    if isinstance(term, t.Pow) and isinstance(term.exponent, t.Const):
        return _fold_power(term, term.exponent.value)
    if isinstance(term, t.Pow) and isinstance(term.exponent, t.Zero):
        # `0.9^(t - t)`: an exponent that cancelled to the zero array is 0.
        return _fold_power(term, 0.0)
    return None


def _fold_function(term: t.Func) -> t.Term | None:
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


_COMPARED: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _constant_value(term: t.Term) -> float | None:
    if isinstance(term, t.Const):
        return term.value
    return 0.0 if isinstance(term, t.Zero) else None


@rewrites(t.Compare, t.Extremum)
def fold_piecewise(term: t.Term) -> t.Term | None:
    """A comparison, max or min of two constants is a number (broadcast as before).

    Terminates: the comparison or max/min node goes.
    """
    if not isinstance(term, t.Compare | t.Extremum):
        return None
    first, second = (
        (term.left, term.right) if isinstance(term, t.Compare) else (term.first, term.second)
    )
    a, b = _constant_value(first), _constant_value(second)
    if a is None or b is None:
        return None
    if isinstance(term, t.Compare):
        value = 1.0 if _COMPARED[term.op](a, b) else 0.0
    else:
        value = max(a, b) if term.name == "max" else min(a, b)
    return t.add([t.Const(value)], term.free) if value != 0.0 else t.Zero(term.free)


def _fold_power(term: t.Pow, exponent: float) -> t.Term | None:
    """x^1 = x; x^0 = 1; c^d a number; 0^d = 0 for d > 0; (x^a)^n = x^(a n) for whole n."""
    base = term.base
    if exponent == 1.0:
        return base
    if exponent == 0.0:
        return t.add([t.Const(1.0)], term.free)
    if isinstance(base, t.Const):
        try:
            value = base.value**exponent
        except (OverflowError, ZeroDivisionError):
            return None
        # A negative number to a fractional power is complex: not folded.
        return t.Const(value) if isinstance(value, float) and math.isfinite(value) else None
    if isinstance(base, t.Zero) and exponent > 0:
        return t.Zero(term.free)
    if (
        isinstance(base, t.Pow)
        and isinstance(base.exponent, t.Const)
        and float(exponent).is_integer()
    ):
        return t.Pow(base.base, t.Const(base.exponent.value * exponent))
    return None


# ---------------------------------------------------------------------------
# Textbook forms (spec 10): a delta in a sum meets the sum that eats it,
# common factors come out of sums of terms, a negated difference is turned round.


def _eatable(part: t.Term, summed: set[str]) -> bool:
    """Whether a term of a sum holds a delta that one of `summed` would eat."""
    if isinstance(part, t.Delta):
        return _victim(part, summed) is not None
    if isinstance(part, t.Product) and not part.summed:
        return any(isinstance(f, t.Delta) and _victim(f, summed) is not None for f in part.factors)
    return False


@rewrites(t.Product)
def distribute_over_delta(term: t.Term) -> t.Term | None:
    """Σ_s f (δ[s,j] + r) = Σ_s f δ[s,j] + Σ_s f r, where the product sums an
    index the delta eats: `Σ_s P[i,s] G[i,s] (δ[s,j] - P[i,j])` becomes
    `P[i,j] G[i,j] - Σ_s P[i,s] G[i,s] P[i,j]`, the softmax backward's
    textbook form once factor_common pulls P[i,j] out. The terms without
    such a delta stay together in one product.

    Terminates: each delta term gets a product of its own, in which
    eat_deltas removes the summed index, so no rule puts it back under the sum
    (factor_common pulls out only indices every term sums).
    """
    if not isinstance(term, t.Product) or not term.summed:
        return None
    summed = {i.name for i in term.summed}
    for position, factor in enumerate(term.factors):
        if not isinstance(factor, t.Add) or len(factor.terms) < 2:
            continue
        eaten = [x for x in factor.terms if _eatable(x, summed)]
        if not eaten:
            continue
        rest = [x for x in factor.terms if not _eatable(x, summed)]
        groups = [*eaten, t.add(rest, factor.free)] if rest else eaten
        parts = []
        for group in groups:
            factors = list(term.factors)
            factors[position] = group
            parts.append(t.Product(tuple(factors), term.summed))
        return t.Add(tuple(parts), term.free)
    return None


@rewrites(t.Product)
def negate_difference(term: t.Term) -> t.Term | None:
    """-c (a - b) = c (b - a): a negative constant factor goes into a sum of
    which at least half the terms are negated, and the terms it makes
    positive are written first (`(P[i,k] - δ[k,y[i]]) / n`, not
    `-((1 / n) (δ[k,y[i]] - P[i,k]))`).

    Terminates: the product's constant becomes positive (or goes), and no
    rule makes a positive constant negative.
    """
    if not isinstance(term, t.Product) or not term.factors:
        return None
    first = term.factors[0]
    if not isinstance(first, t.Const) or first.value >= 0:
        return None
    position = next(
        (k for k, f in enumerate(term.factors) if isinstance(f, t.Add) and len(f.terms) > 1), None
    )
    if position is None:
        return None
    difference = term.factors[position]
    assert isinstance(difference, t.Add)
    turned = _turned_round(difference)
    if turned is None:
        return None
    factors = list(term.factors)
    factors[position] = turned
    factors[0] = t.Const(-first.value)
    return t.Product(tuple(factors), term.summed)


def _turned_round(difference: t.Add) -> t.Add | None:
    """-(the sum), the terms it makes positive first; None unless at least
    half its terms are negated (else the sign is better left in front)."""
    negated = [_coefficient(x)[0] < 0 for x in difference.terms]
    if 2 * sum(negated) < len(negated):
        return None
    turned = [_scaled(-1.0, x) for x in difference.terms]
    ordered = [x for x, was in zip(turned, negated, strict=True) if was]
    ordered += [x for x, was in zip(turned, negated, strict=True) if not was]
    return t.Add(tuple(ordered), difference.free)


def _parts_of(term: t.Term) -> tuple[tuple[t.Term, ...], tuple[t.Idx, ...]]:
    """A term of a sum as (factors, summed indices): a product's own, else the term alone."""
    if isinstance(term, t.Product):
        return term.factors, term.summed
    return (term,), ()


def _bound_in(factor: t.Term, summed: tuple[t.Idx, ...]) -> frozenset[tuple[str, object]]:
    """The indices of `factor` that its term sums, with their sizes."""
    names = {i.name: i.size for i in summed}
    return frozenset((i.name, i.size) for i in factor.free if i.name in names)


def _common_factor(
    parts: list[tuple[tuple[t.Term, ...], tuple[t.Idx, ...]]],
) -> tuple[str, frozenset[tuple[str, object]]] | None:
    """The key of a factor (not a constant) that every term has, with the
    summed indices it reads, the same in every term; None if there is none."""
    if not keys_bounded() and not any(_maybe_common(f, parts) for f in parts[0][0]):
        return None  # every term keyed for nothing (as in `merge_like_terms`)
    counts = [Counter(key(f) for f in factors) for factors, _ in parts[1:]]
    first_factors, first_summed = parts[0]
    for factor in first_factors:
        if isinstance(factor, t.Const):
            continue
        wanted = key(factor)
        if not all(count[wanted] for count in counts):
            continue
        bound = _bound_in(factor, first_summed)
        if all(
            _bound_in(next(f for f in factors if key(f) == wanted), summed) == bound
            for factors, summed in parts[1:]
        ):
            return wanted, bound
    return None


def _maybe_common(
    factor: t.Term, parts: list[tuple[tuple[t.Term, ...], tuple[t.Idx, ...]]]
) -> bool:
    """Whether every other term has a factor reading the same arrays, as one
    with the same key would: if not, `factor` is not common."""
    if isinstance(factor, t.Const):
        return False
    reads = _arrays_read(factor)
    return all(any(_arrays_read(f) == reads for f in factors) for factors, _ in parts[1:])


@rewrites(t.Add)
def factor_common(term: t.Term) -> t.Term | None:
    """a x + b x = (a + b) x, for a factor x (not a constant) of every term,
    also under a sum all terms share:
    Σ_i X[i,j] A[i,k] c + Σ_i X[i,j] B[i,k] c = c Σ_i X[i,j] (A[i,k] + B[i,k])
    (the second step pulls X[i,j] and Σ_i out together). A factor that reads
    an index some terms sum and others do not stays where it is. Not in
    NORMAL_FORM_RULES, whose `distribute` undoes it.

    Terminates: each application takes a factor out of every term of a sum
    and puts one copy in front; the sum's nodes drop and no other rule of
    RULES multiplies a non-constant factor into a sum.
    """
    if not isinstance(term, t.Add) or len(term.terms) < 2:
        return None
    parts = [_parts_of(x) for x in term.terms]
    found = _common_factor(parts)
    if found is None:
        return None
    wanted, bound = found
    pulled_names = {name for name, _ in bound}
    if pulled_names & {i.name for i in term.free}:
        return None  # a sum out in front would bind an index the sum is broadcast over
    pulled = tuple(i for i in parts[0][1] if i.name in pulled_names)
    common, residues = _residues(parts, wanted, pulled_names)
    if any(pulled_names & (t.index_names(x) - {i.name for i in x.free}) for x in residues):
        return None  # an inner sum reuses the name: it would shadow the one pulled out
    scale, residues = _common_scale(residues)
    pulled_factors = (common,) if scale == 1.0 else (t.Const(scale), common)
    return t.add([t.Product((*pulled_factors, t.add(residues)), pulled)], term.free)


def _residues(
    parts: list[tuple[tuple[t.Term, ...], tuple[t.Idx, ...]]], wanted: str, pulled: set[str]
) -> tuple[t.Term, list[t.Term]]:
    """The common factor (as the first term has it) and what each term keeps
    without it and without the sums pulled out with it."""
    common: t.Term | None = None
    residues: list[t.Term] = []
    for factors, summed in parts:
        position = next(k for k, f in enumerate(factors) if key(f) == wanted)
        if common is None:
            common = factors[position]
        rest = factors[:position] + factors[position + 1 :]
        inner = tuple(i for i in summed if i.name not in pulled)
        residues.append(t.Product(rest, inner) if rest or inner else t.Const(1.0))
    assert common is not None
    return common, residues


def _common_scale(residues: list[t.Term]) -> tuple[float, list[t.Term]]:
    """A coefficient every residue has in size (`2 a - 2 b` is `2 (a - b)`),
    taken out with the common factor, so that `2 (h[k] - y[k]) / n` is
    printed and not `(2 h[k] - 2 y[k]) / n`; 1 where they differ."""
    sizes = {abs(_coefficient(x)[0]) for x in residues}
    if len(sizes) != 1:
        return 1.0, residues
    (size,) = sizes
    if size in (0.0, 1.0):
        return 1.0, residues
    return size, [_scaled(c / size, rest) for c, rest in map(_coefficient, residues)]


def _inverse_bases(factors: tuple[t.Term, ...]) -> set[str]:
    """The keys of what the factors divide by (bases of negative constant powers)."""
    return {
        key(f.base)
        for f in factors
        if isinstance(f, t.Pow) and isinstance(f.exponent, t.Const) and f.exponent.value < 0
    }


def _cancelling(factor: t.Term, others: tuple[t.Term, ...]) -> t.Term | None:
    """`factor` as it cancels against a divisor among `others`: itself if one
    divides by it, else read through a delta of `others` (δ[k,y[i]] P[i,k] /
    P[i,y[i]]: where the delta is not 0, P[i,k] is P[i,y[i]]); None if neither."""
    if isinstance(factor, t.Pow) or _as_power(factor) is None:
        # Only a factor merge_powers merges with its divisor may be moved to
        # cancel (distribute_to_cancel): any other would stay beside the
        # divisor, and factor_common would pull it back out, for ever.
        return None
    divides = _inverse_bases(others)
    if not divides:
        return None
    if key(factor) in divides:
        return factor
    names = {i.name for i in factor.free}
    for delta in (f for f in others if isinstance(f, t.Delta) and len(f.indices) == 2):
        for mine, theirs in (delta.indices, delta.indices[::-1]):
            if isinstance(mine, t.Idx) and mine.name in names and mine != theirs:
                read = t.substitute(factor, {mine.name: theirs})
                if key(read) in divides:
                    return read
    return None


@rewrites(t.Product)
def cancel_through_delta(term: t.Term) -> t.Term | None:
    """δ[k,y[i]] P[i,k] / P[i,y[i]] = δ[k,y[i]]: a factor read through a delta
    at the index the delta sets it to (δ[a,b] f(a) = δ[a,b] f(b)), where that
    is what another factor divides by; merge_powers then cancels the two.

    Terminates: the factor rewritten merges with the divisor (merge_powers),
    and a factor that already is what is divided by is left alone.
    """
    if not isinstance(term, t.Product):
        return None
    # Cheap tests first, so that a long product costs one pass: a delta and a divisor.
    if not any(isinstance(f, t.Delta) for f in term.factors):
        return None
    if not _inverse_bases(term.factors):
        return None
    for position, factor in enumerate(term.factors):
        others = term.factors[:position] + term.factors[position + 1 :]
        read = _cancelling(factor, others)
        if read is not None and read is not factor:
            factors = list(term.factors)
            factors[position] = read
            return t.Product(tuple(factors), term.summed)
    return None


def _term_factors(term: t.Term) -> tuple[t.Term, ...]:
    """The factors of a term of a sum that sums nothing; the term alone otherwise."""
    if isinstance(term, t.Product) and not term.summed:
        return term.factors
    return (term,)


@rewrites(t.Product)
def distribute_to_cancel(term: t.Term) -> t.Term | None:
    """f (a / f + b) = a + f b: a factor goes into a sum of which a term
    divides by it (also through a delta, see cancel_through_delta), so that
    it cancels there: P[i,k] (1/n - δ[k,y[i]] / (n P[i,y[i]])) becomes
    (P[i,k] - δ[k,y[i]]) / n, the cross-entropy gradient of the notes.

    Terminates: the factor cancels in that term (merge_powers), so it is no
    longer a factor of every term and factor_common does not pull it back out;
    the number of divisions drops.
    """
    if not isinstance(term, t.Product):
        return None
    for position, inside in enumerate(term.factors):
        if not isinstance(inside, t.Add) or len(inside.terms) < 2:
            continue
        if not any(_inverse_bases(_term_factors(x)) for x in inside.terms):
            continue  # no term divides: nothing can cancel (one pass, not one per factor)
        spread = _spread_to_cancel(term, position, inside)
        if spread is not None:
            return spread
    return None


def _spread_to_cancel(term: t.Product, position: int, inside: t.Add) -> t.Term | None:
    """The product with the first factor that cancels in a term of `inside`
    (at `position`) multiplied into each of its terms; None if none does."""
    for k, factor in enumerate(term.factors):
        if k == position:
            continue
        reads = [_cancelling(factor, _term_factors(x)) for x in inside.terms]
        if all(r is None for r in reads):
            continue
        spread = t.add(
            [
                t.Product((factor if read is None else read, *_term_factors(x)))
                for x, read in zip(inside.terms, reads, strict=True)
            ],
            _union_free(inside, factor),
        )
        rest = [f for j, f in enumerate(term.factors) if j not in (k, position)]
        return t.Product((*rest, spread), term.summed)
    return None


def _union_free(inside: t.Add, factor: t.Term) -> tuple[t.Idx, ...]:
    names = {i.name for i in inside.free}
    return inside.free + tuple(i for i in factor.free if i.name not in names)


@rewrites(t.Product)
def pull_common_scale(term: t.Term) -> t.Term | None:
    """(2 a - 2 b) / n = 2 (a - b) / n: a coefficient every term of a sum has
    in size comes out in front, in a product with another factor that is not
    a constant (alone with it, distribute_constant would put it back).

    Terminates: afterwards the sum's coefficients are ±1 in size.
    """
    if not isinstance(term, t.Product) or len(term.factors) < 2:
        return None
    if all(isinstance(f, t.Const | t.Add) for f in term.factors):
        return None
    for position, factor in enumerate(term.factors):
        if not isinstance(factor, t.Add) or len(factor.terms) < 2:
            continue
        scale, residues = _common_scale(list(factor.terms))
        if scale != 1.0:
            factors = list(term.factors)
            factors[position] = t.Add(tuple(residues), factor.free)
            return t.Product((t.Const(scale), *factors), term.summed)
    return None


@rewrites(t.Add)
def positive_first(term: t.Term) -> t.Term | None:
    """-a + b = b - a: a sum that starts with a negated term starts with its
    first term that is not negated instead (the others keep their order).

    Terminates: afterwards the first term is not negated, and no rule
    reorders a sum otherwise.
    """
    if not isinstance(term, t.Add) or len(term.terms) < 2:
        return None
    if _coefficient(term.terms[0])[0] >= 0:
        return None
    first = next((k for k, x in enumerate(term.terms) if _coefficient(x)[0] >= 0), None)
    if first is None:
        return None
    rest = term.terms[:first] + term.terms[first + 1 :]
    return t.Add((term.terms[first], *rest), term.free)


RULES: tuple[Rule, ...] = (
    flatten_add,
    drop_zero_terms,
    unwrap_add,
    lift_broadcast,
    unwrap_broadcast,
    negate_difference,
    distribute_constant,
    flatten_product,
    zero_product,
    eat_deltas,
    unused_sum,
    distribute_over_delta,
    cancel_through_delta,
    distribute_to_cancel,
    pull_common_scale,
    fold_constants,
    merge_powers,
    single_factor,
    fold_functions,
    fold_piecewise,
    merge_like_terms,
    factor_common,
    positive_first,
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


# The textbook's factoring is for what is shown: `distribute` would undo it.
NORMAL_FORM_RULES: tuple[Rule, ...] = (*(r for r in RULES if r is not factor_common), distribute)
