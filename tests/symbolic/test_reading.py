"""`ReadingParts`: the part of a right-hand side that ∂/∂X needs differentiates
exactly as the whole does (the same term, node for node), and leaves out what
does not read X. Random terms from the rewrite rules' generator, in sums and
products of their own so that there is something to leave out."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from symbolic.test_rewrite_properties import ARRAYS, IDX, SIZES, terms

from shapecheck.check.program import Size
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import partial
from shapecheck.symbolic.reading import ReadingParts
from shapecheck.symbolic.simplify import simplify


def _at(name: str) -> tuple[t.Idx, ...]:
    return tuple(t.Idx(f"z{k}", Size(f"z{k}", SIZES[axis])) for k, axis in enumerate(ARRAYS[name]))


@st.composite
def nested(draw: st.DrawFn) -> t.Term:
    """A sum of products of sums, each level a few generated terms."""
    inner = t.add(draw(st.lists(terms, min_size=1, max_size=4)))
    factors = [inner, *draw(st.lists(terms, max_size=2))]
    outer = [t.Product(tuple(draw(st.permutations(factors))))]
    return t.add(outer + draw(st.lists(terms, max_size=3)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(nested(), terms), st.sampled_from(sorted(ARRAYS)))
def test_the_part_differentiates_as_the_whole(term: t.Term, name: str) -> None:
    part = ReadingParts(term).part(name)
    assert t.mentions(part, name) == t.mentions(term, name)
    whole = partial(copy.deepcopy(term), name, _at(name))
    assert partial(part, name, _at(name)) == whole
    assert t.size_count(part) <= t.size_count(term)


def test_a_loss_at_every_step_keeps_one_step() -> None:
    i = IDX["i"]
    steps = [t.Product((t.Pow(t.Tensor(f"h{k}", (i,)), t.Const(2.0)),), (i,)) for k in range(1, 6)]
    loss = t.Product((t.add(steps), t.Const(0.25)))
    parts = ReadingParts(loss)
    part = parts.part("h3")
    assert part == t.Product((t.add([steps[2]]), t.Const(0.25)))
    assert partial(part, "h3", (IDX["k"],)) == partial(loss, "h3", (IDX["k"],))
    assert parts.part("nothing") is loss


def test_two_factors_reading_the_array_are_kept_whole() -> None:
    i, j = IDX["i"], IDX["j"]
    a = t.add([t.Tensor("v", (i,)), t.Tensor("A", (i, j))])
    product = t.Product((a, t.add([t.Tensor("v", (i,)), t.Tensor("w", (j,))])), (i, j))
    parts = ReadingParts(product)
    assert parts.part("v") is product
    assert parts.part("w") != product  # one factor reads w: the other is cut
    assert parts.part("A") == t.Product(
        (t.add([t.Tensor("A", (i, j))], (i, j)), product.factors[1]), (i, j)
    )


def test_renamed_parts_keep_the_fixed_point_marks_of_the_whole() -> None:
    i, k = IDX["i"], IDX["k"]
    steps = [t.Product((t.Func("exp", t.Tensor(f"h{n}", (i,))),), (i,)) for n in range(3)]
    loss = simplify(t.add(steps))
    parts = ReadingParts(loss)
    renamed = parts.renamed(parts.part("h1"), {"i": k})
    whole = t.rename(loss, {"i": k})
    assert isinstance(renamed, t.Add)
    (kept,) = renamed.terms
    assert kept in whole.terms
    assert "_fixed" in kept.__dict__  # not simplified again
    assert "_fixed" not in renamed.__dict__  # a cut sum is no fixed point
