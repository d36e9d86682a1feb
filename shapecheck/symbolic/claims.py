"""Claims, symbolically: a hand-derived derivative against the derived one.

A claim is lowered like a definition. Where it refers to the derivation's own
adjoint lines (`dL/dH[i,k]` in a claim of dL/dW1), it is first compared with
the derivation written out only down to those lines (`_through_lines`).
Otherwise each derivative reference in it stands for the true value, so it is
replaced by that derivative fully expanded. The claim is then renamed into
the derivation's own index names (matching the signature position by
position) and both sides are
simplified: equal normal forms mean the claim is right, symbolically. If they
differ, both sides are brought to the canonical form of canonical.py (the
file's names unfolded, comparisons, powers and constants normalised, products
multiplied out) and compared again. Anything else is left to numeric
verification, with the reason, which can also say how a claim is wrong.

The comparison is made only where it is quick: a derivative that written out
is too large (an unrolled loop's, quadratic in its steps), or whose
simplification would visit too many nodes, is not compared, and the numeric
check, which evaluates the adjoint lines and never writes them out, decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from shapecheck.check.program import CheckedClaim
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.canonical import same_canonical_form
from shapecheck.symbolic.derive import (
    Derivation,
    DerivationTooLarge,
    Deriver,
    copied_over,
    expand,
    lines_size,
    reference_target,
    references_in,
    replace_references,
    written_out_size,
    written_out_words,
)
from shapecheck.symbolic.fold import folder_of
from shapecheck.symbolic.lower import lower_claim
from shapecheck.symbolic.simplify import SimplifyLimit, Spent, key, normal_form, simplify

# A claim is compared symbolically within these bounds, and judged by its
# numeric check alone past them. Writing a derivative out copies each adjoint
# line once per reference to it: an unrolled loop's dL/db sums a chain per
# step, quadratic in the steps (a wrong claim on a relu RNN writes out to
# 2,300 nodes at 20 steps, 1.5 s to compare, 20,000 at 60, 8 s, and its 200
# steps took two minutes). It is not written out past MAX_COMPARED_NODES where
# that is more than MAX_COPIES (derive.py) times its lines; a large formula that is not
# copied over (a claim of 1,000 terms, benchmarks/canonical_growth.py) is
# compared, near linearly. The largest claim among the samples writes out to
# 97 nodes. The comparison as a whole then visits at most MAX_COMPARISON_WORK
# nodes: the samples' largest visits about 10,000; a chain-rule claim on a
# tanh RNN of 10 steps, 950 nodes written out, 360,000 (a few seconds) as its
# normal form multiplies ten factors (1 - tanh²) out, fivefold every two steps.
MAX_COMPARED_NODES = 2_000
MAX_COMPARISON_WORK = 400_000


@dataclass(frozen=True)
class SymbolicClaim:
    claim: CheckedClaim
    derivation: Derivation
    # The claim's right-hand side, in the derivation's index names (numerator
    # order), with derivative references replaced by their true values; and
    # the derivative written out. Both None where the claim was too large to
    # compare symbolically (see `reason`); confirmed through the lines it
    # reads, `term` reads them and `true_term` is None.
    term: t.Term | None
    true_term: t.Term | None
    matches: bool
    # Why the claim is not confirmed symbolically (None when it is): it is
    # then judged by its numeric check alone.
    reason: str | None = None


def resolve_claim(deriver: Deriver, claim: CheckedClaim) -> SymbolicClaim:
    """The claim compared with the derivative it claims, symbolically.

    A derivative that cannot be derived (the claim's own, or one it refers
    to) raises, as for a derivative asked for; one too large to compare is
    a reason, and the numeric check decides.
    """
    derivation = deriver.derive(claim.of, claim.wrt, claim.order)
    lhs, rhs = lower_claim(claim)
    names = references_in(rhs)
    referenced = {name: deriver.derive(*reference_target(name)) for name in names}
    spent = Spent(limit=MAX_COMPARISON_WORK)
    through_lines = _through_lines(deriver, derivation, (lhs, rhs), referenced, spent)
    if through_lines is not None:
        return SymbolicClaim(claim, derivation, through_lines, None, True)
    # Each reference is written out where it stands: counted once per occurrence.
    compared = [derivation, *(referenced[name] for name in names)]
    written_out = sum(written_out_size(d) for d in compared)
    as_lines = sum(lines_size(d) for d in compared)
    if copied_over(written_out, as_lines, MAX_COMPARED_NODES):
        reason = (
            "written out in full (its adjoint lines inlined) it has "
            f"{written_out_words(written_out, as_lines)}: too many to compare symbolically"
        )
        return SymbolicClaim(claim, derivation, None, None, False, reason)
    try:
        return _compared(deriver, claim, derivation, lhs, rhs, spent)
    except (DerivationTooLarge, SimplifyLimit) as error:
        reason = f"it is too large to compare symbolically ({error})"
        return SymbolicClaim(claim, derivation, None, None, False, reason)


def _through_lines(
    deriver: Deriver,
    derivation: Derivation,
    lowered: tuple[tuple[t.Idx, ...], t.Term],
    referenced: dict[str, Derivation],
    spent: Spent,
) -> t.Term | None:
    """The claim, where it is the derivative as derived with its adjoint lines
    written out only down to those the claim refers to: each `dA/dY[...]` it
    reads is read as the line dA/dY of the derivation (the same total
    derivative; the reference's indices in layout order, the line's in
    numerator order), and the truth's other lines are inlined. None where it
    is not, or refers to anything else: the claim is then compared written
    out in full.

    A claim written the way backprop is (`dL/dh0[m] = dL/dh1[k] (1 - h1[k]^2)
    Wh[m, k]`, or two steps at once through dL/dh2) is then confirmed
    whatever the number of steps beyond. A claim that reads no line is left
    to `_compared`.
    """
    if derivation.order != 1:
        return None
    lhs, rhs = lowered
    lines = {a.label: a for a in derivation.adjoints}
    read_lines: set[str] = set()

    def line(node: t.Term) -> t.Term | None:
        if not (isinstance(node, t.Tensor) and node.kind == t.REFERENCE):
            return None
        of, _, order = reference_target(node.name)
        if order != 1 or of != derivation.of or node.name not in lines:
            return None
        reference = referenced[node.name]
        read_lines.add(node.name)
        at = dict(zip(t.names(reference.signature), node.indices, strict=True))
        return t.Tensor(node.name, tuple(at[i.name] for i in reference.indices), t.ADJOINT)

    read = t.replace_nodes(rhs, line)
    # `key` does not tell a line from a reference of the same name: none may
    # be left where lines are compared.
    if not read_lines or references_in(read):
        return None
    cut = written_out_size(derivation, read_lines)
    if copied_over(cut, lines_size(derivation), MAX_COMPARED_NODES):
        return None
    try:
        truth = expand(derivation, deriver.taken, spent, keep=read_lines)
        fresh = t.FreshNames(deriver.taken | t.index_names(read) | t.index_names(truth))
        named, _ = in_derivation_names(derivation, lhs, read, fresh)
        claimed = simplify(t.add([named], derivation.indices), spent=spent)
        # The lines are read as arrays of their own by every comparison.
        same, _ = _same(deriver, claimed, t.add([truth], derivation.indices), spent)
    except (DerivationTooLarge, SimplifyLimit):
        return None
    return claimed if same else None


def in_derivation_names(
    derivation: Derivation, lhs: tuple[t.Idx, ...], rhs: t.Term, fresh: t.FreshNames
) -> tuple[t.Term, dict[str, t.Idx]]:
    """A claim's right-hand side in the derivation's index names: its
    left-hand indices renamed onto the signature, position by position, after
    its summed names that would be captured (returned, by their old names)."""
    target = {i.name for i in derivation.signature}
    own = {i.name for i in lhs}
    sizes = t.index_sizes(rhs)
    summed = {
        name: t.Idx(fresh.take(), sizes[name])
        for name in t.names_in_order(rhs)
        if name not in own and name in target
    }
    rhs = t.rename(rhs, dict[str, t.Index](summed))
    mapping = dict[str, t.Index](zip(t.names(lhs), derivation.signature, strict=True))
    return t.rename(rhs, mapping), summed


def _same(
    deriver: Deriver, claimed: t.Term, truth: t.Term, spent: Spent
) -> tuple[bool, str | None]:
    """Whether a claim and the truth (each summed over the derivation's
    indices) are one formula, and if not, why not in words: normal forms,
    then with calls and the file's names folded alike, then canonical forms."""
    if key(normal_form(claimed, spent)) == key(normal_form(truth, spent)):
        return True, None
    if _names_a_call(deriver, truth, claimed):
        # `D inv(X)[q,p]` (as derived) and `det(X) inv(X)[q,p]` (as in the
        # Cookbook) are one formula: compare them with the names unfolded.
        unfolded = [normal_form(_unfold_calls(deriver, x), spent) for x in (claimed, truth)]
        if key(unfolded[0]) == key(unfolded[1]):
            return True, None
    # Derivatives print in the file's names (`d[j]` for its softmax, `1 -
    # s1[i]^2` for a tanh): a claim pasted from them is compared with both
    # sides folded alike.
    fold = folder_of(deriver).fold
    folded = [normal_form(fold(x), spent) for x in (claimed, truth)]
    if key(folded[0]) == key(folded[1]):
        return True, None
    return same_canonical_form(deriver.lowered, claimed, truth)


def _compared(
    deriver: Deriver,
    claim: CheckedClaim,
    derivation: Derivation,
    lhs: tuple[t.Idx, ...],
    rhs: t.Term,
    spent: Spent,
) -> SymbolicClaim:
    """The claim compared with the derivative written out (`_same`)."""
    truth = expand(derivation, deriver.taken, spent)
    fresh = t.FreshNames(deriver.taken | t.index_names(rhs) | t.index_names(truth))
    rhs = replace_references(deriver, rhs, fresh, spent)
    named, _ = in_derivation_names(derivation, lhs, rhs, fresh)
    claimed = simplify(t.add([named], derivation.indices), spent=spent)
    matches, reason = _same(deriver, claimed, t.add([truth], derivation.indices), spent)
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
