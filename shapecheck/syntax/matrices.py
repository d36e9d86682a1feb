"""The call forms of the matrix functions, for the syntax stage's builder (spec 9.5).

`det(A)`, `inv(A)[i, j]` and `trace(A)` take the *name* of a matrix. The
grammar parses any expression between the parentheses and an optional index
list after them, so that `build.py` can hand a form the language does not
take to this module and report it with the way to write it:

- E055: an expression or an entry as the argument (`det(X[i, k] X[j, k])`
  shows the definition to write first, `K[i, j] = X[i, k] X[j, k]`, then
  `det(K)`; `det(A[i, j])` shows `det(A)`);
- E056: `inv(A)` read at no index, or at other than two;
- E057: `det(A)` or `trace(A)` read at indices (both are scalars).
"""

from __future__ import annotations

from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.source import Span
from shapecheck.syntax import ast

# The name the hint gives a matrix defined from an expression: a capital, as
# matrices are written, and rarely one of a file's own arrays.
_DEFINED = "K"


def call_problem(
    func: str, arg: ast.Expr, indices: tuple[ast.Index, ...] | None, span: Span
) -> Diagnostic | None:
    """What is wrong with `func(arg)[indices]` as written (None: nothing)."""
    if not (isinstance(arg, ast.ArrayRef) and not arg.indices):
        return _not_a_name(func, arg, indices)
    shown = f"{func}({arg.name})"
    if func == "inv" and (indices is None or len(indices) != 2):
        message = (
            f"`{shown}` is a matrix and needs its two indices"
            if indices is None
            else f"`{shown}` takes two indices, not {len(indices)}"
        )
        return diagnostic(
            Code.E056,
            span,
            message,
            hints=[
                f"write `{shown}[i, j]`; `i` runs over the second size of {arg.name} "
                "and `j` over its first"
            ],
        )
    if func != "inv" and indices is not None:
        what = "determinant" if func == "det" else "trace"
        return diagnostic(
            Code.E057,
            span,
            f"`{shown}` is a scalar (the {what} of {arg.name}): it takes no indices",
            hints=[f"write `{shown}`"],
        )
    return None


def _not_a_name(func: str, arg: ast.Expr, indices: tuple[ast.Index, ...] | None) -> Diagnostic:
    """E055: the argument is an entry or an expression, not a matrix's name."""
    after = "[i, j]" if func == "inv" else ""
    if isinstance(arg, ast.ArrayRef):
        return diagnostic(
            Code.E055,
            arg.span,
            f"`{func}` takes the name of a matrix, not an entry of it",
            hints=[f"write `{func}({arg.name}){after}`: the function is of the whole matrix"],
        )
    once = _indices_written_once(arg)
    definition = (
        f"`{_DEFINED}[{', '.join(once)}] = {arg}`"
        if len(once) == 2
        else f"with its two indices, `{_DEFINED}[a, b] = …`"
    )
    return diagnostic(
        Code.E055,
        arg.span,
        f"`{func}` takes the name of a matrix, not an expression",
        hints=[
            f"define the matrix on a line above, {definition}, "
            f"then write `{func}({_DEFINED}){after}` (any new name will do)"
        ],
    )


def _indices_written_once(expr: ast.Expr) -> list[str]:
    """The index names written exactly once in `expr`, in order: where an
    index written twice is summed (rule 3), these are the defined matrix's."""
    counts: dict[str, int] = {}
    for node in ast.walk(expr):
        if isinstance(node, ast.ArrayRef | ast.Delta):
            for index in ast.leaf_indices(node.indices):
                if isinstance(index, ast.IndexName):
                    counts[index.name] = counts.get(index.name, 0) + 1
    return [name for name, count in counts.items() if count == 1]
