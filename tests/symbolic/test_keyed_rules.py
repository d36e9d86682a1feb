"""`sort_factors` keys only factors that share their kind's place with another,
`merge_like_terms` keys only the terms that share their arrays with another
term, and `factor_common` keys nothing when no factor of the first term has a
factor reading the same arrays in every other (terms with equal keys read the
same arrays); both must rewrite exactly as keying every term does, which they
still do where keys are counted (`canonical_form`). Random sums from the
rewrite rules' generator, with scaled copies of some terms (something to
merge) or a factor shared by some or all terms (something to factor out), are
rewritten both ways, each on its own fresh copy (no cached key shared).
"""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from symbolic.test_rewrite_properties import terms

from shapecheck.check.program import Size
from shapecheck.symbolic import canonical
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.rules import Rule, factor_common, merge_like_terms, sort_factors


def _every_term_keyed(rule: Rule, term: t.Term) -> t.Term | None:
    canonical._KEYS_LEFT.append(10**9)  # counted: the shortcut is off
    try:
        return rule(term)
    finally:
        canonical._KEYS_LEFT.pop()


@st.composite
def sums(draw: st.DrawFn) -> t.Term:
    parts = draw(st.lists(terms, min_size=2, max_size=6))
    for part in draw(st.lists(st.sampled_from(parts), max_size=3)):
        scale = draw(st.sampled_from([1.0, -1.0, 2.0]))
        parts.append(t.Product((t.Const(scale), part)))
    return t.add(draw(st.permutations(parts)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sums())
def test_merges_as_keying_every_term(term: t.Term) -> None:
    assert merge_like_terms(copy.deepcopy(term)) == _every_term_keyed(
        merge_like_terms, copy.deepcopy(term)
    )


@st.composite
def with_a_factor(draw: st.DrawFn) -> t.Term:
    common = draw(terms)
    parts = draw(st.lists(terms, min_size=2, max_size=5))
    shared = draw(st.lists(st.booleans(), min_size=len(parts), max_size=len(parts)))
    return t.add([t.Product((x, common)) if s else x for x, s in zip(parts, shared, strict=True)])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(with_a_factor(), sums()))
def test_factors_as_keying_every_term(term: t.Term) -> None:
    assert factor_common(copy.deepcopy(term)) == _every_term_keyed(
        factor_common, copy.deepcopy(term)
    )


def test_terms_of_their_own_arrays_are_not_keyed() -> None:
    i = t.Idx("i", Size("h", 4))
    steps = [t.Tensor(f"s{k}", (i,)) for k in range(5)]
    term = t.add([*steps, t.Product((t.Const(2.0), steps[0]))])
    merged = merge_like_terms(term)
    assert merged == t.add([t.Product((t.Const(3.0), steps[0])), *steps[1:]])
    assert all("_key" not in s.__dict__ for s in steps[1:])


@st.composite
def products(draw: st.DrawFn) -> t.Term:
    return t.Product(tuple(draw(st.lists(terms, min_size=1, max_size=6))))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(products())
def test_sorts_as_keying_every_factor(term: t.Term) -> None:
    assert sort_factors(copy.deepcopy(term)) == _every_term_keyed(sort_factors, copy.deepcopy(term))
