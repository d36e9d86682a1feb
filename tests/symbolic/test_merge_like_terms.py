"""`merge_like_terms` keys only the terms that share their arrays with another
term (terms with equal keys read the same arrays); it must merge exactly as
keying every term does, which it still does where keys are counted
(`canonical_form`). Random sums from the rewrite rules' generator, with
scaled copies of some terms so that there is something to merge, are merged
both ways, each on its own fresh copy (no cached key or mark shared).
"""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from symbolic.test_rewrite_properties import terms

from shapecheck.check.program import Size
from shapecheck.symbolic import canonical
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.rules import merge_like_terms


def _every_term_keyed(term: t.Term) -> t.Term | None:
    canonical._KEYS_LEFT.append(10**9)  # counted: the shortcut is off
    try:
        return merge_like_terms(term)
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
    assert merge_like_terms(copy.deepcopy(term)) == _every_term_keyed(copy.deepcopy(term))


def test_terms_of_their_own_arrays_are_not_keyed() -> None:
    i = t.Idx("i", Size("h", 4))
    steps = [t.Tensor(f"s{k}", (i,)) for k in range(5)]
    term = t.add([*steps, t.Product((t.Const(2.0), steps[0]))])
    merged = merge_like_terms(term)
    assert merged == t.add([t.Product((t.Const(3.0), steps[0])), *steps[1:]])
    assert all("_key" not in s.__dict__ for s in steps[1:])
