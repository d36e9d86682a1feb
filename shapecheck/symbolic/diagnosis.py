"""How a wrong claim may be wrong, from its structure against the derivation.

The symbolic half of `numeric/diagnose.py`. A wrong claim is read in the
derivation's index names (`claim_in_derivation_names`), and `candidates`
lists named fixes, each the claim with one classic mistake undone: a factor
of the derivation added to one of its products (a missing mask, `1 / n`, the
upstream `dL/dY`), a factor of its own taken away or replaced by one of the
derivation's (an extra factor, `1 - H` for `1 - H^2`), one of its terms
dropped or negated (an extra term, a sign), one array read at its indices in
another order (transposed, or summed over the wrong index), one array of an
unrolled recurrence read at another step (`h2` for `h1`). Nothing here says a
fix is right: `numeric/diagnose.py` keeps a fix only where the fixed claim
equals the true derivative at two independent draws, so a diagnosis is
certain or not given. `branches` lists the arrays whose chain-rule path the
numeric side takes away (a missing term "through `var`").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from shapecheck.check.program import CheckedClaim
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.claims import in_derivation_names
from shapecheck.symbolic.derive import Derivation, Deriver
from shapecheck.symbolic.lower import lower_claim

# Words and the terms they quote (printed by the caller, in the claim's names).
Words = tuple[str | t.Term, ...]

# Each family of fixes is tried this many times at most: a claim of a thousand
# factors gets the worst entry alone rather than a slow check.
MAX_CANDIDATES = 400


@dataclass(frozen=True)
class Fix:
    """The claim with one mistake undone (`term`, in the derivation's names),
    and the words that name the mistake."""

    words: Words
    term: t.Term


@dataclass(frozen=True)
class ClaimInNames:
    """A claim's right-hand side in the derivation's index names, and the
    renaming back to the claim's own (for quoting)."""

    term: t.Term
    back: dict[str, t.Index]


def claim_in_derivation_names(
    deriver: Deriver, claim: CheckedClaim, derivation: Derivation
) -> ClaimInNames:
    """The claim's right-hand side with its left-hand indices renamed to the
    derivation's signature, position by position (its summed names renamed
    first where they would be captured); derivative references stay."""
    lhs, rhs = lower_claim(claim)
    fresh = t.FreshNames(deriver.taken | t.index_names(rhs) | t.index_names(derivation.formula))
    named, summed = in_derivation_names(derivation, lhs, rhs, fresh)
    back: dict[str, t.Index] = {
        theirs.name: mine for mine, theirs in zip(lhs, derivation.signature, strict=True)
    }
    back.update({new.name: t.Idx(old, new.size) for old, new in summed.items()})
    return ClaimInNames(named, back)


def _terms(term: t.Term) -> tuple[t.Term, ...]:
    """The terms of a sum, sums within it opened (a lowered claim is one)."""
    if not isinstance(term, t.Add):
        return (term,)
    return tuple(part for inner in term.terms for part in _terms(inner))


def _product(term: t.Term) -> t.Product:
    return term if isinstance(term, t.Product) else t.Product((term,))


def _rebuild(terms: list[t.Term], free: tuple[t.Idx, ...]) -> t.Term:
    return terms[0] if len(terms) == 1 else t.add(terms, free)


def _well_formed(product: t.Product) -> bool:
    """Every summed index is still read by some factor."""
    read = {i.name for f in product.factors for i in f.free}
    return all(i.name in read for i in product.summed)


def extra_factors(claim: t.Term) -> list[Fix]:
    """The claim with one of its own factors taken away (`1 / n` too many)."""
    return _kept(claim, itertools.islice(_extra_factors(claim), MAX_CANDIDATES))


def missing_factors(
    claim: t.Term, derivation: Derivation, shared: frozenset[str] = frozenset()
) -> list[Fix]:
    """The claim with one factor of the derivation added to one of its products.
    A constant factor that reads the size of a dim in `shared` (one whose size
    another dim has too) is left out: `1 / n` and `1 / dv` would be one number,
    and naming either would be a guess from a coincidence of sizes."""
    fixes = (
        f
        for f in _missing_factors(claim, derivation)
        if not (_added(f, claim).free == () and _sizes_read(_added(f, claim)) & shared)
    )
    return _kept(claim, itertools.islice(fixes, MAX_CANDIDATES))


def _added(fix: Fix, claim: t.Term) -> t.Term:
    """The factor a missing-factor fix adds (its words quote it)."""
    quoted = [part for part in fix.words if not isinstance(part, str)]
    return quoted[-1] if quoted else claim


def a_number(fix: Fix, claim: t.Term) -> bool:
    """Whether the factor a fix adds or takes away is a number: sizes and
    constants only (`1 / n`, `2`, `1 / sqrt(dk)`), no array."""
    factor = _added(fix, claim)
    if factor is claim or factor.free:
        return False
    stack = [factor]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor | t.Matrix | t.Loss | t.Opaque | t.IndexedFunc):
            return False
        stack.extend(t.children(node))
    return True


def _sizes_read(term: t.Term) -> set[str]:
    found: set[str] = set()
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.SizeOf) and node.size.name is not None:
            found.add(node.size.name)
        stack.extend(t.children(node))
    return found


def missing_terms(claim: t.Term, derivation: Derivation) -> list[Fix]:
    """The claim with one term of the derived formula added."""
    return _kept(claim, itertools.islice(_missing_terms(claim, derivation), MAX_CANDIDATES))


def other_fixes(claim: t.Term, derivation: Derivation, ranks: dict[str, int]) -> list[Fix]:
    """The other named fixes of `claim`, the most specific first; `ranks` gives
    each array's rank (for a time step)."""
    found: list[Fix] = []
    for family in (
        _reordered_arrays(claim),
        _other_steps(claim, ranks),
        _term_signs(claim),
        _wrong_factors(claim, derivation),
    ):
        found.extend(itertools.islice(family, MAX_CANDIDATES))
    return _kept(claim, iter(found))


def _kept(claim: t.Term, fixes: Iterator[Fix]) -> list[Fix]:
    """The fixes that keep the claim's free indices (a fix adds no index)."""
    free = {i.name for i in claim.free}
    return [f for f in fixes if {i.name for i in f.term.free} == free]


def _truth_factors(derivation: Derivation) -> list[tuple[t.Term, frozenset[str]]]:
    """Each factor of each product of the derived formula, with the indices it
    sums over there, then the factors of its adjoint lines that read no index
    (a `1 / n` of a mean inside `dL/dr`); a negation left out."""
    found: list[tuple[t.Term, frozenset[str]]] = []
    lines = [(derivation.formula, False), *((a.formula, True) for a in derivation.adjoints)]
    for formula, constants_only in lines:
        for term in _terms(formula):
            product = _product(term)
            summed = frozenset(i.name for i in product.summed)
            for factor in product.factors:
                if factor == t.Const(-1.0) or (constants_only and factor.free):
                    continue
                if all(k != factor for k, _ in found):
                    found.append((factor, summed))
    return found


def _placings(factor: t.Term, summed: frozenset[str], into: t.Product) -> Iterator[t.Term]:
    """`factor` with the indices it was summed over renamed, in every way, to
    indices `into` sums over with the same size."""
    own = [i for i in factor.free if i.name in summed]
    targets = list(into.summed)
    for chosen in itertools.permutations(targets, len(own)):
        if all(a.size == b.size for a, b in zip(own, chosen, strict=True)):
            yield t.rename(factor, {a.name: b for a, b in zip(own, chosen, strict=True)})


def _missing_factors(claim: t.Term, derivation: Derivation) -> Iterator[Fix]:
    terms = list(_terms(claim))
    if len(terms) > 1:  # missing from the whole claim: `1 - H^2` for `dL/dH (1 - H^2)`
        for factor, summed in _truth_factors(derivation):
            if not summed & {i.name for i in factor.free}:
                yield Fix(("it misses the factor `", factor, "`"), t.Product((claim, factor)))
    for position, term in enumerate(terms):
        product = _product(term)
        for factor, summed in _truth_factors(derivation):
            for placed in _placings(factor, summed, product):
                fixed = t.Product((*product.factors, placed), product.summed)
                yield Fix(
                    (*_subject(terms, term), " misses the factor `", placed, "`"),
                    _rebuild([*terms[:position], fixed, *terms[position + 1 :]], claim.free),
                )


def _subject(terms: list[t.Term], term: t.Term) -> Words:
    """Whom a fix of one product speaks of: the claim, or one of its terms."""
    return ("it",) if len(terms) == 1 else ("its term `", term, "`")


def _missing_terms(claim: t.Term, derivation: Derivation) -> Iterator[Fix]:
    """The claim with one term of the derived formula added (a term with no
    array between, such as weight decay, which no chain-rule path names)."""
    terms = list(_terms(claim))
    for term in _terms(derivation.formula):
        yield Fix(("it misses the term `", term, "`"), _rebuild([*terms, term], claim.free))


def _extra_factors(claim: t.Term) -> Iterator[Fix]:
    """The claim with one of its own factors taken away."""
    terms = list(_terms(claim))
    for position, term in enumerate(terms):
        product = _product(term)
        for k, own in enumerate(product.factors):
            fixed = t.Product(product.factors[:k] + product.factors[k + 1 :], product.summed)
            # A factor -1 is a sign, which `_term_signs` words.
            if len(product.factors) > 1 and own != t.Const(-1.0) and _well_formed(fixed):
                rebuilt = [*terms[:position], fixed, *terms[position + 1 :]]
                words = (*_subject(terms, term), " has an extra factor `", own, "`")
                yield Fix(words, _rebuild(rebuilt, claim.free))


def _wrong_factors(claim: t.Term, derivation: Derivation) -> Iterator[Fix]:
    """The claim with one of its own factors replaced by one of the derivation's."""
    terms = list(_terms(claim))
    truth = _truth_factors(derivation)
    for position, term in enumerate(terms):
        product = _product(term)
        for k, own in enumerate(product.factors):
            rest = product.factors[:k] + product.factors[k + 1 :]
            for factor, summed in truth:
                for placed in _placings(factor, summed, product):
                    fixed = t.Product((*rest, placed), product.summed)
                    if placed == own or not _well_formed(fixed):
                        continue
                    rebuilt = [*terms[:position], fixed, *terms[position + 1 :]]
                    words: Words = (*_subject(terms, term), " has `", own, "` where ")
                    words = (*words, "the derivation has `", placed, "`")
                    yield Fix(words, _rebuild(rebuilt, claim.free))


def _occurrences(term: t.Term) -> Iterator[t.Tensor]:
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor):
            yield node
        stack.extend(reversed(t.children(node)))


def _replace_one(term: t.Term, old: t.Tensor, new: t.Term) -> t.Term:
    """`term` with every occurrence of the node `old` replaced by `new`."""
    return t.replace_nodes(term, lambda node: new if node == old else None)


def _reordered_words(node: t.Tensor, moved: t.Tensor, summed: set[str]) -> Words:
    """Where an index the claim sums over changes place, the sum runs over the
    wrong index of the array; else the array is transposed."""
    changed = [a for a, b in zip(node.indices, moved.indices, strict=True) if a != b]
    if {i.name for i in t.index_leaves(tuple(changed))} & summed:
        words = f"`: a sum runs over the wrong index of `{node.name}`"
    else:
        words = f"`: `{node.name}` is transposed"
    return ("`", node, "` should be `", moved, words)


def _reordered_arrays(claim: t.Term) -> Iterator[Fix]:
    """One array read at its indices in another order: transposed, or summed
    over the wrong index."""
    free = {i.name for i in claim.free}
    summed = t.index_names(claim) - free
    seen: set[t.Tensor] = set()
    for node in _occurrences(claim):
        if node in seen or len(node.indices) < 2 or len(node.indices) > 4:
            continue
        seen.add(node)
        for order in itertools.permutations(node.indices):
            if order != node.indices:
                moved = t.Tensor(node.name, order, node.kind)
                yield Fix(_reordered_words(node, moved, summed), _replace_one(claim, node, moved))


_STEP = re.compile(r"^(.*?)(\d+)$")


def _other_steps(claim: t.Term, ranks: dict[str, int]) -> Iterator[Fix]:
    """An array of an unrolled recurrence (`h2`) read where another step of it
    (`h1`, same stem, same rank) is right."""
    seen: set[t.Tensor] = set()
    for node in _occurrences(claim):
        found = _STEP.match(node.name)
        if node in seen or node.kind != t.ARRAY or found is None:
            continue
        seen.add(node)
        stem = found.group(1)
        for name, rank in ranks.items():
            other = _STEP.match(name)
            if name == node.name or other is None or other.group(1) != stem:
                continue
            if rank == len(node.indices):
                moved = t.Tensor(name, node.indices, node.kind)
                words = ("`", node, "` should be `", moved, "`: a wrong time step")
                yield Fix(words, _replace_one(claim, node, moved))


def _term_signs(claim: t.Term) -> Iterator[Fix]:
    terms = list(_terms(claim))
    if len(terms) < 2:
        return
    for position, term in enumerate(terms):
        rest = terms[:position] + terms[position + 1 :]
        yield Fix(("its term `", term, "` should not be there"), _rebuild(rest, claim.free))
        negated = t.Product((t.Const(-1.0), term))
        yield Fix(
            ("its term `", term, "` has the wrong sign"),
            _rebuild([*rest[:position], negated, *rest[position:]], claim.free),
        )


def branches(deriver: Deriver, derivation: Derivation) -> list[str]:
    """The arrays between the derivative's numerator and denominator (in the
    order they are defined) through which a chain-rule path may run."""
    if derivation.order != 1:
        return []
    return [
        name
        for name in deriver.graph.on_path(derivation.of, derivation.wrt)
        if name not in (derivation.of, derivation.wrt)
    ]
