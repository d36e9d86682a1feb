"""Claims, symbolically: a hand-derived derivative against the derived one.

A claim is lowered like a definition; each derivative reference in it
(`dL/dY[i,k]`) stands for the true value, so it is replaced by that derivative
fully expanded. The claim is then renamed into the derivation's own index
names (matching the signature position by position) and both sides are
simplified: equal normal forms mean the claim is right, symbolically. If they
differ, both sides are brought to the canonical form of canonical.py (the
file's names unfolded, comparisons, powers and constants normalised, products
multiplied out) and compared again. Anything else is left to numeric
verification, with the reason, which can also say how a claim is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from shapecheck.check.program import CheckedClaim
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.canonical import same_canonical_form
from shapecheck.symbolic.derive import Derivation, Deriver, expand, replace_references
from shapecheck.symbolic.fold import folder_of
from shapecheck.symbolic.lower import lower_claim
from shapecheck.symbolic.simplify import key, normal_form, simplify


@dataclass(frozen=True)
class SymbolicClaim:
    claim: CheckedClaim
    derivation: Derivation
    # The claim's right-hand side, in the derivation's index names (numerator
    # order), with derivative references replaced by their true values.
    term: t.Term
    true_term: t.Term
    matches: bool
    # Why the claim is not confirmed symbolically (None when it is): it is
    # then judged by its numeric check alone.
    reason: str | None = None


def resolve_claim(deriver: Deriver, claim: CheckedClaim) -> SymbolicClaim:
    derivation = deriver.derive(claim.of, claim.wrt, claim.order)
    truth = expand(derivation, deriver.taken)
    lhs, rhs = lower_claim(claim)
    fresh = t.FreshNames(deriver.taken | t.index_names(rhs) | t.index_names(truth))
    rhs = replace_references(deriver, rhs, fresh)
    # Summed names of the claim must not capture the derivation's names.
    target = {i.name for i in derivation.signature}
    own = {i.name for i in lhs}
    sizes = t.index_sizes(rhs)
    renames: dict[str, t.Index] = {
        name: t.Idx(fresh.take(), sizes[name])
        for name in t.names_in_order(rhs)
        if name not in own and name in target
    }
    rhs = t.rename(rhs, renames)
    mapping: dict[str, t.Index] = {
        mine.name: theirs for mine, theirs in zip(lhs, derivation.signature, strict=True)
    }
    rhs = t.rename(rhs, mapping)
    claimed = simplify(t.add([rhs], derivation.indices))
    whole_truth = t.add([truth], derivation.indices)
    matches = key(normal_form(claimed)) == key(normal_form(whole_truth))
    if not matches and _names_a_call(deriver, whole_truth, claimed):
        # `D inv(X)[q,p]` (as derived) and `det(X) inv(X)[q,p]` (as in the
        # Cookbook) are one formula: compare them with the names unfolded.
        unfolded = [normal_form(_unfold_calls(deriver, x)) for x in (claimed, whole_truth)]
        matches = key(unfolded[0]) == key(unfolded[1])
    reason = None
    if not matches:
        # Derivatives print in the file's names (`d[j]` for its softmax): a
        # claim pasted from them is compared with both sides folded alike.
        folded = [normal_form(folder_of(deriver).fold(x)) for x in (claimed, whole_truth)]
        matches = key(folded[0]) == key(folded[1])
    if not matches:
        matches, reason = same_canonical_form(deriver.lowered, claimed, whole_truth)
    return SymbolicClaim(claim, derivation, claimed, truth, matches, reason)


def _defined_call(deriver: Deriver, name: str) -> tuple[tuple[t.Idx, ...], t.Matrix] | None:
    """The left-hand indices and the call of a definition that is one `det`,
    `inv` or `trace` call (which derivatives print by the defined name)."""
    if name not in deriver.lowered:
        return None
    lhs, rhs = deriver.lowered[name]
    if isinstance(rhs, t.Add) and len(rhs.terms) == 1:
        rhs = rhs.terms[0]
    return (lhs, rhs) if isinstance(rhs, t.Matrix) else None


def _names_a_call(deriver: Deriver, *terms: t.Term) -> bool:
    stack = list(terms)
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor) and _defined_call(deriver, node.name) is not None:
            return True
        stack.extend(t.children(node))
    return False


def _unfold_calls(deriver: Deriver, term: t.Term) -> t.Term:
    """Every array defined as one matrix function call, replaced by the call
    read at the array's indices."""

    def call(node: t.Term) -> t.Term | None:
        if isinstance(node, t.Tensor) and node.kind == t.ARRAY:
            found = _defined_call(deriver, node.name)
            if found is not None:
                lhs, matrix = found
                return t.substitute(matrix, dict(zip(t.names(lhs), node.indices, strict=True)))
        return None

    return t.replace_nodes(term, call)
