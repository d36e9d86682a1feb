"""Check, index values: an index name standing as a number (spec 9.2).

Outside an index list, a bare name that is an index of the statement, and no
array, is that index's value `1..size` (`M[i, j] = (j <= i)`, `0.9^t r[t]`).
The parser reads every bare name as an `ArrayRef`; `mark_index_values` turns
these into `IndexValue` nodes before the other rules look at the statement.
The value counts as an occurrence of its index for rule 3; its size comes from
an array position of the statement (or a claim's signature), else E220.
"""

from __future__ import annotations

from collections.abc import Container

from shapecheck.check.scope import Names, Occurrence, StatementScope
from shapecheck.diagnostics import Code
from shapecheck.syntax import ast


def index_names(rhs: ast.Expr, lhs: tuple[str, ...]) -> set[str]:
    """The statement's indices: the left-hand ones and every name in a right-hand
    index list, those inside an integer array in a position (`x[y[g]]`) and in a
    reduction's brackets included."""
    names = set(lhs)
    for node in ast.walk(rhs):
        match node:
            case ast.ArrayRef() | ast.Delta() | ast.DerivRef():
                names.update(
                    i.name for i in ast.leaf_indices(node.indices) if isinstance(i, ast.IndexName)
                )
            case ast.SumOver() | ast.MeanOver() | ast.IndexedCall():
                names.update(i.name for i in node.indices)
            case _:
                pass  # no index list of its own
    return names


def mark_index_values(rhs: ast.Expr, lhs: tuple[str, ...], names: Names) -> ast.Expr:
    """`rhs` with each bare name that is an index, and no array or dim, as an `IndexValue`."""
    # Filtered name by name: the set difference with `everywhere.keys()` built a
    # set of every name of the file per statement, quadratic over a long file.
    indices = {
        name
        for name in index_names(rhs, lhs)
        if name not in names.everywhere and name not in names.dims
    }
    # A rebuild only where a bare name is one of them (the walk is shared with
    # the other rules: `ast.walk` keeps its nodes).
    if not any(_bare_index(node, indices) for node in ast.walk(rhs)):
        return rhs
    return _marked(rhs, indices)


def _bare_index(expr: ast.Expr, indices: Container[str]) -> bool:
    return isinstance(expr, ast.ArrayRef) and not expr.indices and expr.name in indices


def _marked(expr: ast.Expr, indices: Container[str]) -> ast.Expr:
    if _bare_index(expr, indices):
        assert isinstance(expr, ast.ArrayRef)
        return ast.IndexValue(expr.name, expr.span)
    kids = ast.children(expr)
    if not kids:
        return expr
    marked = tuple(_marked(k, indices) for k in kids)
    # Unchanged below: the node itself, not a copy (rebuilding every node of
    # every statement was a quarter of `check` on a long file).
    if all(new is old for new, old in zip(marked, kids, strict=True)):
        return expr
    return ast.with_children(expr, marked)


def visit_index_value(scope: StatementScope, node: ast.IndexValue) -> None:
    """An occurrence of the index with no size of its own (rule 3 counts it)."""
    scope.occurrences.setdefault(node.name, []).append(
        Occurrence(None, node.span, f"`{node.name}` as a value")
    )


def check_sized(scope: StatementScope, rhs: ast.Expr, given: Container[str] = ()) -> None:
    """E220: an index used as a value must also stand in an array position.

    Not where the statement uses a name whose own declaration or definition
    failed: its positions were not recorded, and that error is reported."""
    if scope.poisoned:
        return
    reported: set[str] = set()
    for node in ast.walk(rhs):
        if not isinstance(node, ast.IndexValue) or node.name in reported or node.name in given:
            continue
        if any(o.size is not None for o in scope.occurrences.get(node.name, [])):
            continue
        reported.add(node.name)
        scope.error(
            Code.E220,
            node.span,
            f"index `{node.name}` stands here as its value 1..size, "
            "but indexes no array in this statement, so its size is unknown",
            hints=[
                "an index takes its size from an array it indexes, "
                + f"as `{node.name}` in `x[{node.name}]`"
            ],
        )
