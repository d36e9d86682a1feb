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

from shapecheck.check.program import (
    ArrayInfo,
    CheckedClaim,
    CheckedDefinition,
    CheckedProgram,
    Dim,
    Size,
    SizeNeed,
)
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
    symbolic = [d.name for d in program.dims if d.value is None]
    if not symbolic:
        return {}
    taken = {d.value for d in program.dims if d.value is not None}
    for array in program.arrays:
        taken |= {s.value for s in array.shape if s.name is None and s.value is not None}
    needed: dict[str, int] = {}
    for need in needs:
        needed[need.dim] = max(needed.get(need.dim, 0), need.at_least)
    chosen: dict[str, int] = {}
    candidate = 2
    for name in symbolic:
        while candidate in taken or candidate < needed.get(name, 0):
            candidate += 1
        chosen[name] = candidate
        taken.add(candidate)
        candidate += 1
    return chosen


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
        return replace(d, value=chosen[d.name]) if d.value is None and d.name in chosen else d

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
    """`expr` with each dim standing as a number (`/ n`) given its chosen value."""
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
