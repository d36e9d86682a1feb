"""Check, sizes: rules 1, 2, 5 and 6 of spec section 4.

Rule 1: every occurrence of an index in a statement has one size (E201).
Rule 2: an array takes as many indices as its rank (E202), and a literal
index lies in `1..size` (E203; along a dim without a value the literal is
recorded as a `SizeNeed` for the sizes numeric checks choose). Rule 5: a
left-hand index occurs on the right (E204), and an index has a size from
somewhere (E209). Rule 6: a delta has two or more indices (E208), all of one
size (E205), which also sizes those of its indices that index nothing else.
"""

from __future__ import annotations

from shapecheck.check import labels, windows
from shapecheck.check.program import ArrayInfo, NeedKind, Size, SizeNeed
from shapecheck.check.scope import Occurrence, StatementScope
from shapecheck.diagnostics import Code, Label
from shapecheck.exhaustive import assert_never
from shapecheck.source import Span
from shapecheck.syntax import ast, notation

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


def ordinal(position: int) -> str:
    return _ORDINALS[position] if position < len(_ORDINALS) else f"{position + 1}th"


def record(
    scope: StatementScope, index: ast.Index, size: Size | None, place: str, kind: NeedKind
) -> None:
    """Note where an index stands; a literal is checked against the size (rule 2)."""
    match index:
        case ast.IndexLiteral():
            if size is None:
                return
            if size.value is None:
                _need(scope, size, index, kind)
            elif index.value > size.value:
                scope.error(
                    Code.E203,
                    index.span,
                    f"literal index {index.value} is out of range: {place} runs over "
                    f"1..{size.value}",
                    hints=[f"its size is {size.describe()}"],
                )
        case ast.IndexName():
            scope.occurrences.setdefault(index.name, []).append(Occurrence(size, index.span, place))
        case ast.IndexGather():
            info = labels.visit_gather(scope, index, size, place)
            if info is None:
                note_names(scope, index.indices)
            else:
                _positions(scope, index.name, index.indices, index.span, info)
        case ast.IndexSelect():
            # Its size is its index's, known once the statement's sizes are
            # resolved (`reductions.check_selections`); its call is walked as
            # a sub-expression of the reference.
            if size is not None:
                scope.selections.append((index, size, place))
        case ast.IndexExpr():
            # A delta position (no size) binds nothing for the range proof; an
            # array's or a derivative reference's (`dL/ds[i, 7 j]`) does.
            ranged = kind in ("array", "derivative")
            for leaf in ast.index_tree_leaves(index.tree):
                if isinstance(leaf, ast.IndexGather):
                    # A part of the expression: its range bounds the part (the
                    # range proof), not the position, so no size to match here.
                    record(scope, leaf, None, f"`{leaf}` in `{index}`", kind)
            windows.visit_index_expr(scope, index, size if ranged else None, place)
        case _:
            assert_never(index)


def _need(scope: StatementScope, size: Size, index: ast.IndexLiteral, kind: NeedKind) -> None:
    # A size without a value always names a dim (a literal size has its value).
    assert size.name is not None
    scope.needs.append(SizeNeed(size.name, index.value, index.span, kind))


def note_names(scope: StatementScope, indices: tuple[ast.Index, ...]) -> None:
    """Note the index names of a reference that could not be checked, so that a
    left-hand index is not also reported as missing from the right."""
    for index in ast.leaf_indices(indices):
        if isinstance(index, ast.IndexName):
            scope.occurrences.setdefault(index.name, [])


def visit_array(scope: StatementScope, ref: ast.ArrayRef) -> None:
    """Rule 2 for `X[i, 3]`, and where its indices stand for rule 1."""
    if ref.span in scope.bare_operands:
        scope.names.used.add(ref.name)  # reported with its product or power; still a use
        return
    info = scope.lookup(ref.name, ref.span)
    if info is None:
        note_names(scope, ref.indices)
        return
    _positions(scope, ref.name, ref.indices, ref.span, info)


def _positions(
    scope: StatementScope,
    name: str,
    indices: tuple[ast.Index, ...],
    span: Span,
    info: ArrayInfo,
) -> None:
    """Rule 2 for `name[indices]` (an array, or an integer array in a position)."""
    if len(indices) != info.rank:
        declared = name + ("[" + ", ".join(str(s) for s in info.shape) + "]" if info.shape else "")
        have = f"it is declared as {declared}" if info.rank else "it is a scalar: no brackets"
        if not indices and info.rank:
            letters = notation.fresh_letters(info.rank, _taken(scope))
            have += f"; write it with its indices, e.g. `{name}[{', '.join(letters)}]`"
        scope.error(
            Code.E202,
            span,
            f"`{name}` takes {info.rank} {'index' if info.rank == 1 else 'indices'}, "
            f"not {len(indices)}",
            labels=[Label(info.span, f"`{name}` is declared here")],
            hints=[have],
        )
        note_names(scope, indices)
        return
    for position, (index, size) in enumerate(zip(indices, info.shape, strict=True)):
        record(scope, index, size, f"the {ordinal(position)} index of {name}", "array")


def visit_product(scope: StatementScope, product: ast.Product) -> None:
    """`X W` or `X * W` with no indices: numpy's matrix product, shown with indices (9.7).

    One E202 for the whole product instead of one per array, since the fix
    is the product's indices together (`X[i, j] W[j, k]`).
    """
    refs = _bare_operands(scope, product)
    if refs is None:
        return
    operands = [(ref.name, scope.names.arrays[ref.name].rank) for ref in refs]
    shown = notation.matrix_product(operands, scope.lhs, _taken(scope))
    if shown is None:
        return
    scope.bare_operands.update(r.span for r in refs)
    for name in scope.lhs:  # they are missing for want of the product's indices
        scope.occurrences.setdefault(name, [])
    scope.error(
        Code.E202,
        product.span,
        f"`{product}` multiplies arrays written without their indices",
        hints=[f"write the product with indices: `{shown}` (a repeated index is summed)"],
    )


def visit_power(scope: StatementScope, power: ast.Power) -> None:
    """`W^T`: a transpose written as on paper, where no array `T` exists (9.7)."""
    exponent, base = power.exponent, power.base
    if not (
        isinstance(exponent, ast.ArrayRef)
        and exponent.name == "T"
        and not exponent.indices
        and "T" not in scope.names.arrays
        and isinstance(base, ast.ArrayRef)
    ):
        return
    names = [i.name for i in base.indices if isinstance(i, ast.IndexName)]
    if len(names) != 2:
        # `V[k, j] = W^T`: the left side's own names, so the hint reads as the fix.
        names = list(scope.lhs) if len(scope.lhs) == 2 else notation.fresh_letters(2, _taken(scope))
    scope.bare_operands.update((base.span, exponent.span))
    note_names(scope, base.indices)
    for name in scope.lhs:  # they are missing for want of the transpose's indices
        scope.occurrences.setdefault(name, [])
    first, second = names
    scope.error(
        Code.E021,
        power.span,
        f"`{power}` (transpose) is not `.idx` notation",
        hints=[
            f"a transpose swaps the indices: `{base.name}[{second}, {first}]` is the transpose "
            f"of `{base.name}[{first}, {second}]`"
        ],
    )


def _bare_operands(scope: StatementScope, product: ast.Product) -> list[ast.ArrayRef] | None:
    """`X W` or `X * W`: its factors, if all are known arrays without indices, one not a scalar."""
    refs = [f.expr for f in product.factors if f.op != "/"]
    if len(refs) != len(product.factors):
        return None
    bare = [r for r in refs if isinstance(r, ast.ArrayRef) and not r.indices]
    known = [r for r in bare if r.name in scope.names.arrays]
    if len(known) != len(refs) or not any(scope.names.arrays[r.name].rank for r in known):
        return None
    return known


def _taken(scope: StatementScope) -> set[str]:
    return {*scope.names.dims, *scope.names.arrays, *scope.lhs}


def visit_delta(scope: StatementScope, delta: ast.Delta) -> None:
    """Rule 6: two or more indices; their sizes are compared in `resolve_sizes`."""
    if len(delta.indices) < 2:
        scope.error(
            Code.E208,
            delta.span,
            "a delta needs two or more indices",
            hints=["`delta[i, j]` is 1 where i = j and 0 elsewhere"],
        )
        return
    scope.deltas.append(delta)
    for index in delta.indices:
        record(scope, index, None, "an index of delta", "delta")


def resolve_sizes(scope: StatementScope, given: dict[str, Occurrence]) -> dict[str, Size]:
    """Rule 1: every occurrence of an index in the statement has one size.

    `given` holds sizes fixed before the right-hand side (a claim's signature).
    """
    sizes: dict[str, Size] = {}
    first: dict[str, Occurrence] = {}
    for name, occurrence in given.items():
        if occurrence.size is not None:
            sizes[name] = occurrence.size
            first[name] = occurrence
    _agree(scope, sizes, first)
    for delta in scope.deltas:
        _delta_sizes(scope, delta, sizes)
    return sizes


def _agree(scope: StatementScope, sizes: dict[str, Size], first: dict[str, Occurrence]) -> None:
    """Give each index the size of its first place; report every other size once."""
    reported: set[tuple[str, Size]] = set()  # one report per index and wrong size
    for name, occurrences in scope.occurrences.items():
        for occurrence in occurrences:
            if occurrence.size is None:
                continue
            if name not in sizes:
                sizes[name] = occurrence.size
                first[name] = occurrence
                continue
            if sizes[name].same_as(occurrence.size) or (name, occurrence.size) in reported:
                continue
            reported.add((name, occurrence.size))
            before = first[name]
            scope.error(
                Code.E201,
                occurrence.span,
                f"index `{name}` has two sizes",
                labels=[
                    Label(before.span, f"`{name}` is {sizes[name].describe()} here"),
                    Label(occurrence.span, f"`{name}` is {occurrence.size.describe()} here"),
                ],
                hints=[f"{before.place} and {occurrence.place} must have one size"],
            )


def _delta_sizes(scope: StatementScope, delta: ast.Delta, sizes: dict[str, Size]) -> None:
    """Rule 6: a delta's indices all have one size, which sizes the unsized ones."""
    known = [(index, size) for index in delta.indices if (size := _known(scope, index, sizes))]
    if not known:
        return
    first, size = known[0]
    for index, other in known[1:]:
        if not other.same_as(size):
            scope.error(
                Code.E205,
                index.span,
                f"the indices of this delta have different sizes: "
                f"`{first}` is {size.describe()}, "
                f"`{index}` is {other.describe()}",
                labels=[Label(delta.span, "in this delta")],
            )
            break
    for each in delta.indices:
        match each:
            case ast.IndexName():
                sizes.setdefault(each.name, size)
            case ast.IndexGather() | ast.IndexSelect() | ast.IndexExpr():
                pass  # its range is its size, compared above; an expression may leave it
            case ast.IndexLiteral():
                if size.value is None:
                    _need(scope, size, each, "delta")
                elif each.value > size.value:
                    scope.error(
                        Code.E203,
                        each.span,
                        f"literal index {each.value} is out of range 1..{size.value}",
                    )
            case _:
                assert_never(each)


def _known(scope: StatementScope, index: ast.Index, sizes: dict[str, Size]) -> Size | None:
    """The size a delta position has before the delta sizes it: an index's own,
    or the range of an integer array standing there (spec 9.3)."""
    match index:
        case ast.IndexName():
            return sizes.get(index.name)
        case ast.IndexGather():
            info = scope.names.arrays.get(index.name)
            return None if info is None else info.classes
        case ast.IndexSelect():
            # `argmax[j](e)` runs over 1..size of j.
            return sizes.get(index.call.indices[0].name)
        case ast.IndexLiteral() | ast.IndexExpr():
            return None
        case _:
            assert_never(index)


def left_indices_occur(
    scope: StatementScope, lhs: tuple[str, ...], indices: tuple[ast.Index, ...]
) -> None:
    """Rule 5: a left-hand index must occur on the right, or its size is unknown."""
    for name, index in zip(lhs, indices, strict=True):
        if name not in scope.occurrences:
            scope.error(
                Code.E204,
                index.span,
                f"left-hand index `{name}` does not occur on the right, so its size is unknown",
                hints=["every left-hand index must index something on the right"],
            )


def report_unsized(scope: StatementScope, sizes: dict[str, Size]) -> None:
    """An index that only indexes deltas has no size (reported only when nothing
    else is, and not where a name the statement uses failed: its positions were
    not recorded)."""
    if scope.poisoned:
        return
    for name, occurrences in scope.occurrences.items():
        if name not in sizes and occurrences and not scope.problems:
            scope.error(
                Code.E209,
                occurrences[0].span,
                f"the size of index `{name}` is unknown: it only indexes deltas",
                hints=["index an array with it too, or write the size out"],
            )
