"""Canonical keys for terms: the symbolic stage's notion of "the same term".

A key is a string equal for terms that are equal up to renaming summed indices
and reordering factors and terms. The rewrite rules compare by it (like terms
merge: Σ_j 2 X[i,j] and Σ_k X[i,k] 2 are one term, and x · x is x^2), the
factor order `sort_factors` chooses is keyed by it, and a claim matches its
derivative symbolically when the keys of both normal forms are equal.
"""

from __future__ import annotations

from shapecheck.exhaustive import assert_never
from shapecheck.symbolic import terms as t


def key(term: t.Term, rename: dict[str, str] | None = None) -> str:
    """A string equal for terms equal up to renaming summed indices and factor order."""
    if not rename or rename.keys().isdisjoint(t.used_names(term)):
        # The common case, remembered on the (immutable) term.
        cache = term.__dict__
        found = cache.get("_key")
        if found is None:
            found = _key(term, {})
            cache["_key"] = found
        return found
    return _key(term, rename)


def _key(term: t.Term, rename: dict[str, str]) -> str:
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
        case t.Zero():
            return "0"
        case t.Func():
            return f"{term.name}({key(term.arg, rename)})"
        case t.Pow():
            return f"({key(term.base, rename)})^({key(term.exponent, rename)})"
        case t.Add():
            return "(" + " + ".join(sorted(key(x, rename) for x in term.terms)) + ")"
        case t.Product():
            return _product_key(term, rename)
        case _:
            assert_never(term)


def _index_key(index: t.Index, rename: dict[str, str]) -> str:
    return str(index.value) if isinstance(index, t.Fixed) else rename.get(index.name, index.name)


def _product_key(term: t.Product, rename: dict[str, str]) -> str:
    # Summed indices become placeholders named in the order they first appear
    # once the factors are sorted, so that the names chosen for them do not
    # matter; the factors are sorted with every summed index hidden first, so
    # that their order does not depend on those names either.
    summed = {i.name for i in term.summed}
    hidden = {**rename, **{name: "#" for name in summed}}
    ordered = sorted(term.factors, key=lambda f: key(f, hidden))
    canonical = dict(rename)
    counter = len([v for v in rename.values() if v.startswith("$")])
    for factor in ordered:
        for name in _appearance_order(factor):
            if name in summed and name not in canonical:
                canonical[name] = f"${counter}"
                counter += 1
    for name in summed:
        canonical.setdefault(name, f"${counter}")
    parts = sorted(key(f, canonical) for f in term.factors)
    sums = ",".join(sorted(canonical[name] for name in summed))
    return f"Σ[{sums}](" + " ".join(parts) + ")"


def _appearance_order(term: t.Term) -> list[str]:
    names: list[str] = []
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor | t.Delta):
            names.extend(i.name for i in node.indices if isinstance(i, t.Idx))
        stack.extend(reversed(t.children(node)))
    return names


# The order factors are printed in: constants, arrays, functions, deltas last.
_CATEGORY: dict[type, int] = {
    kind: position
    for position, kind in enumerate(
        (t.Const, t.SizeOf, t.Tensor, t.Loss, t.Func, t.Pow, t.Add, t.Product, t.Delta, t.Zero)
    )
}


def factor_order(term: t.Term) -> tuple[int, str]:
    """Where a factor goes in a canonical product: by kind, then by key."""
    return _CATEGORY[type(term)], key(term)
