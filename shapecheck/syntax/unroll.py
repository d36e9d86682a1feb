"""Unroll `for` blocks (spec section 7) before checking.

`for t in 1..3:` repeats its indented body with `t` = 1, 2, 3: `{t}`, `{t-1}`,
`{t+1}` inside a name become the number, and an index written `t` becomes the
literal index. Each produced statement keeps the spans of the line it came
from and records the loop values in `loop`, so that every later diagnostic can
name both the line and the value of `t`.
"""

from __future__ import annotations

import re
from dataclasses import replace

from shapecheck.diagnostics import Diagnostic, diagnostic
from shapecheck.source import Span
from shapecheck.syntax import ast

MAX_LOOP_STEPS = 10_000
MAX_UNROLLED_STATEMENTS = 50_000

_TEMPLATE = re.compile(r"\{([^{}]*)\}")
_TEMPLATE_BODY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:([+-])\s*(\d+))?\s*$")


class _TemplateError(Exception):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def loop_context(loop: ast.LoopValues) -> str | None:
    """Words naming the loop values of an unrolled statement, e.g. `with t = 2`."""
    if not loop:
        return None
    return "unrolled with " + ", ".join(f"{var} = {value}" for var, value in loop)


def expand_name(name: str, values: dict[str, int]) -> str:
    """`s{t-1}` with t = 3 is `s2`; raises _TemplateError for a bad template."""
    if "{" not in name:
        return name

    def substitute(match: re.Match[str]) -> str:
        body = _TEMPLATE_BODY.match(match.group(1))
        if body is None:
            raise _TemplateError(
                f"`{{{match.group(1)}}}` is not a loop template",
                "write `{t}`, `{t-1}` or `{t+1}`",
            )
        var, sign, amount = body.groups()
        if var not in values:
            raise _TemplateError(
                f"`{var}` in `{name}` is not the variable of an enclosing `for`",
                "templates like `x{t}` may only stand inside `for t in ...:`",
            )
        value = values[var] + (int(amount) if sign == "+" else -int(amount) if sign else 0)
        if value < 0:
            raise _TemplateError(
                f"`{name}` would be numbered {value} at {var} = {values[var]}",
                "start the loop later, or declare the initial value under the number 0",
            )
        return str(value)

    return _TEMPLATE.sub(substitute, name)


class _Unroller:
    def __init__(self, size_overrides: dict[str, int]) -> None:
        self.dims: dict[str, int | None] = {}
        self.size_overrides = size_overrides
        self.problems: list[Diagnostic] = []
        self.produced = 0
        self.over_limit = False
        self.headers: list[ast.ForHeader] = []

    # ---- names and indices
    def name(self, name: str, span: Span, values: dict[str, int], loop: ast.LoopValues) -> str:
        try:
            return expand_name(name, values)
        except _TemplateError as error:
            raise _StatementError(
                diagnostic(
                    "E112", span, error.message, hints=[error.hint], context=loop_context(loop)
                )
            ) from None

    def index(self, index: ast.Index, values: dict[str, int]) -> ast.Index:
        if isinstance(index, ast.IndexName) and index.name in values:
            return ast.IndexLiteral(values[index.name], index.span)
        return index

    def indices(
        self, indices: tuple[ast.Index, ...], values: dict[str, int]
    ) -> tuple[ast.Index, ...]:
        return tuple(self.index(i, values) for i in indices)

    def expr(self, expr: ast.Expr, values: dict[str, int], loop: ast.LoopValues) -> ast.Expr:
        if isinstance(expr, ast.ArrayRef):
            return ast.ArrayRef(
                self.name(expr.name, expr.span, values, loop),
                self.indices(expr.indices, values),
                expr.span,
            )
        if isinstance(expr, ast.Delta):
            return ast.Delta(self.indices(expr.indices, values), expr.span)
        if isinstance(expr, ast.DerivRef):
            return ast.DerivRef(
                self.name(expr.of, expr.span, values, loop),
                self.name(expr.wrt, expr.span, values, loop),
                self.indices(expr.indices, values),
                expr.span,
            )
        if isinstance(expr, ast.Loss):
            return replace(expr, name=self.name(expr.name, expr.name_span, values, loop))
        if isinstance(expr, ast.SumOver):
            for index in expr.indices:
                if index.name in values:
                    raise _StatementError(
                        diagnostic(
                            "E206",
                            index.span,
                            f"`{index.name}` is the loop variable here; `sum` cannot bind it",
                            context=loop_context(loop),
                        )
                    )
        kids = ast.children(expr)
        if not kids:
            return expr
        return ast.with_children(expr, tuple(self.expr(k, values, loop) for k in kids))

    # ---- statements
    def statement(
        self, statement: ast.Statement, values: dict[str, int], loop: ast.LoopValues
    ) -> list[ast.Statement]:
        if isinstance(statement, ast.ForBlock):
            return self.block(statement, values, loop)
        if not values:
            self.note_dims(statement)
            self.check_no_templates(statement)
            return [statement]
        produced: ast.Statement
        if isinstance(statement, ast.DimStmt):
            dims = tuple(
                replace(e, name=self.name(e.name, e.span, values, loop)) for e in statement.entries
            )
            produced = replace(statement, entries=dims, loop=loop)
        elif isinstance(statement, ast.DeclStmt):
            arrays = tuple(
                replace(e, name=self.name(e.name, e.span, values, loop)) for e in statement.entries
            )
            produced = replace(statement, entries=arrays, loop=loop)
        elif isinstance(statement, ast.DeriveStmt):
            produced = replace(
                statement,
                targets=tuple(
                    ast.DeriveTarget(
                        self.name(t.of, t.span, values, loop),
                        self.name(t.wrt, t.span, values, loop),
                        t.span,
                    )
                    for t in statement.targets
                ),
                loop=loop,
            )
        elif isinstance(statement, ast.Definition):
            produced = ast.Definition(
                self.name(statement.name, statement.name_span, values, loop),
                self.indices(statement.indices, values),
                self.expr(statement.rhs, values, loop),
                statement.span,
                statement.name_span,
                loop,
            )
        elif isinstance(statement, ast.Claim):
            produced = ast.Claim(
                self.name(statement.of, statement.name_span, values, loop),
                self.name(statement.wrt, statement.name_span, values, loop),
                self.indices(statement.indices, values),
                self.expr(statement.rhs, values, loop),
                statement.span,
                statement.name_span,
                loop,
            )
        else:
            produced = replace(statement, loop=loop)
        self.note_dims(produced)
        return [produced]

    def check_no_templates(self, statement: ast.Statement) -> None:
        # Outside any loop a template is an error; expanding with no values
        # raises the right message.
        self.statement_names(statement)

    def statement_names(self, statement: ast.Statement) -> None:
        names: list[tuple[str, Span]] = []
        if isinstance(statement, ast.DimStmt | ast.DeclStmt):
            names = [(e.name, e.span) for e in statement.entries]
        elif isinstance(statement, ast.DeriveStmt):
            names = [(t.of + t.wrt, t.span) for t in statement.targets]
        elif isinstance(statement, ast.Definition | ast.Claim):
            if isinstance(statement, ast.Definition):
                names.append((statement.name, statement.name_span))
            else:
                names.append((statement.of + statement.wrt, statement.name_span))
            for node in ast.walk(statement.rhs):
                if isinstance(node, ast.ArrayRef):
                    names.append((node.name, node.span))
                elif isinstance(node, ast.DerivRef):
                    names.append((node.of + node.wrt, node.span))
                elif isinstance(node, ast.Loss):
                    names.append((node.name, node.name_span))
        for name, span in names:
            if "{" in name:
                self.name(name, span, {}, ())

    def note_dims(self, statement: ast.Statement) -> None:
        if isinstance(statement, ast.DimStmt):
            for entry in statement.entries:
                value = self.size_overrides.get(entry.name, entry.value)
                self.dims[entry.name] = (
                    int(value)
                    if isinstance(value, int | float)
                    and float(value).is_integer()
                    and value < 2**63
                    else None
                )

    def bound(self, bound: ast.Bound, loop: ast.LoopValues, values: dict[str, int]) -> int:
        if bound.name is None:
            assert bound.value is not None
            return bound.value
        if bound.name in values:
            return values[bound.name]
        if bound.name not in self.dims:
            raise _StatementError(
                diagnostic(
                    "E101",
                    bound.span,
                    f"unknown name `{bound.name}` in a loop bound",
                    hints=["a loop bound is a whole number or a `dim` declared above with a value"],
                    context=loop_context(loop),
                )
            )
        value = self.dims[bound.name]
        if value is None:
            raise _StatementError(
                diagnostic(
                    "E111",
                    bound.span,
                    f"`{bound.name}` has no value, so the loop's length is unknown",
                    hints=[f"give it one: `dim {bound.name} = 3`"],
                    context=loop_context(loop),
                )
            )
        return value

    def block(
        self, block: ast.ForBlock, values: dict[str, int], loop: ast.LoopValues
    ) -> list[ast.Statement]:
        header = block.header
        self.headers.append(header)
        if header.var in values:
            raise _StatementError(
                diagnostic(
                    "E111",
                    header.span,
                    f"`{header.var}` is already the variable of an enclosing `for`",
                    context=loop_context(loop),
                )
            )
        start = self.bound(header.start, loop, values)
        stop = self.bound(header.stop, loop, values)
        steps = stop - start + 1
        if steps < 1:
            raise _StatementError(
                diagnostic(
                    "E111",
                    header.span,
                    f"the range {start}..{stop} is empty",
                    hints=["ranges include both ends and count up: `1..3` is 1, 2, 3"],
                    context=loop_context(loop),
                )
            )
        if steps > MAX_LOOP_STEPS:
            raise _StatementError(
                diagnostic(
                    "E111",
                    header.span,
                    f"the range {start}..{stop} has {steps:,} steps; the limit is "
                    f"{MAX_LOOP_STEPS:,}",
                    context=loop_context(loop),
                )
            )
        produced: list[ast.Statement] = []
        for value in range(start, stop + 1):
            inner_values = {**values, header.var: value}
            inner_loop = (*loop, (header.var, value))
            for statement in block.body:
                if self.produced > MAX_UNROLLED_STATEMENTS:
                    if not self.over_limit:
                        self.over_limit = True
                        self.problems.append(
                            diagnostic(
                                "E111",
                                header.span,
                                f"unrolling makes more than {MAX_UNROLLED_STATEMENTS:,} statements",
                                hints=["use fewer steps or fewer nested loops"],
                            )
                        )
                    return produced
                try:
                    made = self.statement(statement, inner_values, inner_loop)
                except _StatementError as error:
                    self.problems.append(error.problem)
                    continue
                self.produced += len(made)
                produced.extend(made)
        return produced


class _StatementError(Exception):
    def __init__(self, problem: Diagnostic) -> None:
        super().__init__(problem.message)
        self.problem = problem


def unroll(
    program: ast.Program, size_overrides: dict[str, int] | None = None
) -> tuple[ast.Program, list[Diagnostic]]:
    """A program with every `for` block replaced by its unrolled statements."""
    unroller = _Unroller(size_overrides or {})
    statements: list[ast.Statement] = []
    for statement in program.statements:
        try:
            statements.extend(unroller.statement(statement, {}, ()))
        except _StatementError as error:
            unroller.problems.append(error.problem)
    unrolled = replace(program, statements=tuple(statements), loops=tuple(unroller.headers))
    return unrolled, unroller.problems
