"""Check, named functions: `softmax[j]`, `logsumexp[j]` and `norm[j]` (spec 9.5),
and the reductions `max[j]`, `min[j]`, `argmax[j]`, `argmin[j]` (spec 9.2).

Each lists in brackets the indices it runs over; each listed index must stand
in its argument, outside any inner `sum` or reduction that binds the same name
(E230; E238 for the reductions of 9.2: without it the function would run
over nothing, and the index would have no size), and is listed once (E232).
The reductions then bind their indices like `sum[j]` (`summation.py`);
`softmax` binds nothing.
"""

from __future__ import annotations

from shapecheck.check import sizes, summation
from shapecheck.check.scope import StatementScope
from shapecheck.diagnostics import Code
from shapecheck.syntax import ast


def visit_indexed_call(scope: StatementScope, node: ast.IndexedCall) -> None:
    """The brackets of one call; a reduction's indices are bound like `sum[j]`'s."""
    if node.reduces:
        summation.visit_sum(scope, node)
    else:
        # softmax's indices are indices of its result: a left-hand index
        # listed there is not also missing from the right (E204).
        sizes.note_names(scope, node.indices)
    seen: set[str] = set()
    for index in node.indices:
        if index.name in seen:
            scope.error(
                Code.E232,
                index.span,
                f"`{index.name}` is listed twice in `{node.func}[...]`",
                hints=["list each index once"],
            )
            continue
        seen.add(index.name)
        if not _free_in(node.arg, index.name):
            _, _, missing = summation.keyword_codes(node)
            scope.error(
                missing,
                index.span,
                f"`{node.func}[{index.name}]` runs over `{index.name}`, "
                f"but its argument `{node.arg}` has no `{index.name}`",
                hints=[_missing_hint(node, index.name)],
            )


def _missing_hint(node: ast.IndexedCall, name: str) -> str:
    written = _written_names(node.arg)
    if written:
        listed = ", ".join(f"`{n}`" for n in written)
        return f"the argument's indices are {listed}; {node.func} runs over some of them"
    return f"the argument is a scalar: {node.func} needs an index of it to run over"


def _free_in(expr: ast.Expr, name: str) -> bool:
    """Whether `name` stands in `expr` outside every inner binder of it."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if (
            isinstance(node, ast.SumOver | ast.IndexedCall)
            and summation.binds(node)
            and any(i.name == name for i in node.indices)
        ):
            continue
        if any(
            isinstance(i, ast.IndexName) and i.name == name for i in summation.node_indices(node)
        ):
            return True
        stack.extend(ast.children(node))
    return False


def _written_names(expr: ast.Expr) -> list[str]:
    """Index names written in `expr`, in order of first appearance."""
    names: dict[str, None] = {}
    for node in ast.walk(expr):
        names.update(
            (i.name, None) for i in summation.node_indices(node) if isinstance(i, ast.IndexName)
        )
    return list(names)
