"""Property tests: every rewrite rule and every derivative rule keeps the value.

Terms are generated at random over a few small arrays and evaluated by a
reference evaluator written here with plain loops over index values, so the
tool's own numpy evaluator is not trusted. Besides random nesting, the
generator makes the shapes each rule rewrites (a constant times a sum, a
delta under a sum over one of its indices, a sum over an index nothing uses,
zeros, constants under functions and powers, broadcasts), every rule is
applied to every subterm, and a test checks that every rule in RULES and
NORMAL_FORM_RULES fires on the generated terms,
so that none is checked vacuously.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable

import numpy as np
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st

from shapecheck.check.program import Size
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import partial
from shapecheck.symbolic.rules import eat_deltas
from shapecheck.symbolic.simplify import NORMAL_FORM_RULES, RULES, normal_form, simplify

SIZES = {"i": 2, "j": 3, "k": 2, "p": 2}
IDX = {name: t.Idx(name, Size(name, value)) for name, value in SIZES.items()}
ARRAYS = {
    "A": ("i", "j"),
    "B": ("j", "k"),
    "v": ("i",),
    "w": ("j",),
}
# Every rule, of what is shown and of the normal form (each once, in order).
ALL_RULES = tuple(dict.fromkeys((*RULES, *NORMAL_FORM_RULES)))
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
        position = tuple(_position(i, env) for i in term.indices)
        return float(values[term.name][position])
    if isinstance(term, t.Delta):
        picked = {_position(i, env) for i in term.indices}
        return 1.0 if len(picked) == 1 else 0.0
    if isinstance(term, t.Func):
        x = reference(term.arg, env, values)
        return {
            "exp": math.exp,
            "tanh": math.tanh,
            "sin": math.sin,
            "cos": math.cos,
            "log": math.log,
            # By their definitions (spec 12.2), for the canonical form's tests.
            "step": lambda v: 1.0 if v > 0 else 0.0,
            "sign": lambda v: float((v > 0) - (v < 0)),
            "relu": lambda v: max(v, 0.0),
            "sqrt": math.sqrt,
            "abs": abs,
        }[term.name](x)
    if isinstance(term, t.Pow):
        return reference(term.base, env, values) ** reference(term.exponent, env, values)
    if isinstance(term, t.Compare):
        a, b = reference(term.left, env, values), reference(term.right, env, values)
        if term.left != term.right and abs(a - b) <= 1e-9 * (1 + abs(a) + abs(b)):
            # Two sides equal up to rounding (`2 (A + B + A) > 2 (A + A + B)`):
            # a kink, where the order of additions decides the comparison.
            reject()
        holds = {
            ">": a > b,
            ">=": a >= b,
            "<": a < b,
            "<=": a <= b,
            "==": a == b,
            "!=": a != b,
        }[term.op]
        return 1.0 if holds else 0.0
    if isinstance(term, t.Extremum):
        a, b = reference(term.first, env, values), reference(term.second, env, values)
        return max(a, b) if term.name == "max" else min(a, b)
    if isinstance(term, t.IndexValue):
        return float(env[term.index.name] + 1)
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


def _position(index: t.Index, env: dict[str, int]) -> int:
    """The 0-based position an index picks: a literal, a name, or an index
    expression `Σ c × index + offset` of names (1-based, spec 9.4)."""
    if isinstance(index, t.Fixed):
        return index.value - 1
    if isinstance(index, t.Idx):
        return env[index.name]
    assert isinstance(index, t.Shift), index
    picked = index.offset.value()
    for part, coefficient in index.parts:
        assert isinstance(part, t.Idx), part
        picked += coefficient.value() * (env[part.name] + 1)
    return picked - 1


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


constants = st.sampled_from([t.Const(2.0), t.Const(-1.0), t.Const(0.5)])
deltas = st.sampled_from(
    [
        t.Delta((IDX["i"], IDX["p"])),
        t.Delta((IDX["i"], IDX["k"])),
        t.Delta((t.Fixed(1), IDX["p"])),
        t.Delta((IDX["k"], IDX["k"])),
        t.Delta((IDX["i"], IDX["i"], IDX["p"])),
        t.Delta((t.Fixed(1), t.Fixed(2))),
    ]
)
zeros = st.sampled_from([t.Zero(()), t.Zero((IDX["i"],))])
atoms = st.one_of(
    *(_tensor(name) for name in ARRAYS),
    st.just(t.Tensor("s", ())),
    constants,
    deltas,
    zeros,
    st.just(t.SizeOf(IDX["j"].size)),
    st.just(t.IndexValue(IDX["i"])),
)


def _product(factors: list[t.Term], chosen: list[bool], idle: bool) -> t.Term:
    """A product summed over some of its factors' indices and, if `idle`, over
    one that no factor uses (Σ_j f = size(j) f)."""
    names = sorted({i.name for f in factors for i in f.free})
    summed = [IDX[n] for n, pick in zip(names, chosen, strict=False) if pick]
    unused = [n for n in SIZES if n not in names]
    if idle and unused:
        summed.append(IDX[unused[0]])
    return t.Product(tuple(factors), tuple(summed))


def _summed_delta(delta: t.Delta, factors: list[t.Term]) -> t.Term:
    """Σ over the delta's first index of the delta times `factors`: what eat_deltas eats."""
    first = next((i for i in delta.indices if isinstance(i, t.Idx)), None)
    return t.Product((delta, *factors), (first,) if first is not None else ())


def _delta_in_a_sum(delta: t.Delta, factors: list[t.Term], rest: list[t.Term]) -> t.Term:
    """Σ over the delta's first index of `factors` times (delta + rest...): what
    distribute_over_delta splits so that the delta meets its sum."""
    first = next((i for i in delta.indices if isinstance(i, t.Idx)), None)
    inside = t.add([delta, *rest])
    return t.Product((*factors, inside), (first,) if first is not None else ())


def _negated_difference(c: t.Const, x: t.Term, a: t.Term, b: t.Term) -> t.Term:
    """c x (a - b) with c negative (negate_difference) or positive."""
    return t.Product((c, x, t.add([a, t.Product((t.Const(-1.0), b))])))


def _common(common: t.Term, parts: list[t.Term], shared: bool) -> t.Term:
    """Σ of products that share the factor `common` (factor_common), each
    summed, if `shared`, over the first index of the common factor."""
    over = common.free[:1] if shared else ()
    return t.add([t.Product((common, part), over) for part in parts])


def _quotient(through_delta: bool, a: t.Term, b: t.Term) -> t.Term:
    """v[i] (δ[i,k] a / v[k] + b), or v[i] (a / v[i] + b): a factor that a term
    of the sum divides by, directly or through a delta (distribute_to_cancel,
    then cancel_through_delta)."""
    v_i = t.Tensor("v", (IDX["i"],))
    if through_delta:
        term = t.Product(
            (t.Delta((IDX["i"], IDX["k"])), t.Pow(t.Tensor("v", (IDX["k"],)), t.Const(-1.0)), a)
        )
    else:
        term = t.Product((t.Pow(v_i, t.Const(-1.0)), a))
    return t.Product((v_i, t.add([term, b])))


# Factors a term of a sum may divide by that are not arrays: an index as a
# number (`i (2 x[i] / i + 1)` once looped: distribute_to_cancel moved `i` in,
# merge_powers did not cancel it, factor_common pulled it back out) and max.
_DIVISORS = [
    t.IndexValue(IDX["i"]),
    t.Extremum("max", t.Tensor("v", (IDX["i"],)), t.Tensor("s", ())),
]


def _divided_by(divisor: t.Term, a: t.Term, b: t.Term) -> t.Term:
    """f (a / f + b): distribute_to_cancel moves f in, merge_powers cancels it."""
    return t.Product((divisor, t.add([t.Product((a, t.Pow(divisor, t.Const(-1.0)))), b])))


_WRAPS: list[Callable[[t.Term], t.Term]] = [
    lambda x: x,
    lambda x: t.Func("tanh", x),
    lambda x: t.Pow(x, t.Const(2.0)),
    lambda x: t.Product((x, t.Tensor("s", ()))),
]


def _composites(inner: st.SearchStrategy[t.Term]) -> st.SearchStrategy[t.Term]:
    exponents = st.sampled_from([t.Const(2.0), t.Const(3.0), t.Const(1.0), t.Const(0.0)])
    return st.one_of(
        st.builds(
            _product,
            st.lists(inner, min_size=1, max_size=3),
            st.lists(st.booleans(), max_size=4),
            st.booleans(),
        ),
        st.builds(lambda parts: t.add(parts), st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: t.Func("tanh", x), inner),
        st.builds(t.Pow, inner, exponents),
        # c (a + b), distributed by distribute_constant
        st.builds(
            lambda c, parts: t.Product((c, t.add(parts))),
            constants,
            st.lists(inner, min_size=2, max_size=3),
        ),
        st.builds(_summed_delta, deltas, st.lists(inner, max_size=2)),
        st.builds(
            _delta_in_a_sum,
            deltas,
            st.lists(inner, min_size=1, max_size=2),
            st.lists(inner, max_size=2),
        ),
        st.builds(
            _negated_difference,
            st.sampled_from([t.Const(-1.0), t.Const(-2.0), t.Const(3.0)]),
            inner,
            inner,
            inner,
        ),
        st.builds(_common, inner, st.lists(inner, min_size=2, max_size=3), st.booleans()),
        st.builds(_quotient, st.booleans(), inner, inner),
        st.builds(_divided_by, st.sampled_from(_DIVISORS), inner, inner),
        # v[i] δ[i,k] a / v[k]: cancel_through_delta alone
        st.builds(
            lambda a: t.Product(
                (
                    t.Tensor("v", (IDX["i"],)),
                    t.Delta((IDX["i"], IDX["k"])),
                    t.Pow(t.Tensor("v", (IDX["k"],)), t.Const(-1.0)),
                    a,
                )
            ),
            inner,
        ),
        # x (2 a - 2 b): pull_common_scale
        st.builds(
            lambda x, a, b: t.Product(
                (x, t.add([t.Product((t.Const(2.0), a)), t.Product((t.Const(-2.0), b))]))
            ),
            inner,
            inner,
            inner,
        ),
        # -a + b: positive_first
        st.builds(lambda a, b: t.add([t.Product((t.Const(-1.0), a)), b]), inner, inner),
        # x x: merged by merge_powers
        st.builds(lambda x: t.Product((x, x)), inner),
        # x 0: zero_product; x + 0: drop_zero_terms
        st.builds(lambda x, z: t.Product((x, z)), inner, zeros),
        st.builds(lambda x, z: t.add([x, z]), inner, zeros),
        # c x d: folded by fold_constants
        st.builds(lambda c, x, d: t.Product((c, x, d)), constants, inner, constants),
        # f(x broadcast over i): lifted out of functions and powers by
        # lift_broadcast, unwrapped in products by unwrap_broadcast
        st.builds(lambda wrap, x: wrap(t.add([x], (IDX["i"],))), st.sampled_from(_WRAPS), inner),
        # comparisons and max/min, also of two numbers (fold_piecewise)
        st.builds(t.Compare, st.sampled_from(t.COMPARISONS), inner, inner),
        st.builds(t.Extremum, st.sampled_from(t.EXTREMA), inner, inner),
        st.builds(t.Compare, st.sampled_from(t.COMPARISONS), constants, constants),
        st.builds(t.Extremum, st.sampled_from(t.EXTREMA), constants, zeros),
    )


def _without_capture(term: t.Term) -> t.Term:
    """The term with every summed index renamed that shadows an index free
    around it, as the language (E206) and the derivations' fresh names ensure:
    the rules substitute indices and assume that no sum inside captures one."""
    counter = itertools.count()

    def visit(node: t.Term, around: frozenset[str]) -> t.Term:
        if isinstance(node, t.Product):
            renamed = {
                s.name: t.Idx(f"u{next(counter)}", s.size) for s in node.summed if s.name in around
            }
            mapping: dict[str, t.Index] = {**renamed}
            factors = [t.substitute(f, mapping) for f in node.factors]
            summed = tuple(renamed.get(s.name, s) for s in node.summed)
            inside = around | {s.name for s in summed} | {i.name for f in factors for i in f.free}
            return t.Product(tuple(visit(f, inside) for f in factors), summed)
        inside = around | {i.name for i in node.free}
        return t.with_children(node, tuple(visit(c, inside) for c in t.children(node)))

    return visit(term, frozenset(i.name for i in term.free))


terms = st.recursive(atoms, _composites, max_leaves=8).map(_without_capture)


def _shadowing(body: t.Term, names: tuple[str, str], delta_first: bool) -> t.Term:
    """Σ_v δ[v,k] (Σ_k A[v,j] body): the inner sum reuses the name of the index
    the delta leaves, so eating the delta (v -> k) must rename the inner sum
    first, or it captures the index."""
    victim, keeper = names
    inner = t.Product((t.Tensor("A", (IDX[victim], IDX["j"])), body), (IDX[keeper],))
    delta = t.Delta((IDX[victim], IDX[keeper]))
    return t.Product((delta, inner) if delta_first else (inner, delta), (IDX[victim],))


# Sums that shadow an index free around them: the language and fresh naming
# never make them, but every rule must still keep their value.
shadowing_terms = st.builds(
    _shadowing,
    terms,
    st.sampled_from([("i", "k"), ("i", "p"), ("k", "p"), ("p", "i")]),
    st.booleans(),
)


def _subterms(term: t.Term) -> list[t.Term]:
    """The term and every term inside it, each once."""
    seen: dict[t.Term, None] = {}
    stack = [term]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen[node] = None
            stack.extend(t.children(node))
    return list(seen)


def _rules_keep_the_value(term: t.Term) -> list[str]:
    """Apply every rule to the term and to each term inside it, and check each
    rewrite against the reference evaluator; the names of the rules that fired."""
    fired = []
    for node in _subterms(term):
        free = node.free
        before = table(node, free, VALUES)
        for rule in ALL_RULES:
            rewritten = rule(node)
            if rewritten is None:
                continue
            fired.append(rule.__name__)
            assert {i.name for i in rewritten.free} <= {i.name for i in free}, rule.__name__
            after = table(rewritten, free, VALUES)
            np.testing.assert_allclose(after, before, rtol=1e-9, atol=1e-9, err_msg=rule.__name__)
    return fired


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms)
def test_every_rule_keeps_the_value(term: t.Term) -> None:
    _rules_keep_the_value(term)


def test_every_rule_fires_on_the_generated_terms() -> None:
    # A fixed set of examples (derandomized, no example database), so the
    # count does not depend on the run; every rule fires several times in it.
    fired: Counter[str] = Counter()

    @settings(
        max_examples=300,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(terms)
    def count(term: t.Term) -> None:
        fired.update(_rules_keep_the_value(term))

    count()
    assert [r.__name__ for r in ALL_RULES if fired[r.__name__] == 0] == [], fired


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms)
def test_simplify_keeps_value_and_indices(term: t.Term) -> None:
    simplified = simplify(term)
    assert {(i.name, i.size) for i in simplified.free} == {(i.name, i.size) for i in term.free}
    np.testing.assert_allclose(
        table(simplified, term.free, VALUES), table(term, term.free, VALUES), rtol=1e-9, atol=1e-9
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms)
def test_normal_form_keeps_value_and_indices(term: t.Term) -> None:
    normal = normal_form(term)
    assert {(i.name, i.size) for i in normal.free} == {(i.name, i.size) for i in term.free}
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


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shadowing_terms)
def test_rules_keep_the_value_of_shadowing_sums(term: t.Term) -> None:
    _rules_keep_the_value(term)
    simplified = simplify(term)
    np.testing.assert_allclose(
        table(simplified, term.free, VALUES), table(term, term.free, VALUES), rtol=1e-9, atol=1e-9
    )


def test_eating_a_delta_renames_a_shadowing_sum() -> None:
    # Σ_i δ[i,k] (Σ_k A[i,j] s) is Σ_q A[k,j] s = 2 A[k,j] s, not Σ_k A[k,j] s.
    term = _shadowing(t.Tensor("s", ()), ("i", "k"), True)
    eaten = eat_deltas(term)
    assert eaten is not None
    np.testing.assert_allclose(
        table(eaten, term.free, VALUES), table(term, term.free, VALUES), rtol=1e-9
    )


def test_a_factor_that_cancels_in_a_quotient_settles() -> None:
    # i (2 x[i] / i + 1) = 2 x[i] + i: moved in, the index cancels (it is
    # never 0), so factor_common cannot pull it back out (once a RecursionError).
    v = t.Tensor("v", (IDX["i"],))
    for divisor in (*_DIVISORS, t.Loss("A")):
        term = _divided_by(divisor, t.Product((t.Const(2.0), v)), t.Const(1.0))
        assert normal_form(term) == normal_form(t.add([t.Product((t.Const(2.0), v)), divisor]))
    # A comparison is not cancelled (1 / (v > 0) is undefined where it fails),
    # but the rules still settle.
    mask = t.Compare(">", v, t.Const(0.0))
    simplify(_divided_by(mask, v, t.Const(1.0)))
    normal_form(_divided_by(mask, v, t.Const(1.0)))
