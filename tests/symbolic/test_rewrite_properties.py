"""Property tests: every rewrite rule and every derivative rule keeps the value.

Terms are generated at random over a few small arrays and evaluated by a
reference evaluator written here with plain loops over index values, so the
tool's own numpy evaluator is not trusted.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shapecheck.check.program import Size
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import partial
from shapecheck.symbolic.simplify import RULES, normal_form, simplify

SIZES = {"i": 2, "j": 3, "k": 2, "p": 2}
IDX = {name: t.Idx(name, Size(name, value)) for name, value in SIZES.items()}
ARRAYS = {
    "A": ("i", "j"),
    "B": ("j", "k"),
    "v": ("i",),
    "w": ("j",),
}
RNG = np.random.default_rng(7)
VALUES = {
    name: RNG.uniform(0.5, 1.5, tuple(SIZES[i] for i in axes)) for name, axes in ARRAYS.items()
}
VALUES["s"] = np.array(0.8)


def reference(term: t.Term, env: dict[str, int], values: dict[str, np.ndarray]) -> float:
    """The value of `term` at the index values `env`, by the definitions."""
    if isinstance(term, t.Const):
        return term.value
    if isinstance(term, t.SizeOf):
        assert term.size.value is not None
        return float(term.size.value)
    if isinstance(term, t.Zero):
        return 0.0
    if isinstance(term, t.Tensor):
        position = tuple(
            i.value - 1 if isinstance(i, t.Fixed) else env[i.name] for i in term.indices
        )
        return float(values[term.name][position])
    if isinstance(term, t.Delta):
        picked = {i.value - 1 if isinstance(i, t.Fixed) else env[i.name] for i in term.indices}
        return 1.0 if len(picked) == 1 else 0.0
    if isinstance(term, t.Func):
        x = reference(term.arg, env, values)
        return {
            "exp": math.exp,
            "tanh": math.tanh,
            "sin": math.sin,
            "cos": math.cos,
            "log": math.log,
        }[term.name](x)
    if isinstance(term, t.Pow):
        return reference(term.base, env, values) ** reference(term.exponent, env, values)
    if isinstance(term, t.Add):
        return sum(reference(x, env, values) for x in term.terms)
    assert isinstance(term, t.Product)
    total = 0.0
    ranges = [range(i.size.value or 0) for i in term.summed]
    for point in itertools.product(*ranges):
        inner = {**env, **{i.name: v for i, v in zip(term.summed, point, strict=True)}}
        value = 1.0
        for factor in term.factors:
            value *= reference(factor, inner, values)
        total += value
    return total


def table(term: t.Term, free: tuple[t.Idx, ...], values: dict[str, np.ndarray]) -> np.ndarray:
    """The term at every value of `free` (which must include the term's own)."""
    shape = tuple(i.size.value or 0 for i in free)
    out = np.zeros(shape)
    for point in np.ndindex(shape):
        env = {i.name: v for i, v in zip(free, point, strict=True)}
        out[point] = reference(term, env, values)
    return out


def _tensor(name: str) -> st.SearchStrategy[t.Term]:
    axes = ARRAYS[name]

    def build(renames: list[str], literal: bool) -> t.Term:
        indices: list[t.Index] = [IDX[r] for r in renames]
        if literal and indices:
            indices[0] = t.Fixed(1)
        return t.Tensor(name, tuple(indices))

    # An index may be renamed to another of the same size (i <-> k <-> p).
    same = {"i": ["i", "k", "p"], "j": ["j"], "k": ["k", "i", "p"]}
    return st.builds(
        build,
        st.tuples(*(st.sampled_from(same[a]) for a in axes)).map(list),
        st.booleans(),
    )


atoms = st.one_of(
    *(_tensor(name) for name in ARRAYS),
    st.just(t.Tensor("s", ())),
    st.sampled_from([t.Const(2.0), t.Const(-1.0), t.Const(0.5)]),
    st.sampled_from(
        [
            t.Delta((IDX["i"], IDX["p"])),
            t.Delta((IDX["i"], IDX["k"])),
            t.Delta((t.Fixed(1), IDX["p"])),
            t.Delta((IDX["k"], IDX["k"])),
        ]
    ),
)


def _product(factors: list[t.Term], chosen: list[bool]) -> t.Term:
    names = sorted({i.name for f in factors for i in f.free})
    summed = tuple(IDX[n] for n, pick in zip(names, chosen, strict=False) if pick)
    return t.Product(tuple(factors), summed)


terms = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.builds(
            _product, st.lists(inner, min_size=1, max_size=3), st.lists(st.booleans(), max_size=4)
        ),
        st.builds(lambda parts: t.add(parts), st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: t.Func("tanh", x), inner),
        st.builds(lambda x: t.Pow(x, t.Const(2.0)), inner),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms)
def test_every_rule_keeps_the_value(term: t.Term) -> None:
    free = term.free
    before = table(term, free, VALUES)
    for rule in RULES:
        rewritten = rule(term)
        if rewritten is None:
            continue
        assert {i.name for i in rewritten.free} <= {i.name for i in free}, rule.__name__
        after = table(rewritten, free, VALUES)
        np.testing.assert_allclose(after, before, rtol=1e-9, atol=1e-9, err_msg=rule.__name__)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms)
def test_simplify_keeps_value_and_indices(term: t.Term) -> None:
    simplified = simplify(term)
    assert {(i.name, i.size) for i in simplified.free} == {(i.name, i.size) for i in term.free}
    np.testing.assert_allclose(
        table(simplified, term.free, VALUES), table(term, term.free, VALUES), rtol=1e-9, atol=1e-9
    )
    normal = normal_form(term)
    np.testing.assert_allclose(
        table(normal, term.free, VALUES), table(term, term.free, VALUES), rtol=1e-9, atol=1e-9
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms, st.sampled_from(["A", "B", "v", "w"]))
def test_partial_matches_finite_differences(term: t.Term, name: str) -> None:
    assume(t.mentions(term, name))
    at = tuple(t.Idx(f"z{k}", Size(f"z{k}", SIZES[axis])) for k, axis in enumerate(ARRAYS[name]))
    derivative = simplify(partial(term, name, at))
    free = term.free + at
    mine = table(derivative, free, VALUES)
    step = 1e-6
    theirs = np.zeros_like(mine)
    base = VALUES[name]
    for position in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[position] += step
        minus[position] -= step
        up = table(term, term.free, {**VALUES, name: plus})
        down = table(term, term.free, {**VALUES, name: minus})
        theirs[(..., *position)] = (up - down) / (2 * step)
    np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
