"""Sizes for numeric checks of dims that have none.

A dim without a value gets a small size distinct from every other size in the
file (dims and literal shapes alike), so that a swapped index cannot pass,
and at least as large as any literal index used along it (and any literal
label of an integer array ranging over it, spec 9.3). The checker
records those literal indices (`CheckedProgram.size_needs`), so sizes are
chosen from the checked program alone, and `with_sizes` puts them into it:
the result is the program that checking with those sizes would give. No
numpy here: a run with nothing to verify never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from shapecheck.check import windows
from shapecheck.check.program import (
    ArrayInfo,
    CheckedClaim,
    CheckedDefinition,
    CheckedProgram,
    Dim,
    Size,
    SizeNeed,
)
from shapecheck.check.sizeexpr import Poly
from shapecheck.syntax import ast


def choose_sizes(program: CheckedProgram) -> dict[str, int]:
    """Sizes for the dims that have none: distinct small numbers meeting every need."""
    return _choose(program, program.size_needs)


def symbolic_sizes(program: CheckedProgram) -> dict[str, int]:
    """The sizes the first edition chose: only literals in array positions count.

    The same numbers as `choose_sizes` wherever those meet every need. A
    literal index along the dim in a delta or in a derivative reference can
    want more, and checking again with these sizes then reports it (E203).
    """
    return _choose(program, (n for n in program.size_needs if n.kind == "array"))


def _choose(program: CheckedProgram, needs: Iterable[SizeNeed]) -> dict[str, int]:
    free = [d.name for d in program.dims if d.value is None and not d.computed]
    if not free:
        return {}
    taken = _taken(program)
    needed: dict[str, int] = {}
    for need in needs:
        needed[need.dim] = max(needed.get(need.dim, 0), need.at_least)
    chosen = _choose_linked(free, _computed(program), taken, needed)
    taken |= set(chosen.values())
    candidate = 2
    for name in (n for n in free if n not in chosen):
        while candidate in taken or candidate < needed.get(name, 0):
            candidate += 1
        chosen[name] = candidate
        taken.add(candidate)
        candidate += 1
    return chosen


def _computed(program: CheckedProgram) -> dict[str, Poly]:
    return {d.name: d.poly for d in program.dims if d.value is None and d.computed and d.poly}


def _taken(program: CheckedProgram) -> set[int]:
    """The sizes that are given: valued dims and literal shapes."""
    taken = {d.value for d in program.dims if d.value is not None}
    for array in program.arrays:
        taken |= {s.value for s in array.shape if s.name is None and s.value is not None}
    return taken


# Assignments tried before giving up on distinct sizes (then on any sizes):
# enough for the handful of dims a layer's sizes are computed from.
_SEARCH_BUDGET = 50_000
_LARGEST_TRIED = 64


def _choose_linked(
    free: list[str], computed: dict[str, Poly], taken: set[int], needed: dict[str, int]
) -> dict[str, int]:
    """Values for the free dims that computed dims name, and the computed ones.

    Smallest first (every value at most B, for B = 2, 3, ...): each computed
    size a whole number of at least 2 (and its needs), every size distinct
    from the others and from the valued ones. Where no such choice is found,
    sizes may coincide (`coinciding` names them) and be 1; where none makes
    every computed size a positive whole number, the computed ones are left
    out (`impossible_sizes` reports them).
    """
    if not computed:
        return {}
    named = {name for poly in computed.values() for name in poly.names}
    linked = [name for name in free if name in named]
    for strict in (True, False):
        search = _Search(linked, computed, taken, needed, strict)
        for bound in range(2, _LARGEST_TRIED + 1):
            found = search.run(bound)
            if found is not None:
                return found
            if search.spent > _SEARCH_BUDGET:
                break
    return {}


class _Search:
    """A bounded backtracking search over the linked free dims."""

    def __init__(
        self,
        linked: list[str],
        computed: dict[str, Poly],
        taken: set[int],
        needed: dict[str, int],
        strict: bool,
    ) -> None:
        self.linked = linked
        self.linked_set = set(linked)
        self.needed = needed
        self.strict = strict
        self.taken = taken if strict else set()
        # Each computed size is tested as soon as every dim it names has a value.
        self.ready: dict[int, list[tuple[str, Poly]]] = {}
        for name, poly in computed.items():
            last = max(linked.index(n) for n in poly.names)
            self.ready.setdefault(last, []).append((name, poly))
        # Computed sizes with one polynomial are one size: they may coincide.
        self.same = {name: poly for name, poly in computed.items()}
        self.spent = 0

    def run(self, bound: int) -> dict[str, int] | None:
        return self._extend({}, bound)

    def _extend(self, values: dict[str, int], bound: int) -> dict[str, int] | None:
        depth = sum(1 for n in values if n in self.linked_set)
        if depth == len(self.linked):
            return dict(values)
        name = self.linked[depth]
        for value in range(1 if not self.strict else 2, bound + 1):
            self.spent += 1
            if self.spent > _SEARCH_BUDGET:
                return None
            if value < self.needed.get(name, 0) or not self._fits(value, values):
                continue
            trial = {**values, name: value}
            if not self._computed_fit(trial, depth):
                continue
            found = self._extend(trial, bound)
            if found is not None:
                return found
        return None

    def _fits(self, value: int, values: dict[str, int]) -> bool:
        return not self.strict or (value not in self.taken and value not in values.values())

    def _computed_fit(self, trial: dict[str, int], depth: int) -> bool:
        for name, poly in self.ready.get(depth, ()):
            value = poly.at(trial)
            least = max(2 if self.strict else 1, self.needed.get(name, 0))
            if value.denominator != 1 or value < least:
                return False
            whole = int(value)
            if self.strict and any(
                whole == other and self.same.get(n) != poly for n, other in trial.items()
            ):
                return False
            if self.strict and whole in self.taken:
                return False
            trial[name] = whole
        return True


def coinciding(program: CheckedProgram, chosen: dict[str, int]) -> list[tuple[Dim, Dim, int]]:
    """Pairs of different sizes given one number, at least one of them computed
    and one of them chosen (spec 9.4: the report names the two)."""
    dims = [d for d in program.dims if d.value is not None or d.name in chosen]

    def value(d: Dim) -> int:
        return d.value if d.value is not None else chosen[d.name]

    return [
        (first, second, value(first))
        for i, first in enumerate(dims)
        for second in dims[i + 1 :]
        if value(first) == value(second)
        and (first.computed or second.computed)
        and (first.name in chosen or second.name in chosen)
        and not (first.poly is not None and first.poly == second.poly)
    ]


def impossible(program: CheckedProgram, chosen: dict[str, int]) -> list[Dim]:
    """Computed dims for which no choice gave a positive whole number."""
    return [d for d in program.dims if d.value is None and d.computed and d.name not in chosen]


def unmet_needs(program: CheckedProgram, chosen: dict[str, int]) -> tuple[SizeNeed, ...]:
    """The literal indices that would lie outside `1..size` with these sizes."""
    return tuple(n for n in program.size_needs if n.dim in chosen and n.at_least > chosen[n.dim])


def with_sizes(program: CheckedProgram, chosen: dict[str, int]) -> CheckedProgram:
    """The program with each chosen number given to its dim, wherever a `Size` names it.

    Equal to what unrolling and checking with those sizes gives, when they
    meet every need (`unmet_needs` is empty): sizes enter only the checked
    program's dims, shapes and index sizes, and the dims that stand as numbers
    in right-hand sides (`ast.SizeRef`, spec 9.1), a need on a dim that now
    has a value is met and gone, and no loop bound
    names a dim without a value (that is an error, E111, before any choice).
    """

    def size(s: Size) -> Size:
        if s.name is not None and s.value is None and s.name in chosen:
            return Size(s.name, chosen[s.name])
        return s

    def sizes(pairs: tuple[tuple[str, Size], ...]) -> tuple[tuple[str, Size], ...]:
        return tuple((index, size(s)) for index, s in pairs)

    def dim(d: Dim) -> Dim:
        if d.value is None and d.name in chosen:
            # A computed dim keeps its polynomial: `--emit numpy` computes it
            # from the free dims rather than baking in the chosen value.
            return replace(d, value=chosen[d.name], poly=d.poly if d.computed else None)
        return d

    def array(a: ArrayInfo) -> ArrayInfo:
        classes = None if a.classes is None else size(a.classes)
        return replace(a, shape=tuple(size(s) for s in a.shape), classes=classes)

    def definition(d: CheckedDefinition) -> CheckedDefinition:
        return replace(d, sizes=sizes(d.sizes), rhs=_numbers_with_sizes(d.rhs, chosen))

    def claim(c: CheckedClaim) -> CheckedClaim:
        return replace(c, sizes=sizes(c.sizes), rhs=_numbers_with_sizes(c.rhs, chosen))

    return replace(
        program,
        dims=tuple(dim(d) for d in program.dims),
        arrays=tuple(array(a) for a in program.arrays),
        definitions=tuple(definition(d) for d in program.definitions),
        claims=tuple(claim(c) for c in program.claims),
        size_needs=tuple(n for n in program.size_needs if n.dim not in chosen),
    )


def _numbers_with_sizes(expr: ast.Expr, chosen: dict[str, int]) -> ast.Expr:
    """`expr` with each dim standing as a number (`/ n`, or inside an index
    expression, `k + h`) given its chosen value."""
    expr = windows.map_index_exprs(expr, lambda e: _index_sizes(e, chosen))
    if not any(isinstance(node, ast.SizeRef) for node in ast.walk(expr)):
        return expr

    def rebuild(node: ast.Expr) -> ast.Expr:
        if isinstance(node, ast.SizeRef):
            if node.value is None and node.name in chosen:
                return replace(node, value=chosen[node.name])
            return node
        kids = ast.children(node)
        if not kids:
            return node
        return ast.with_children(node, tuple(rebuild(k) for k in kids))

    return rebuild(expr)


def _index_sizes(expr: ast.IndexExpr, chosen: dict[str, int]) -> ast.IndexExpr:
    def leaf(node: ast.IndexTree) -> ast.IndexTree:
        if isinstance(node, ast.IndexSize) and node.value is None and node.name in chosen:
            return replace(node, value=chosen[node.name])
        return node

    return replace(expr, tree=windows.map_tree(expr.tree, leaf))
