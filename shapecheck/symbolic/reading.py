"""The part of a definition that its derivative by one array needs.

A consumer C of X enters dA/dX through ∂C/∂X, and of C's right-hand side
only the terms of sums that read X differentiate to anything: of
`L = Σ_t mean[k]((h{t}[k] - y{t}[k])^2)`, ∂L/∂h7 needs the seventh summand
alone. Renaming and differentiating the whole right-hand side for each of
its T readers is O(T²) work for an O(T) result (a loss at every step of an
unrolled RNN took 13 s at T = 300).

`ReadingParts(rhs).part(X)` is the right-hand side cut down to what ∂/∂X
sees: a sum keeps the terms that read X; a product whose one factor reading
X is cut keeps its other factors whole (∂(a b)/∂X = a' b when only a reads X);
anything else is kept whole. The derivative of the part is the derivative of
the whole, node for node: `partial` leaves out the terms that do not read X,
and rebuilds every node above X, so a cut-down node never reaches a result.

The parts of every array are made in one walk, shared by all readers.

Stage: symbolic; used by `derive` to instantiate a consumer; reads `terms`
and the simplifier's fixed-point marks.
"""

from __future__ import annotations

from shapecheck.symbolic import terms as t
from shapecheck.symbolic.simplify import renamed_fixed_point

# The upstream gradient `dloss/dX` of a loss of X counts as reading X (`terms.mentions`).
_UPSTREAM = "dloss/d"


class ReadingParts:
    """One right-hand side's parts, per array it reads (as `terms.mentions` counts)."""

    def __init__(self, rhs: t.Term) -> None:
        self.rhs = rhs
        # The nodes made here, by identity (kept, so that no id is reused):
        # they stand for nodes of `rhs` with terms left out.
        self._cut: dict[int, t.Term] = {}
        self._parts = self._of(rhs)

    def part(self, array: str) -> t.Term:
        """What ∂rhs/∂array needs: `rhs` itself when nothing can be left out."""
        return self._parts.get(array, self.rhs)

    def renamed(self, part: t.Term, mapping: dict[str, t.Index]) -> t.Term:
        """`part` with its indices renamed, each node of `rhs` in it keeping
        its fixed-point mark as the whole renamed would (`renamed_fixed_point`)."""
        renamed = t.rename(part, mapping)
        self._carry_marks(part, renamed)
        return renamed

    def _carry_marks(self, part: t.Term, renamed: t.Term) -> None:
        if id(part) not in self._cut:
            renamed_fixed_point(part, renamed)
            return
        # A cut node is no fixed point of anything; the nodes of `rhs` under it are.
        for a, b in zip(t.children(part), t.children(renamed), strict=True):
            self._carry_marks(a, b)

    def _of(self, term: t.Term) -> dict[str, t.Term]:
        match term:
            case t.Add():
                return self._sum(term)
            case t.Product():
                return self._product(term)
            case _:
                return dict.fromkeys(_readings(term), term)

    def _sum(self, term: t.Add) -> dict[str, t.Term]:
        kept = _by_array(term.terms, [self._of(x) for x in term.terms])
        parts: dict[str, t.Term] = {}
        for array, pairs in kept.items():
            whole = len(pairs) == len(term.terms) and all(cut is x for _, x, cut in pairs)
            cuts = tuple(cut for _, _, cut in pairs)
            parts[array] = term if whole else self._made(t.Add(cuts, term.free))
        return parts

    def _product(self, term: t.Product) -> dict[str, t.Term]:
        readers = _by_array(term.factors, [self._of(f) for f in term.factors])
        parts: dict[str, t.Term] = {}
        for array, pairs in readers.items():
            (position, factor, cut), *others = pairs
            if others or cut is factor:
                # Two factors reading it are both needed whole (a' b + a b').
                parts[array] = term
                continue
            factors = list(term.factors)
            factors[position] = cut
            parts[array] = self._made(t.Product(tuple(factors), term.summed))
        return parts

    def _made(self, node: t.Term) -> t.Term:
        self._cut[id(node)] = node
        return node


def _readings(term: t.Term) -> list[str]:
    """The arrays `terms.mentions` finds in the term, in a fixed order."""
    found: list[str] = []
    for name in sorted(t.arrays_read(term)):
        found.append(name)
        if name.startswith(_UPSTREAM):
            found.append(name.removeprefix(_UPSTREAM))
    return found


def _by_array(
    nodes: tuple[t.Term, ...], parts: list[dict[str, t.Term]]
) -> dict[str, list[tuple[int, t.Term, t.Term]]]:
    """Per array, in order of first appearance: (position, node, its part) for
    each node reading it."""
    found: dict[str, list[tuple[int, t.Term, t.Term]]] = {}
    for position, (node, own) in enumerate(zip(nodes, parts, strict=True)):
        for array, cut in own.items():
            found.setdefault(array, []).append((position, node, cut))
    return found
