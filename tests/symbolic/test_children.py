"""`terms.children`'s table by type agrees with its match, for every kind of term.

The table is the fast path of the walk every stage makes; the match is the
definition (mypy names every kind there). Each kind is built once here, and
random terms from the rewrite rules' generator are walked with both.
"""

from __future__ import annotations

import typing

from hypothesis import HealthCheck, given, settings
from symbolic.test_rewrite_properties import IDX, terms

from shapecheck.symbolic import terms as t

_I = next(iter(IDX.values()))
_A = t.Tensor("A", (_I,))
_ONE = t.Const(1.0)
EVERY_KIND: list[t.Term] = [
    _ONE,
    t.SizeOf(_I.size),
    _A,
    t.Delta((_I, _I)),
    t.IndexValue(_I),
    t.Func("tanh", _A),
    t.Opaque("f", 0, _A),
    t.IndexedFunc("softmax", (_I,), _A, (_I,)),
    t.Compare(">", _A, _ONE),
    t.Extremum("max", _A, _ONE),
    t.Pow(_A, _ONE),
    t.Loss("A"),
    t.Matrix("det", "A"),
    t.Product((_A, _A)),
    t.Add((_A,), (_I,)),
    t.Zero((_I,)),
]


def test_every_kind_is_in_the_table_and_agrees() -> None:
    assert {type(term) for term in EVERY_KIND} == set(typing.get_args(t.Term))
    assert set(t._CHILDREN) == set(typing.get_args(t.Term))
    for term in EVERY_KIND:
        assert t.children(term) == t._children(term), type(term).__name__


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms)
def test_random_terms_walk_alike(term: t.Term) -> None:
    stack = [term]
    while stack:
        node = stack.pop()
        kids = t.children(node)
        assert kids == t._children(node)
        stack.extend(kids)
