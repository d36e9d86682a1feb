"""Terms cross process boundaries (`check --jobs` workers) without their cached hash."""

from __future__ import annotations

import pickle

from shapecheck.check.program import Size
from shapecheck.symbolic import terms as t


def test_a_pickled_term_is_equal_and_carries_no_cached_hash() -> None:
    term = t.Tensor("W", (t.Idx("i", Size("n", None)),))
    hash(term)  # fills the cache
    assert "_hash" in term.__dict__
    copy = pickle.loads(pickle.dumps(term))
    assert copy == term
    assert "_hash" not in copy.__dict__
    assert hash(copy) == hash(term)
