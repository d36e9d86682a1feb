"""Check, derivative spellings: `dA/dB` where `dA` or `dB` also names something (spec 9.6).

`dA/dB` with no spaces is always the derivative of A with respect to B
(`dL/dout` is with respect to `out`, `dL/ddout` with respect to `dout`).
Where the file also has an array or a dim named `dA` or `dB`, the reader
may have meant the other spelling, so every derivative reference (in a
`derive`, a claim's left side or a right-hand side) gets a warning, W115,
that shows both: `dA / dB` for the division, `ddA/dB` for the derivative
of `dA`; for `d2A/dB2` the names are `d2A` and `dB2`, the operands of the
division `d2A / dB2`. The checker's driver calls `report_spellings` once, after every
statement is checked, so that names defined below a reference count too.
"""

from __future__ import annotations

from collections.abc import Iterator

from shapecheck.check.scope import FileScope
from shapecheck.diagnostics import Code
from shapecheck.exhaustive import assert_never
from shapecheck.source import Span
from shapecheck.syntax import ast

# A derivative reference as written: A, B, its order, where it stands, its statement.
_Reference = tuple[str, str, int, Span, ast.Statement]


def report_spellings(file: FileScope) -> None:
    """W115 for each derivative reference whose `dA` or `dB` is also a name of the file."""
    names = {*file.names.everywhere, *file.names.dims}
    for of, wrt, order, span, statement in _references(file.program.statements):
        if order == 2:
            _second_order(file, of, wrt, span, statement, names)
            continue
        if f"d{of}" not in names and f"d{wrt}" not in names:
            continue
        file.error(
            Code.W115,
            span,
            f"`d{of}/d{wrt}` is the derivative of `{of}` with respect to `{wrt}`, "
            f"and `{_also(of, wrt, names)}` is also a name of this file",
            statement,
            hints=_other_spellings(of, wrt, names),
        )


def _second_order(
    file: FileScope, of: str, wrt: str, span: Span, statement: ast.Statement, names: set[str]
) -> None:
    """`d2A/dB2` where `d2A` or `dB2` names something: the division's operands."""
    top, bottom = f"d2{of}", f"d{wrt}2"
    if top not in names and bottom not in names:
        return
    file.error(
        Code.W115,
        span,
        f"`{top}/{bottom}` is the second derivative of `{of}` with respect to `{wrt}`, "
        f"and `{top if top in names else bottom}` is also a name of this file",
        statement,
        hints=[f"to divide `{top}` by `{bottom}`, write `{top} / {bottom}` with spaces"],
    )


def _also(of: str, wrt: str, names: set[str]) -> str:
    return f"d{of}" if f"d{of}" in names else f"d{wrt}"


def _other_spellings(of: str, wrt: str, names: set[str]) -> list[str]:
    hints = []
    if f"d{of}" in names:
        hints.append(f"to divide `d{of}` by `d{wrt}`, write `d{of} / d{wrt}` with spaces")
        hints.append(f"for the derivative of `d{of}`, write `dd{of}/d{wrt}`")
    if f"d{wrt}" in names:
        hints.append(f"for the derivative with respect to `d{wrt}`, write `d{of}/dd{wrt}`")
    return hints


def _references(statements: tuple[ast.Statement, ...]) -> Iterator[_Reference]:
    for statement in statements:
        match statement:
            case ast.DeriveStmt():
                for target in statement.targets:
                    yield target.of, target.wrt, target.order, target.span, statement
            case ast.Claim():
                yield statement.of, statement.wrt, statement.order, statement.name_span, statement
                yield from _in_expression(statement.rhs, statement)
            case ast.Definition():
                yield from _in_expression(statement.rhs, statement)
            case ast.ForBlock():
                yield from _references(statement.body)
            case ast.DimStmt() | ast.DeclStmt() | ast.FnStmt() | ast.LayoutStmt():
                pass
            case _:
                assert_never(statement)


def _in_expression(expr: ast.Expr, statement: ast.Statement) -> Iterator[_Reference]:
    for node in ast.walk(expr):
        if isinstance(node, ast.DerivRef):
            yield node.of, node.wrt, node.order, node.span, statement
