"""The memo of adjoints by shape (symbolic/shapes.py): a hit gives exactly
what simplifying would give, marks included, and nothing that could change
the result shares a key.

Random terms come from the generator of the rewrite rules' property tests;
their arrays are renamed twice (same shape), and the second is simplified
both through the memo (a hit) and from scratch (on a separate copy, so that
no mark the engine leaves on the first is seen). Every shipped sample is
derived with and without the memo.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from symbolic.test_rewrite_properties import IDX, terms

from shapecheck.pipeline import Options, front_end
from shapecheck.source import Source
from shapecheck.symbolic import derive
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.canonical import key
from shapecheck.symbolic.shapes import MAX_NAMES, ShapeMemo, shape_of
from shapecheck.symbolic.simplify import LEAVES, SimplifyLimit, simplify

ROOT = Path(__file__).resolve().parents[2]
FIRST = {"A": "x1", "B": "x2", "v": "y1", "w": "y2", "s": "z1"}
SECOND = {"A": "x3", "B": "x4", "v": "y3", "w": "y4", "s": "z3"}


def _renamed(term: t.Term, mapping: dict[str, str]) -> t.Term:
    """A new copy of `term` with its arrays renamed (no node shared, no mark)."""

    def change(node: t.Term) -> t.Term | None:
        if isinstance(node, t.Tensor):
            return t.Tensor(mapping.get(node.name, node.name), node.indices, node.kind)
        kids = t.children(node)
        return t.with_children(node, tuple(change(k) or k for k in kids)) if kids else node

    return t.replace_nodes(term, change)


def _marks(term: t.Term) -> list[object]:
    """The fixed-point mark of every node the engine reads marks of."""
    found: list[object] = []
    stack = [term]
    while stack:
        node = stack.pop()
        if not isinstance(node, LEAVES):
            found.append(node.__dict__.get("_fixed"))
        stack.extend(t.children(node))
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms)
def test_a_hit_is_what_simplifying_gives(term: t.Term) -> None:
    memo = ShapeMemo()
    first = memo.simplified(_renamed(term, FIRST), simplify)
    assert first == simplify(_renamed(term, FIRST))
    hit = memo.simplified(_renamed(term, SECOND), simplify)
    miss = simplify(_renamed(term, SECOND))
    assert memo.hits == 1
    assert hit == miss
    assert key(hit) == key(miss)
    assert _marks(hit) == _marks(miss)
    assert _frees(hit) == _frees(miss)  # carried over, not computed: the same


def _frees(term: t.Term) -> list[tuple[t.Idx, ...]]:
    """Every node's free indices, in preorder."""
    found: list[tuple[t.Idx, ...]] = []
    stack = [term]
    while stack:
        node = stack.pop()
        found.append(node.free)
        stack.extend(t.children(node))
    return found


def _copies(term: t.Term, count: int) -> list[t.Term]:
    """`count` copies of `term`, each with its own arrays (x1, y1, ...)."""
    names = ("x", "y", "v", "w", "z")
    return [
        _renamed(term, {a: f"{b}{n}" for a, b in zip(FIRST, names, strict=True)})
        for n in range(1, count + 1)
    ]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(terms, terms)
def test_a_sum_too_large_to_key_is_what_simplifying_gives(term: t.Term, other: t.Term) -> None:
    # Enough copies of `term` for more than MAX_NAMES arrays, one of them
    # twice (like terms to merge), and another term: simplified part by part.
    parts = [*_copies(term, MAX_NAMES + 1), *_copies(term, 1), other]
    memo = ShapeMemo()
    through = memo.simplified(t.add(parts), simplify)
    whole = simplify(t.add([_renamed(p, {}) for p in parts]))
    assert through == whole
    assert key(through) == key(whole)
    # Every mark the engine leaves, and perhaps more: where a rule of the sum
    # makes a part equal to one the engine met inside another part, it keeps
    # that part unmarked (its memo gives an equal term, so nothing is
    # rebuilt); simplified apart, the part is rewritten and marked, soundly.
    for mark, left in zip(_marks(through), _marks(whole), strict=True):
        assert left is None or mark is left


def test_the_parts_of_a_sum_share_the_limits() -> None:
    parts = _copies(t.Product((t.Const(2.0), t.Const(3.0), _tensor("A", "i", "j"))), 100)
    whole = t.add(parts)
    memo = ShapeMemo()
    assert memo.simplified(whole, simplify) == simplify(_renamed(whole, {}))
    assert memo.hits > 0
    work = 1
    while True:  # the least work that simplifies the sum at once
        try:
            simplify(_renamed(whole, {}), max_work=work)
            break
        except SimplifyLimit:
            work += 50
    with pytest.raises(SimplifyLimit):
        ShapeMemo().simplified(_renamed(whole, {}), partial(simplify, max_work=work - 100))


def _tensor(name: str, *indices: str) -> t.Tensor:
    return t.Tensor(name, tuple(IDX[i] for i in indices))


def _chain(a: str, b: str) -> t.Term:
    return t.Product((_tensor(a, "i", "j"), _tensor(b, "j")), (IDX["j"],))


def test_names_of_other_lengths_or_order_get_other_keys() -> None:
    same = shape_of(_chain("s27", "s28"))
    assert same is not None
    assert same[0] == shape_of(_chain("s35", "s36"))[0]  # type: ignore[index]
    # `s9[`, `s10[` sort unlike `s8[`, `s9[`: another length is another key.
    assert shape_of(_chain("s9", "s10"))[0] != shape_of(_chain("s8", "s9"))[0]  # type: ignore[index]
    # The same masks in the other order.
    assert shape_of(_chain("s28", "s27"))[0] != same[0]  # type: ignore[index]
    # One name beginning the other (`x1`, `x12`) is not `x1`, `x23`.
    assert shape_of(_chain("x1", "x12"))[0] != shape_of(_chain("x2", "x13"))[0]  # type: ignore[index]
    # Numbers by their repr: `-0.0` prints (and sorts) unlike `0.0`.
    zero, negative = (t.Product((t.Const(c), _tensor("s1", "i"))) for c in (0.0, -0.0))
    assert shape_of(zero)[0] != shape_of(negative)[0]  # type: ignore[index]
    # Letters are kept: `U` is not `V`.
    assert shape_of(_chain("U", "s1"))[0] != shape_of(_chain("V", "s1"))[0]  # type: ignore[index]


def test_terms_naming_arrays_elsewhere_are_not_memoised() -> None:
    label = t.Gather("y", (IDX["i"],))
    assert shape_of(t.Delta((IDX["k"], label))) is None
    assert shape_of(t.Func("log", t.Loss("x1"))) is None
    many = t.add([_tensor(f"a{n}", "i") for n in range(MAX_NAMES + 1)], (IDX["i"],))
    assert shape_of(many) is None


def _samples() -> list[Path]:
    return sorted((ROOT / "samples").rglob("*.idx"))


class _NoMemo(ShapeMemo):
    def simplified(self, term: t.Term, simplify: object) -> t.Term:
        return simplify(term)  # type: ignore[operator, no-any-return]


@pytest.mark.parametrize("path", _samples(), ids=lambda p: p.name)
def test_every_sample_derives_the_same_without_the_memo(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked, problems, _ = front_end(Source(path.name, path.read_text()), Options(verify=False))
    asked = [(r.of, r.wrt, r.order) for r in checked.requests]
    asked += [(c.of, c.wrt, c.order) for c in checked.claims]
    if any(p.is_error for p in problems) or not asked:
        pytest.skip("nothing to derive")
    derived = []
    for memo in (ShapeMemo, _NoMemo):
        monkeypatch.setattr(derive, "ShapeMemo", memo)
        try:
            deriver = derive.Deriver(checked)
        except Exception:  # E303 and the like: the pipeline's tests cover them
            pytest.skip("not derivable")
        derived.append((deriver.lowered, [deriver.derive(*d) for d in asked]))
    assert derived[0] == derived[1]
