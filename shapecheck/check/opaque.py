"""Check, opaque functions: `fn f, g` and the calls `f(e)`, `f'(e)` (spec 9.5).

An `fn` statement introduces names in the one namespace of arrays and dims
(a clash is E102, as for any declaration). A call names a function declared
above it (E103 otherwise; E101 for a step `f7` of a template `fn f{t}` that
no loop step declares); its argument follows the index rules as the
argument of any element-wise function does. A function's name standing
where an array must (`f[i]`, `y = f`, `derive df/dx`) is E165; one that
nothing calls is W101 (`requests.report_unused`).
"""

from __future__ import annotations

from shapecheck.check.scope import FileScope, StatementScope, introduce
from shapecheck.diagnostics import Code, Label
from shapecheck.source import Span
from shapecheck.syntax import ast


def check_fn(file: FileScope, statement: ast.FnStmt) -> None:
    """`fn f, g`: each name new in the file's one namespace."""
    for entry in statement.names:
        if introduce(file, entry.name, entry.span, statement):
            file.names.functions[entry.name] = entry.span
        else:
            file.names.failed.add(entry.name)


def visit_opaque_call(scope: StatementScope, node: ast.OpaqueCall) -> None:
    """`f(e)`: `f` declared with `fn` above this statement."""
    names = scope.names
    if node.func in names.functions:
        names.used.add(node.func)
    elif node.func in names.failed:
        scope.poisoned = True  # its own declaration is reported already
    elif node.func not in names.everywhere_functions:
        # Only a step name of a template `fn f{t}` parses as a call without
        # being declared: `f7'(x)` where the loop declares f1 and f2.
        steps = ", ".join(f"`{name}`" for name in sorted(names.everywhere_functions))
        scope.error(
            Code.E101,
            _name_span(node),
            f"unknown function `{node.func}`: no `fn` statement declares it",
            hints=[f"the functions this file declares are {steps}"],
        )
    else:
        declared = names.everywhere_functions[node.func]
        scope.error(
            Code.E103,
            _name_span(node),
            f"the function `{node.func}` is used before its declaration",
            labels=[Label(declared, f"`fn {node.func}` is declared here")],
            hints=["move the `fn` statement above its first use"],
        )


def _name_span(node: ast.OpaqueCall) -> Span:
    return Span(node.span.start, node.span.start + len(node.func) + node.order)


def report_function_target(
    file: FileScope, name: str, span: Span, written: str, statement: ast.Statement
) -> bool:
    """E165 for `derive df/dx` or a claim `df/dx = ...` naming a function; whether it did."""
    if name not in file.names.everywhere_functions:
        return False
    file.error(
        Code.E165,
        span,
        f"`{name}` is a function (`fn`), not an array: `{written}` is not a derivative",
        statement,
        hints=[
            f"derive an array that applies it: `y[i] = {name}(x[i])`, then `dy/dx`; "
            f"its derivative is written `{name}'(x[i])`"
        ],
    )
    return True
