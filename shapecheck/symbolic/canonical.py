"""Canonical keys for terms: the symbolic stage's notion of "the same term".

A key is a string equal for terms that are equal up to renaming summed indices
and reordering factors and terms; each summed or bound index carries its range
(`Σ_{k:h}` and `Σ_{k:g}` of one body have different keys). The rewrite rules
compare by it (like terms merge: Σ_j 2 X[i,j] and Σ_k X[i,k] 2 are one term,
and x · x is x^2), the factor order `sort_factors` chooses is keyed by it, and a claim matches its
derivative symbolically when the keys of both normal forms are equal.
"""

from __future__ import annotations

from collections import Counter

from shapecheck.check.program import Size
from shapecheck.exhaustive import assert_never
from shapecheck.symbolic import terms as t


class _KeyingLimit(Exception):
    """A canonical form's keys passed MAX_CANONICAL_KEYS (see `canonical_form`)."""


# The keys left to build while a canonical form is made (innermost last);
# empty elsewhere, where keys are unbounded as before.
_KEYS_LEFT: list[int] = []


def keys_bounded() -> bool:
    """Whether the keys built now are counted (inside `canonical_form`)."""
    return bool(_KEYS_LEFT)


def _count_key() -> None:
    if _KEYS_LEFT:
        _KEYS_LEFT[-1] -= 1
        if _KEYS_LEFT[-1] < 0:
            raise _KeyingLimit


def key(term: t.Term, rename: dict[str, str] | None = None) -> str:
    """A string equal for terms equal up to renaming summed indices and factor order."""
    cache = term.__dict__
    # The names a renaming touches here (none without one: the common case
    # skips reading the term's names).
    renamed_here = rename.keys() & t.used_names(term) if rename else None
    if not renamed_here:
        # The common case, remembered on the (immutable) term.
        found = cache.get("_key")
        if found is None:
            _count_key()
            found = _key(term, {})
            cache["_key"] = found
        return found
    # Under a renaming, remembered per renaming of the names the term uses:
    # the simplifier keys the same subterms of a nested sum under the same
    # outer placeholders again and again (uncached, a pasted-back derivative
    # with sums nested three deep took minutes).
    assert rename is not None  # renamed_here is empty without one
    relevant = tuple(sorted((name, rename[name]) for name in renamed_here))
    renamed: dict[tuple[tuple[str, str], ...], str] = cache.setdefault("_renamed_keys", {})
    found = renamed.get(relevant)
    if found is None:
        _count_key()
        found = _key(term, dict(relevant))
        renamed[relevant] = found
    return found


def _key(term: t.Term, rename: dict[str, str]) -> str:
    match term:
        case t.Const() | t.SizeOf() | t.Tensor() | t.Delta() | t.Loss() | t.Matrix() | t.Zero():
            return _leaf_key(term, rename)
        case t.Func():
            return f"{term.name}({key(term.arg, rename)})"
        case t.Opaque():
            # "fn " keeps a declared function apart from the built-ins.
            return f"fn {term.written}({key(term.arg, rename)})"
        case t.IndexedFunc():
            return _indexed_key(term, rename)
        case t.Pow():
            return f"({key(term.base, rename)})^({key(term.exponent, rename)})"
        case t.Compare() | t.Extremum() | t.IndexValue():
            return _piecewise_key(term, rename)
        case t.Add():
            return "(" + " + ".join(sorted(key(x, rename) for x in term.terms)) + ")"
        case t.Product():
            return _product_key(term, rename)
        case _:
            assert_never(term)


def _leaf_key(
    term: t.Const | t.SizeOf | t.Tensor | t.Delta | t.Loss | t.Matrix | t.Zero,
    rename: dict[str, str],
) -> str:
    match term:
        case t.Const():
            return repr(term.value)
        case t.SizeOf():
            return f"#size({term.size})"
        case t.Tensor():
            return f"{term.name}[{','.join(_index_key(i, rename) for i in term.indices)}]"
        case t.Delta():
            return f"δ[{','.join(sorted(_index_key(i, rename) for i in term.indices))}]"
        case t.Loss():
            return f"loss({term.array})"
        case t.Matrix():
            # Parentheses: no array's name has them, so never an array's key.
            at = ",".join(_index_key(i, rename) for i in term.indices)
            return f"{term.name}({term.array})[{at}]"
        case t.Zero():
            return "0"
        case _:
            assert_never(term)


# `a < b` is `b > a`: keys write every order comparison with `>` or `>=`.
_FLIPPED = {"<": ">", "<=": ">="}


def _piecewise_key(term: t.Compare | t.Extremum | t.IndexValue, rename: dict[str, str]) -> str:
    if isinstance(term, t.IndexValue):
        return f"#value({_index_key(term.index, rename)})"
    if isinstance(term, t.Extremum):
        # max and min are symmetric in value (ties give the same number).
        pair = sorted((key(term.first, rename), key(term.second, rename)))
        return f"{term.name}({pair[0]}, {pair[1]})"
    left, right = key(term.left, rename), key(term.right, rename)
    op = term.op
    if op in _FLIPPED:
        left, right, op = right, left, _FLIPPED[op]
    elif op in ("==", "!=") and right < left:
        left, right = right, left
    return f"[{left} {op} {right}]"


def _index_key(index: t.Index, rename: dict[str, str]) -> str:
    match index:
        case t.Fixed():
            return str(index.value)
        case t.Idx():
            return rename.get(index.name, index.name)
        case t.Gather():
            # `@` keeps an integer array apart from an index of the same name.
            inner = ",".join(_index_key(i, rename) for i in index.indices)
            return f"@{index.name}[{inner}]"
        case t.Select():
            # `@` again; the choice's key names its bound index by placeholder.
            return "@" + key(index.choice, rename)
        case t.Shift():
            # Parts in key order, so that `u + a - 1` and `a + u - 1` are one key.
            parts = sorted(f"{c}*{_index_key(i, rename)}" for i, c in index.parts)
            return "(" + "+".join(parts) + f"+{index.offset})"
        case _:
            assert_never(index)


def _product_key(term: t.Product, rename: dict[str, str]) -> str:
    # The product's own summed indices shadow any outer renaming inside it.
    local = _placeholders(term)
    inner = {**rename, **local} if rename else local
    parts = sorted(key(f, inner) for f in term.factors)
    # Each summed index with its range: Σ_{k:h} and Σ_{k:g} of one body are
    # different sums, and only equal keys may confirm a claim.
    sums = ",".join(sorted(f"{local[i.name]}:{range_key(i.size)}" for i in term.summed))
    return f"Σ[{sums}](" + " ".join(parts) + ")"


def _indexed_key(term: t.IndexedFunc, rename: dict[str, str]) -> str:
    # Its bound indices are placeholders, as a product's summed ones; the
    # prefix carries how many indexed functions nest below, so that an inner
    # one's placeholders never coincide with this one's.
    prefix = f"%{_binders_below(term)}."
    local = {o.name: f"{prefix}{k}" for k, o in enumerate(term.over)}
    inner = {**rename, **local}
    over = ",".join(f"{local[o.name]}:{range_key(o.size)}" for o in term.over)
    at = ",".join(_index_key(i, rename) for i in term.at)
    return f"{term.name}[{over}]({key(term.arg, inner)})@[{at}]"


def range_key(size: Size) -> str:
    """A size in keys, equal where the checker's `Size.same_as` holds: its
    number if known, else its polynomial over the free dims, else its name."""
    if size.value is not None:
        return str(size.value)
    if size.poly is not None:
        return "#" + ",".join(f"{m}*{c}" for m, c in size.poly.terms)
    return f"#{size.name}"


def _placeholders(term: t.Product) -> dict[str, str]:
    """The names a product's summed indices take in keys, chosen once per product.

    Placeholders are numbered in the order they first appear once the factors
    are sorted, so that the names chosen for them do not matter; the factors
    are sorted with every summed index hidden first, so that their order does
    not depend on those names either. Indices from outside the product keep
    their names here: computing this under every outer renaming (as keys once
    did) costs twice per level of nesting, exponential in the depth of sums
    under functions. A placeholder carries the product's nesting height, so an
    inner product's placeholders never coincide with an outer one's.
    """
    cache = term.__dict__
    found: dict[str, str] | None = cache.get("_placeholders")
    if found is not None:
        return found
    summed = {i.name for i in term.summed}
    hidden = dict.fromkeys(summed, "#")
    ordered = sorted(term.factors, key=lambda f: key(f, hidden))
    if _tied(ordered, hidden, summed):
        hidden = _index_classes(term, summed)
        ordered = sorted(term.factors, key=lambda f: key(f, hidden))
    height = _height(term)
    prefix = "$" if height == 1 else f"${height}."
    placeholders: dict[str, str] = {}
    for factor in ordered:
        for name in _appearance_order(factor):
            if name in summed and name not in placeholders:
                placeholders[name] = f"{prefix}{len(placeholders)}"
    # Summed indices that no factor uses are all alike.
    idle = f"{prefix}{len(placeholders)}"
    for index in term.summed:
        placeholders.setdefault(index.name, idle)
    cache["_placeholders"] = placeholders
    return placeholders


def _tied(ordered: list[t.Term], hidden: dict[str, str], summed: set[str]) -> bool:
    """Whether two factors with one key, summed indices hidden, read summed
    indices: then their order, and so the placeholders, would follow the
    names (`Σ_{a,b} d[b] x[a] x[b]` and `Σ_{a,b} d[a] x[b] x[a]`)."""
    keys = [key(f, hidden) for f in ordered]
    return any(
        first == second and not summed.isdisjoint(_appearance_order(factor))
        for first, second, factor in zip(keys, keys[1:], ordered, strict=False)
    )


def _index_classes(term: t.Product, summed: set[str]) -> dict[str, str]:
    """A class name for each summed index that does not depend on the names:
    indices are told apart by their range, then repeatedly by the keys of the
    factors that read them, with the index itself written `*` and the others
    by their class (colour refinement). Indices still alike are alike as far
    as this can tell; their order then follows the names, which costs only a
    confirmation missed, since any placeholders give a faithful key."""
    ranges = {i.name: range_key(i.size) for i in term.summed}
    classes = {name: "#" + ranges[name] for name in summed}
    readers = {name: [f for f in term.factors if name in _appearance_order(f)] for name in summed}
    for _ in range(len(summed)):
        signatures = {
            name: (
                classes[name],
                tuple(sorted(key(f, {**classes, name: "*"}) for f in readers[name])),
            )
            for name in summed
        }
        ranked = {s: n for n, s in enumerate(sorted(set(signatures.values())))}
        refined = {name: f"#{ranked[signatures[name]]}" for name in summed}
        if len(ranked) == len(set(classes.values())):
            break
        classes = refined
    return classes


def _height(term: t.Term) -> int:
    """How deeply products nest in the term (a product of leaves has height 1)."""
    return _nesting(term, t.Product, "_height")


def _binders_below(term: t.Term) -> int:
    """How deeply indexed functions nest in the term (one alone has 1)."""
    return _nesting(term, t.IndexedFunc, "_binders")


def _nesting(term: t.Term, kind: type[t.Term], slot: str) -> int:
    """How deeply terms of `kind` nest in the term, cached on each term under `slot`."""
    cache = term.__dict__
    found: int | None = cache.get(slot)
    if found is None:
        below = max((_nesting(c, kind, slot) for c in t.children(term)), default=0)
        found = below + 1 if isinstance(term, kind) else below
        cache[slot] = found
    return found


def _appearance_order(term: t.Term) -> tuple[str, ...]:
    """The index names the term reads, each once, in the order they first appear.

    Remembered on the (immutable) term and built from its children's, so
    that a subterm shared by many products is walked once.
    """
    cache = term.__dict__
    found: tuple[str, ...] | None = cache.get("_appearance")
    if found is None:
        names: dict[str, None] = {}
        if isinstance(term, t.Tensor | t.Delta | t.Matrix):
            names.update(dict.fromkeys(i.name for i in t.index_leaves(term.indices)))
        elif isinstance(term, t.IndexValue):
            names[term.index.name] = None
        for child in t.children(term):
            names.update(dict.fromkeys(_appearance_order(child)))
        if isinstance(term, t.IndexedFunc):
            # Where it is read (`softmax[k](…)@[j]`): an outer sum's index
            # read only there must get a placeholder of its own.
            names.update(dict.fromkeys(i.name for i in t.index_leaves(term.at)))
        # A nested sum's or indexed function's own indices are not read from
        # outside it, even where an outer sum's index has the same name.
        if isinstance(term, t.Product):
            bound = {i.name for i in term.summed}
        elif isinstance(term, t.IndexedFunc):
            bound = {o.name for o in term.over}
        else:
            bound = set()
        found = tuple(n for n in names if n not in bound)
        cache["_appearance"] = found
    return found


# The order factors are printed in: constants, arrays, functions, deltas last.
_CATEGORY: dict[type, int] = {
    kind: position
    for position, kind in enumerate(
        (
            t.Const,
            t.SizeOf,
            t.Tensor,
            t.IndexValue,
            t.Loss,
            t.Matrix,
            t.Func,
            t.Opaque,
            t.IndexedFunc,
            t.Extremum,
            t.Pow,
            t.Add,
            t.Product,
            t.Compare,
            t.Delta,
            t.Zero,
        )
    )
}


def factor_orders(factors: tuple[t.Term, ...]) -> list[tuple[int, str]]:
    """Where each factor goes in a canonical product: by kind, then by key.
    A factor alone in its kind's place gets no key (an empty one): keys are
    compared only within a place, so the order is the same. Keys counted
    (`canonical_form`) are all built, as they always were."""
    places = [_CATEGORY[type(f)] for f in factors]
    counts = Counter(places)
    counted = bool(_KEYS_LEFT)
    return [
        (p, key(f) if counted or counts[p] > 1 else "")
        for p, f in zip(places, factors, strict=True)
    ]


# ---------------------------------------------------------------------------
# The canonical form claims are compared in.

# A claim and its truth are compared in canonical form only while each, with
# the file's names unfolded, has at most this many nodes: multiplying out can
# grow a term, and beyond this the numeric check decides (with that reason).
MAX_CANONICAL_NODES = 20_000
# And each side's canonical form is given up past this many nodes visited
# (the numeric check decides then, with that reason). Multiplying out is
# where the work goes, and every new product is keyed, so a visit costs more
# as terms grow: a pasted-back derivative with squared sums nested three deep
# visited 126,000 nodes in 5 s. The most any shipped sample's claim or
# pasted-back formula needs (tests/test_round_trip.py) is about 30,000.
MAX_CANONICAL_WORK = 60_000
# And past this many keys built for one side (see `canonical_form`); the most
# any shipped sample's claim or pasted-back formula builds is about 7,300.
MAX_CANONICAL_KEYS = 50_000

Definitions = dict[str, tuple[tuple[t.Idx, ...], t.Term]]


def same_canonical_form(
    definitions: Definitions, claimed: t.Term, truth: t.Term
) -> tuple[bool, str | None]:
    """Whether two terms have one canonical form, and if not, why not in words.

    Both are unfolded (every defined array replaced by its definition, so a
    claim may use the file's names where the derivation expands them, or the
    other way round), then brought to `canonical_form`.
    """
    # Imported here: the rules import this module for `key`.
    from shapecheck.symbolic.simplify import SimplifyLimit

    unfolded = [unfold_definitions(definitions, x, MAX_CANONICAL_NODES) for x in (claimed, truth)]
    sides = [x for x in unfolded if x is not None]
    if len(sides) < 2:
        return False, (
            f"with the file's names unfolded it has more than {MAX_CANONICAL_NODES:,} terms "
            "and factors, too many to compare symbolically"
        )
    try:
        forms = [_bounded_canonical_form(x) for x in sides]
    except SimplifyLimit as error:
        return False, f"its canonical form is too large to compare symbolically ({error})"
    except RecursionError:
        # Never seen; a safety net so that a claim is then judged numerically.
        return False, "its canonical form is nested too deeply to compare symbolically"
    if key(plain_windows(forms[0])) == key(plain_windows(forms[1])):
        return True, None
    sizes = [len(f.terms) if isinstance(f, t.Add) else 1 for f in forms]
    return False, (
        f"its canonical form ({_terms(sizes[0])}) differs from the derivation's "
        f"({_terms(sizes[1])})"
    )


def _bounded_canonical_form(term: t.Term) -> t.Term:
    """`canonical_form`, given up (SimplifyLimit) where multiplying out made
    it larger than MAX_CANONICAL_NODES: keying it would cost more than the
    numeric check (a 250-node claim over a softmax multiplied out to 82,000
    nodes, keyed in 3 s a side)."""
    from shapecheck.symbolic.simplify import SimplifyLimit

    form = canonical_form(term)
    if t.size_count(form, MAX_CANONICAL_NODES) > MAX_CANONICAL_NODES:
        raise SimplifyLimit(
            f"multiplied out, it has more than {MAX_CANONICAL_NODES:,} terms and factors"
        )
    return form


def plain_windows(term: t.Term) -> t.Term:
    """`term` with each array read at a lone window `k + 0` read at `k`, to
    compare by key: both read entry k of the array, whatever range k runs
    over (a claim's `Σ_{k:h} I[i,k]` pasted from a printed derivation that
    reads `I[i,k+0]`). A range narrower than the axis stays in the key of
    the sum over k. Deltas keep their windows: δ[k + 0, e] with k:h and e:g
    says the delta is never eaten as a plain δ[k, e] would be (setting k = e
    would drop k <= h); the term this returns is only keyed, never rewritten."""

    def read(node: t.Term) -> t.Term | None:
        if isinstance(node, t.Tensor) and any(_lone(i) for i in node.indices):
            plain = tuple(_lone(i) or i for i in node.indices)
            return t.Tensor(node.name, plain, node.kind)
        return None

    return t.replace_nodes(term, read)


def _lone(index: t.Index) -> t.Idx | None:
    """The index of the window `k + 0` (one index, coefficient 1, offset 0)."""
    if not isinstance(index, t.Shift) or index.offset.terms or len(index.parts) != 1:
        return None
    ((part, coefficient),) = index.parts
    if isinstance(part, t.Idx) and coefficient.constant == 1:
        return part
    return None


def _terms(count: int) -> str:
    return f"{count} term" + ("" if count == 1 else "s")


def canonical_form(term: t.Term) -> t.Term:
    """A sum of products with comparisons, powers and constants normalised
    (canonical_rules.py): two terms equal as functions of their arrays for the
    reasons those rules know have one canonical form, up to `key`."""
    from shapecheck.symbolic.canonical_rules import CANONICAL_RULES, COMPARISON_RULES
    from shapecheck.symbolic.simplify import SimplifyLimit, simplify

    # Nodes visited do not bound the time: every new product is keyed, and a
    # key's cost grows with its term (a 32,000-visit form built 490,000 keys
    # in 10 s). So the keys built are counted too.
    _KEYS_LEFT.append(MAX_CANONICAL_KEYS)
    try:
        compared = simplify(term, COMPARISON_RULES, max_work=MAX_CANONICAL_WORK)
        return simplify(compared, CANONICAL_RULES, max_work=MAX_CANONICAL_WORK)
    except _KeyingLimit:
        raise SimplifyLimit(f"it would build more than {MAX_CANONICAL_KEYS:,} keys") from None
    finally:
        _KEYS_LEFT.pop()


def unfold_definitions(definitions: Definitions, term: t.Term, limit: int) -> t.Term | None:
    """`term` with every defined array read replaced by its definition read at
    those indices, until no defined array is left; None once it has more than
    `limit` nodes.

    Each definition read is unfolded once, in file order (a definition only
    reads earlier ones), and then substituted at every read of it: linear in
    what is built, where unfolding the whole term a level at a time walked it
    once per level (an unrolled loop's hundred steps). A definition that
    unfolds past `limit` makes any term reading it pass it too.
    """
    needed = _definitions_read(definitions, term)
    if not needed:
        return term
    unfolded: dict[str, t.Term] = {}

    def read(node: t.Term) -> t.Term | None:
        if isinstance(node, t.Tensor) and node.kind == t.ARRAY and node.name in unfolded:
            lhs = definitions[node.name][0]
            # `substitute` renames the definition's summed indices away from
            # the indices it is read at, so nothing is captured.
            mapping = dict(zip(t.names(lhs), node.indices, strict=True))
            return t.substitute(unfolded[node.name], mapping)
        return None

    for name in (n for n in definitions if n in needed):
        body = t.replace_nodes(definitions[name][1], read)
        if t.size_count(body, limit) > limit:
            return None
        unfolded[name] = body
    term = t.replace_nodes(term, read)
    return None if t.size_count(term, limit) > limit else term


def _definitions_read(definitions: Definitions, term: t.Term) -> set[str]:
    """The defined arrays `term` reads as arrays (not under a matrix function,
    which keeps its argument's name), directly or through other definitions."""
    needed: set[str] = set()
    stack = [term]
    while stack:
        node = stack.pop()
        name = node.name if isinstance(node, t.Tensor) and node.kind == t.ARRAY else None
        if name in definitions and name not in needed:
            needed.add(name)
            stack.append(definitions[name][1])
        stack.extend(t.children(node))
    return needed
