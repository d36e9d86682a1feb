"""Check, matrices: the matrix of `det(A)`, `inv(A)[i, j]`, `trace(A)` (spec 9.5).

The argument is the name of an array declared or defined above (rule 7, as
any name: E101, E103); it has two indices (E160) whose sizes are equal by
rule 1, the same dim or both valued and equal (E161). `inv(A)[i, j]` is the
inverse read at `i` and `j`: `i` runs over A's second size and `j` over its
first (the inverse of an n×m map is m×n), recorded for rule 1 like the
positions of an array.
"""

from __future__ import annotations

from shapecheck.check import sizes
from shapecheck.check.scope import StatementScope
from shapecheck.diagnostics import Code, Label
from shapecheck.syntax import ast

_WHAT = {"det": "determinant", "inv": "inverse", "trace": "trace"}


def visit_matrix_call(scope: StatementScope, call: ast.MatrixCall) -> None:
    """E160 and E161 for the matrix; rule 1 for the inverse's two indices."""
    info = scope.lookup(call.name, call.name_span)
    if info is None:
        sizes.note_names(scope, call.indices)
        return
    what = _WHAT[call.func]
    declared = f"{call.name}[{', '.join(str(s) for s in info.shape)}]" if info.shape else call.name
    here = Label(info.span, f"`{call.name}` is declared here")
    if info.rank != 2:
        scope.error(
            Code.E160,
            call.name_span,
            f"`{call.func}` takes a matrix (2 indices); `{call.name}` has "
            f"{info.rank} {'index' if info.rank == 1 else 'indices'}",
            labels=[here],
            hints=[f"it is declared as {declared}; the {what} is defined for a square 2-D array"],
        )
        sizes.note_names(scope, call.indices)
        return
    rows, columns = info.shape
    if not rows.same_as(columns):
        scope.error(
            Code.E161,
            call.name_span,
            f"`{call.func}` takes a square matrix; `{call.name}` is "
            f"{rows.describe()} × {columns.describe()}",
            labels=[here],
            hints=[
                f"it is declared as {declared}; the {what} needs both sizes equal "
                "(the same dim, or two equal numbers)"
            ],
        )
        sizes.note_names(scope, call.indices)
        return
    for position, (index, size) in enumerate(zip(call.indices, (columns, rows), strict=False)):
        place = f"the {sizes.ordinal(position)} index of inv({call.name})"
        sizes.record(scope, index, size, place, "array")
