"""Check, statements: definitions and claims (spec sections 2, 4 and 5).

A definition or claim is checked as one statement: its left-hand indices are
distinct names, none of them a dim (rules 6 and 7: E113, E108, E107); its
right-hand side is walked once (`visit`), handing each node to the rule
module that owns it; then sizes (rules 1, 2, 5, 6), bound indices and the
placement of sums (rules 3, 4). A derivative reference (spec 9.6) stands in a
claim or a definition, its indices as its signature's; a claim's indices match
the signature of its derivative in the file's layout (section 5: E301, and its
indices take their sizes from it).
A statement with any error is left out of the checked program.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from shapecheck.check import (
    functions,
    labels,
    matrices,
    numbers,
    opaque,
    reductions,
    requests,
    sizes,
    summation,
    values,
    windows,
)
from shapecheck.check.program import (
    ArrayInfo,
    CheckedClaim,
    CheckedDefinition,
    DeriveRequest,
    Size,
    derivative_shape,
)
from shapecheck.check.scope import FileScope, Occurrence, StatementScope, did_you_mean, introduce
from shapecheck.diagnostics import Code, Label
from shapecheck.exhaustive import assert_never
from shapecheck.syntax import ast
from shapecheck.syntax.unroll import loop_context


def visit(scope: StatementScope, expr: ast.Expr) -> None:
    """Hand every node of a right-hand side to the rule that looks at it."""
    for node in ast.walk(expr):
        match node:
            case ast.ArrayRef():
                if numbers.is_size(scope, node):
                    numbers.visit_size(scope, node)
                else:
                    sizes.visit_array(scope, node)
            case ast.Delta():
                sizes.visit_delta(scope, node)
            case ast.DerivRef():
                _visit_deriv(scope, node)
            case ast.Loss():
                _visit_loss(scope, node)
            case ast.MatrixCall():
                matrices.visit_matrix_call(scope, node)
            case ast.SumOver() | ast.MeanOver():
                summation.visit_sum(scope, node)
            case ast.Product():
                sizes.visit_product(scope, node)
            case ast.Power():
                sizes.visit_power(scope, node)
            case ast.IndexedCall() | ast.OpaqueCall():
                _visit_call(scope, node)
            case ast.IndexValue():
                values.visit_index_value(scope, node)
            case ast.Number() | ast.Call() | ast.Negate() | ast.Add() | ast.SizeRef():
                # Nothing of their own to check; their children are walked (a
                # SizeRef is made by the checker: an unchecked program holds none).
                pass
            case ast.Extremum() | ast.Compare() | ast.RangeSum():
                # Operands are walked; rule 3 reads them like those of `+`. A
                # RangeSum is expanded by syntax/unroll.py: an unrolled program holds none.
                pass
            case _:
                assert_never(node)


def _visit_call(scope: StatementScope, node: ast.IndexedCall | ast.OpaqueCall) -> None:
    """softmax and its kin (their brackets), or an `fn` function (its declaration)."""
    if isinstance(node, ast.IndexedCall):
        functions.visit_indexed_call(scope, node)
    else:
        opaque.visit_opaque_call(scope, node)


def _visit_deriv(scope: StatementScope, ref: ast.DerivRef) -> None:
    """`dA/dB[...]` or `d2A/dB2[...]`: A and B known (and, in a definition,
    defined above it), B not an integer array, indices as the signature's."""
    if _is_upstream(scope, ref):
        _visit_upstream(scope, ref)
        return
    scope.referencing = not scope.in_claim
    of = scope.lookup(ref.of, ref.span)
    wrt = scope.lookup(ref.wrt, ref.span)
    scope.referencing = False
    if of is None or wrt is None:
        sizes.note_names(scope, ref.indices)
        return
    if wrt.classes is not None:
        sizes.note_names(scope, ref.indices)
        scope.error(
            Code.E139,
            ref.span,
            f"`{ref.label}` is with respect to `{ref.wrt}`, an integer array",
            labels=[Label(wrt.span, f"`{ref.wrt}` is declared `in {wrt.classes}` here")],
            hints=["labels and token ids are constants to every derivative"],
        )
        return
    shape = derivative_shape(of.shape, wrt.shape, scope.layout, ref.order)
    if len(ref.indices) != len(shape):
        scope.error(
            Code.E202,
            ref.span,
            f"`{ref.label}` takes {len(shape)} indices "
            f"({'×'.join(str(s) for s in shape) or 'a scalar'}), not {len(ref.indices)}",
            hints=[f"in {scope.layout} layout"],
        )
        sizes.note_names(scope, ref.indices)
        return
    for position, (index, size) in enumerate(zip(ref.indices, shape, strict=True)):
        place = f"the {sizes.ordinal(position)} index of {ref.label}"
        sizes.record(scope, index, size, place, "derivative")
    if not scope.in_claim:
        scope.derivative_references.append(ref)


def _visit_loss(scope: StatementScope, node: ast.Loss) -> None:
    """`loss(A)`: A known; a claim may then name its upstream gradient `dloss/dA`."""
    if scope.lookup(node.name, node.name_span) is not None:
        scope.names.losses.add(node.name)


def _is_upstream(scope: StatementScope, ref: ast.DerivRef) -> bool:
    """`dloss/dA` in a claim, for a file with `loss(A)`: the upstream gradient
    the derivation prints (spec 10). `loss` is a keyword, so no array is
    named so; elsewhere `dloss/dA` stays an unknown name."""
    return scope.in_claim and ref.of == "loss" and ref.order == 1 and ref.wrt in scope.names.losses


def _visit_upstream(scope: StatementScope, ref: ast.DerivRef) -> None:
    """The upstream gradient `dloss/dA` has A's shape, in either layout."""
    wrt = scope.lookup(ref.wrt, ref.span)
    if wrt is None:
        sizes.note_names(scope, ref.indices)
        return
    if len(ref.indices) != len(wrt.shape):
        scope.error(
            Code.E202,
            ref.span,
            f"`{ref.label}` takes {len(wrt.shape)} indices, the shape of `{ref.wrt}`, "
            f"not {len(ref.indices)}",
        )
        sizes.note_names(scope, ref.indices)
        return
    for position, (index, size) in enumerate(zip(ref.indices, wrt.shape, strict=True)):
        place = f"the {sizes.ordinal(position)} index of {ref.label}"
        sizes.record(scope, index, size, place, "derivative")


def _with_references(
    file: FileScope, scope: StatementScope
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A definition's `depends_on` and its `reference_only` names: a derivative
    reference dA/dB stands for a formula in A, B and anything A depends on."""
    direct = list(scope.depends_on)
    if not scope.references:
        # Most definitions: no walk, and no table of every definition so far
        # (built for each definition, it made a long file quadratic).
        return tuple(direct), ()
    uses = {d.name: d.depends_on for d in file.definitions}
    stack = list(scope.references)
    reached: dict[str, None] = {}  # ordered, with constant-time membership
    while stack:
        name = stack.pop()
        if name in reached:
            continue
        reached[name] = None
        stack.extend(reversed(uses.get(name, ())))
    only = tuple(n for n in reached if n not in direct)
    return (*direct, *only), only


def _lhs_indices(
    file: FileScope, indices: tuple[ast.Index, ...], statement: ast.Statement
) -> tuple[str, ...] | None:
    """The left-hand index names, or None when any is not a fresh, distinct name."""
    names: list[str] = []
    ok = True
    for index in indices:
        match index:
            case ast.IndexLiteral():
                file.error(
                    Code.E113,
                    index.span,
                    f"the left-hand side takes index names, not the number {index.value}",
                    statement,
                    hints=["a definition defines every entry; name the index"],
                )
                ok = False
            case ast.IndexGather() | ast.IndexSelect() | ast.IndexExpr():
                file.error(
                    Code.E113,
                    index.span,
                    f"the left-hand side takes index names, not `{index}`",
                    statement,
                    hints=["a definition defines every entry; an integer array picks on the right"],
                )
                ok = False
            case ast.IndexName():
                ok = _lhs_name(file, index, names, statement) and ok
                names.append(index.name)
            case _:
                assert_never(index)
    return tuple(names) if ok else None


def _lhs_name(
    file: FileScope, index: ast.IndexName, before: list[str], statement: ast.Statement
) -> bool:
    ok = True
    if index.name in before:
        file.error(
            Code.E108,
            index.span,
            f"index `{index.name}` appears twice on the left",
            statement,
            hints=["a diagonal is written with delta on the right"],
        )
        ok = False
    if index.name in file.names.dims:
        file.error(
            Code.E107,
            index.span,
            f"`{index.name}` names a size (`dim`); it cannot also be an index here",
            statement,
            hints=["use a lowercase letter such as `i` for the index"],
        )
        ok = False
    return ok


def check_definition(file: FileScope, statement: ast.Definition) -> None:
    """`Y[i, k] = ...`: checked, then added to the file's arrays and definitions."""
    if not introduce(file, statement.name, statement.name_span, statement):
        return
    lhs = _lhs_indices(file, statement.indices, statement)
    scope = StatementScope(
        file.names,
        lhs or (),
        loop_context(statement.loop),
        in_claim=False,
        layout=file.layout,
        self_name=statement.name,
    )
    annotated = windows.left_annotations(scope, statement.indices)
    rhs = windows.prepare(scope, statement.rhs, annotated)
    rhs = values.mark_index_values(rhs, lhs or (), file.names)
    visit(scope, rhs)
    values.check_sized(scope, rhs, annotated)
    resolved = sizes.resolve_sizes(scope, annotated)
    reductions.check_selections(scope, resolved)
    summation.check_bound_indices(scope)
    numbers.check_sizes_and_indices(scope, statement.indices)
    if lhs is not None:
        sizes.left_indices_occur(scope, lhs, statement.indices)
    windows.report_unsized(scope, resolved, statement.indices, statement.name)
    windows.prove_ranges(scope, resolved, annotated)
    sizes.report_unsized(scope, resolved)
    file.problems.extend(scope.problems + scope.warnings)
    if scope.problems or scope.poisoned or lhs is None:
        file.names.failed.add(statement.name)
        return
    rhs, summed, broadcast = summation.place_sums(numbers.as_numbers(rhs, scope), lhs)
    depends_on, reference_only = _with_references(file, scope)
    shape = tuple(resolved[name] for name in lhs)
    file.names.arrays[statement.name] = ArrayInfo(
        statement.name, "defined", shape, statement.name_span
    )
    file.size_needs.extend(scope.needs)
    file.reference_requests.extend(
        DeriveRequest(r.of, r.wrt, r.span, loop=statement.loop, order=r.order)
        for r in scope.derivative_references
    )
    file.definitions.append(
        CheckedDefinition(
            statement.name,
            lhs,
            tuple(resolved.items()),
            rhs,
            summed,
            broadcast,
            depends_on,
            statement.span,
            statement.loop,
            reference_only,
            tuple(str(index) for index in statement.indices),
        )
    )


def check_claim(file: FileScope, statement: ast.Claim) -> None:
    """`dA/dB[...] = ...`: its names and left side now; the rest once every
    definition is known (`finish_claim`), since a claim may use any array."""
    if {statement.of, statement.wrt} & file.names.failed:
        return  # the array's own problem is already reported
    missing = [n for n in (statement.of, statement.wrt) if n not in file.names.everywhere]
    for name in missing:
        written = f"d{statement.of}/d{statement.wrt}"
        if opaque.report_function_target(file, name, statement.name_span, written, statement):
            continue
        file.error(
            Code.E101,
            statement.name_span,
            f"unknown name `{name}` in `{_claim_label(statement)}`",
            statement,
            hints=requests.second_order_hint(
                statement.wrt, statement.order, name, file.names.everywhere
            )
            or did_you_mean(name, file.names.everywhere),
        )
    lhs = _lhs_indices(file, statement.indices, statement)
    if missing or lhs is None:
        return
    file.deferred_claims.append((statement, lhs, loop_context(statement.loop)))


def finish_claim(
    file: FileScope, statement: ast.Claim, lhs: tuple[str, ...], context: str | None
) -> None:
    """The claim's signature (section 5) and right-hand side."""
    if statement.of in file.names.failed or statement.wrt in file.names.failed:
        return  # already reported where the array was defined
    if statement.of not in file.names.arrays or statement.wrt not in file.names.arrays:
        # A definition rejected before it was recorded (`c = a` where `c` is a
        # dim: E102), reported where it stands.
        return
    label = f"the claim `{_claim_label(statement)}`"
    if not labels.check_target(file, statement.wrt, statement.name_span, label):
        return
    of = file.names.arrays[statement.of]
    wrt = file.names.arrays[statement.wrt]
    shape = derivative_shape(of.shape, wrt.shape, file.layout, statement.order)
    if len(lhs) != len(shape):
        _wrong_signature(file, statement, shape, len(lhs))
        return
    scope = StatementScope(file.names, lhs, context, in_claim=True, layout=file.layout)
    label = _claim_label(statement)
    given = {
        name: Occurrence(size, index.span, f"position {k + 1} of {label}'s signature")
        for k, (name, size, index) in enumerate(zip(lhs, shape, statement.indices, strict=True))
    }
    annotated: dict[str, Occurrence] = {}
    rhs = windows.prepare(scope, statement.rhs, annotated)
    given = {**given, **annotated}
    rhs = values.mark_index_values(rhs, lhs, file.names)
    visit(scope, rhs)
    values.check_sized(scope, rhs, given)
    resolved = sizes.resolve_sizes(scope, given)
    reductions.check_selections(scope, resolved)
    summation.check_bound_indices(scope)
    numbers.check_sizes_and_indices(scope, statement.indices)
    windows.report_unsized(scope, resolved, statement.indices, f"d{statement.of}/d{statement.wrt}")
    windows.prove_ranges(scope, resolved, annotated)
    sizes.report_unsized(scope, resolved)
    # A size clash with the signature is usually the other layout's order.
    layout_hint = _signature_hint(file, statement.of, statement.wrt)
    transposed = _transposed_hint(scope, lhs, shape, label)
    hints = (layout_hint, transposed) if transposed else (layout_hint,)
    file.problems.extend(
        replace(p, hints=(*p.hints, *hints))
        if p.code == Code.E201 and any("signature" in h for h in p.hints)
        else p
        for p in scope.problems + scope.warnings
    )
    if scope.problems or scope.poisoned:
        return
    _accept_claim(file, statement, rhs, lhs, resolved, scope)


def _accept_claim(
    file: FileScope,
    statement: ast.Claim,
    rhs: ast.Expr,
    lhs: tuple[str, ...],
    resolved: dict[str, Size],
    scope: StatementScope,
) -> None:
    rhs, summed, _ = summation.place_sums(numbers.as_numbers(rhs, scope), lhs)
    file.names.used.update((statement.of, statement.wrt))
    file.size_needs.extend(scope.needs)
    file.claims.append(
        CheckedClaim(
            statement.of,
            statement.wrt,
            lhs,
            tuple(resolved.items()),
            rhs,
            summed,
            statement.span,
            statement.loop,
            statement.order,
        )
    )


def _transposed_hint(
    scope: StatementScope, lhs: tuple[str, ...], shape: tuple[Size, ...], label: str
) -> str | None:
    """Where the right-hand side reads every index of the signature at one size
    each, and those sizes are the signature's in another order (never a guess:
    the sizes the claim itself reads), the claim's indices are transposed."""
    read: list[Size] = []
    for name in lhs:
        sizes = [o.size for o in scope.occurrences.get(name, []) if o.size is not None]
        if not sizes or not all(s.same_as(sizes[0]) for s in sizes):
            return None
        read.append(sizes[0])
    if all(r.same_as(s) for r, s in zip(read, shape, strict=True)):
        return None
    for order in itertools.permutations(range(len(lhs))):
        if all(read[k].same_as(shape[position]) for position, k in enumerate(order)):
            written = f"{label}[{', '.join(lhs[k] for k in order)}]"
            return (
                f"the right-hand side reads its indices as `{written}` would: "
                "the claim's indices are transposed"
            )
    return None


def _claim_label(statement: ast.Claim) -> str:
    return ast.derivative_label(statement.of, statement.wrt, statement.order)


def _wrong_signature(
    file: FileScope, statement: ast.Claim, shape: tuple[Size, ...], written: int
) -> None:
    label = _claim_label(statement)
    sizes_text = "×".join(str(s) for s in shape) or "a scalar"
    file.error(
        Code.E301,
        statement.name_span,
        f"{label} has {len(shape)} {'index' if len(shape) == 1 else 'indices'} "
        f"({sizes_text}) in {file.layout} layout; this claim has {written}",
        statement,
        hints=[_signature_hint(file, statement.of, statement.wrt)],
    )


def _signature_hint(file: FileScope, of: str, wrt: str) -> str:
    a, b = file.names.arrays[of], file.names.arrays[wrt]
    if not a.shape:
        return f"the gradient of a scalar has the shape of `{wrt}`"
    first, second = (a, b) if file.layout == "numerator" else (b, a)
    return (
        f"in {file.layout} layout the indices of `{first.name}` come first, "
        f"then those of `{second.name}`"
    )
