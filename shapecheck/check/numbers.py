"""Check, sizes as numbers: spec section 9.1.

A `dim` name standing in an expression, outside every index list, is that
size as a number (`/ n`, `sqrt(dk)`): the parser reads it as a scalar array
reference, `visit_size` notes it, and `as_numbers` replaces it by
`ast.SizeRef` in the checked right-hand side, so that every later stage reads
a size, never an array. Inside an index list a name is an index: on the right
one named like a dim shadows it (W106); a statement that uses one name both as
an index and as a size is an error (E115). (On the left a dim name is E107,
in `statements.py`.)
"""

from __future__ import annotations

from shapecheck.check.scope import StatementScope
from shapecheck.diagnostics import Code, Label, diagnostic
from shapecheck.source import Span
from shapecheck.syntax import ast


def is_size(scope: StatementScope, ref: ast.ArrayRef) -> bool:
    """Whether `ref` is a dim standing as a number (a bare name that no array has)."""
    return not ref.indices and ref.name in scope.names.dims and ref.name not in scope.names.arrays


def visit_size(scope: StatementScope, ref: ast.ArrayRef) -> None:
    """Note where a dim stands as a number; it counts as a use of the dim (rule 8)."""
    scope.size_uses.setdefault(ref.name, []).append(ref.span)
    scope.names.used.add(ref.name)


def check_sizes_and_indices(scope: StatementScope, left: tuple[ast.Index, ...]) -> None:
    """E115 for a name that is both an index and a size in one statement;
    W106 for a right-hand index named like a dim. `left`: the left-hand
    indices as written (a dim among them is E107 already: no W106 besides)."""
    on_left = {i.name for i in left if isinstance(i, ast.IndexName)}
    for name, uses in scope.size_uses.items():
        places = [o.span for o in scope.occurrences.get(name, [])]
        if name in on_left or places:
            labels = [Label(places[0], f"`{name}` is an index here")] if places else []
            scope.error(
                Code.E115,
                uses[0],
                f"`{name}` is used both as an index and as the size `{name}`",
                labels=labels,
                hints=[f"rename the index so that `{name}` means the size alone"],
            )
    for name, occurrences in scope.occurrences.items():
        # No occurrence: the name stood in a reference that could not be
        # checked (`n[i]` where `n` is a size), and that error is reported.
        if (
            occurrences
            and name in scope.names.dims
            and name not in on_left
            and name not in scope.size_uses
        ):
            _shadowing(scope, name, occurrences[0].span)


def _shadowing(scope: StatementScope, name: str, span: Span) -> None:
    scope.warnings.append(
        diagnostic(
            Code.W106,
            span,
            f"index `{name}` is named like the dim `{name}`; here it is an index, not the size",
            hints=["rename the index (e.g. `i`) to keep the two apart"],
            context=scope.context,
        )
    )


def as_numbers(expr: ast.Expr, scope: StatementScope) -> ast.Expr:
    """The right-hand side with each dim standing as a number made an `ast.SizeRef`."""
    if not scope.size_uses:
        return expr
    dims = scope.names.dims

    def rebuild(node: ast.Expr) -> ast.Expr:
        if isinstance(node, ast.ArrayRef) and is_size(scope, node):
            return ast.SizeRef(node.name, dims[node.name].value, node.span)
        kids = ast.children(node)
        if not kids:
            return node
        return ast.with_children(node, tuple(rebuild(k) for k in kids))

    return rebuild(expr)
