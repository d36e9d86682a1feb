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

from shapecheck.collector import collector_paused
from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.exhaustive import assert_never
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
    with collector_paused():
        for statement in program.statements:
            try:
                statements.extend(unroller.statement(statement, {}, ()))
            except _StatementError as error:
                unroller.problems.append(error.problem)
    unrolled = replace(program, statements=tuple(statements), loops=tuple(unroller.headers))
    return unrolled, unroller.problems


class _Unroller:
    """Walks the statements once, keeping the dims seen so far (for loop bounds)."""

    def __init__(self, size_overrides: dict[str, int]) -> None:
        self.dims: dict[str, int | None] = {}
        self.size_overrides = size_overrides
        self.problems: list[Diagnostic] = []
        self.produced = 0
        self.over_limit = False
        self.headers: list[ast.ForHeader] = []

    def statement(
        self, statement: ast.Statement, values: dict[str, int], loop: ast.LoopValues
    ) -> list[ast.Statement]:
        if isinstance(statement, ast.ForBlock):
            return self.block(statement, values, loop)
        if not values:
            self.note_dims(statement)
            _check_no_templates(statement)
            return [statement]
        produced = _substituted(statement, values, loop)
        self.note_dims(produced)
        return [produced]

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
                    Code.E101,
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
                    Code.E111,
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
                    Code.E111,
                    header.span,
                    f"`{header.var}` is already the variable of an enclosing `for`",
                    context=loop_context(loop),
                )
            )
        start = self.bound(header.start, loop, values)
        stop = self.bound(header.stop, loop, values)
        produced: list[ast.Statement] = []
        for value in _loop_range(header, start, stop, loop):
            inner_values = {**values, header.var: value}
            inner_loop = (*loop, (header.var, value))
            for statement in block.body:
                if self.produced > MAX_UNROLLED_STATEMENTS:
                    self._too_many(header)
                    return produced
                try:
                    made = self.statement(statement, inner_values, inner_loop)
                except _StatementError as error:
                    self.problems.append(error.problem)
                    continue
                self.produced += len(made)
                produced.extend(made)
        return produced

    def _too_many(self, header: ast.ForHeader) -> None:
        # Reported once, at the loop where the limit was crossed.
        if not self.over_limit:
            self.over_limit = True
            self.problems.append(
                diagnostic(
                    Code.E111,
                    header.span,
                    f"unrolling makes more than {MAX_UNROLLED_STATEMENTS:,} statements",
                    hints=["use fewer steps or fewer nested loops"],
                )
            )


def _loop_range(header: ast.ForHeader, start: int, stop: int, loop: ast.LoopValues) -> range:
    steps = stop - start + 1
    if steps < 1:
        raise _StatementError(
            diagnostic(
                Code.E111,
                header.span,
                f"the range {start}..{stop} is empty",
                hints=["ranges include both ends and count up: `1..3` is 1, 2, 3"],
                context=loop_context(loop),
            )
        )
    if steps > MAX_LOOP_STEPS:
        raise _StatementError(
            diagnostic(
                Code.E111,
                header.span,
                f"the range {start}..{stop} has {steps:,} steps; the limit is {MAX_LOOP_STEPS:,}",
                context=loop_context(loop),
            )
        )
    return range(start, stop + 1)


# ---- one statement with the loop values put in


def _substituted(
    statement: ast.LineStatement, values: dict[str, int], loop: ast.LoopValues
) -> ast.LineStatement:
    match statement:
        case ast.DimStmt():
            dims = tuple(
                replace(e, name=_name(e.name, e.span, values, loop)) for e in statement.entries
            )
            return replace(statement, entries=dims, loop=loop)
        case ast.DeclStmt():
            arrays = tuple(
                replace(e, name=_name(e.name, e.span, values, loop)) for e in statement.entries
            )
            return replace(statement, entries=arrays, loop=loop)
        case ast.DeriveStmt():
            targets = tuple(
                ast.DeriveTarget(
                    _name(t.of, t.span, values, loop), _name(t.wrt, t.span, values, loop), t.span
                )
                for t in statement.targets
            )
            return replace(statement, targets=targets, loop=loop)
        case ast.Definition():
            return ast.Definition(
                _name(statement.name, statement.name_span, values, loop),
                _indices(statement.indices, values),
                _expr(statement.rhs, values, loop),
                statement.span,
                statement.name_span,
                loop,
            )
        case ast.Claim():
            return ast.Claim(
                _name(statement.of, statement.name_span, values, loop),
                _name(statement.wrt, statement.name_span, values, loop),
                _indices(statement.indices, values),
                _expr(statement.rhs, values, loop),
                statement.span,
                statement.name_span,
                loop,
            )
        case ast.LayoutStmt():
            return replace(statement, loop=loop)
        case _:
            assert_never(statement)


def _expr(expr: ast.Expr, values: dict[str, int], loop: ast.LoopValues) -> ast.Expr:
    match expr:
        case ast.ArrayRef():
            name = _name(expr.name, expr.span, values, loop)
            return ast.ArrayRef(name, _indices(expr.indices, values), expr.span)
        case ast.Delta():
            return ast.Delta(_indices(expr.indices, values), expr.span)
        case ast.DerivRef():
            return ast.DerivRef(
                _name(expr.of, expr.span, values, loop),
                _name(expr.wrt, expr.span, values, loop),
                _indices(expr.indices, values),
                expr.span,
                expr.order,
            )
        case ast.Loss():
            return replace(expr, name=_name(expr.name, expr.name_span, values, loop))
        case ast.SumOver() | ast.MeanOver():
            _check_sum_binds(expr, values, loop)
            return _with_substituted_children(expr, values, loop)
        case ast.IndexedCall():
            _check_sum_binds(expr, values, loop)
            return _with_substituted_children(expr, values, loop)
        case ast.Number() | ast.SizeRef() | ast.IndexValue():
            return expr
        case ast.Call() | ast.Negate() | ast.Power() | ast.Product() | ast.Add():
            return _with_substituted_children(expr, values, loop)
        case ast.Extremum() | ast.Compare():
            return _with_substituted_children(expr, values, loop)
        case _:
            assert_never(expr)


def _with_substituted_children(
    expr: ast.Expr, values: dict[str, int], loop: ast.LoopValues
) -> ast.Expr:
    kids = tuple(_expr(k, values, loop) for k in ast.children(expr))
    return ast.with_children(expr, kids)


def _check_sum_binds(
    expr: ast.SumOver | ast.MeanOver | ast.IndexedCall,
    values: dict[str, int],
    loop: ast.LoopValues,
) -> None:
    # The bracket of `sum[j]` (or `mean[j]`, `softmax[j]`, ...) names an index;
    # a loop variable there would be a number.
    match expr:
        case ast.SumOver():
            code, words = Code.E206, "`sum` cannot bind it"
        case ast.MeanOver():
            code, words = Code.E216, "`mean` cannot bind it"
        case ast.IndexedCall():
            code, words = Code.E232, f"`{expr.func}` cannot run over it"
        case _:
            assert_never(expr)
    for index in expr.indices:
        if index.name in values:
            raise _StatementError(
                diagnostic(
                    code,
                    index.span,
                    f"`{index.name}` is the loop variable here; {words}",
                    context=loop_context(loop),
                )
            )


def _name(name: str, span: Span, values: dict[str, int], loop: ast.LoopValues) -> str:
    try:
        return expand_name(name, values)
    except _TemplateError as error:
        raise _StatementError(
            diagnostic(
                Code.E112, span, error.message, hints=[error.hint], context=loop_context(loop)
            )
        ) from None


def _index(index: ast.Index, values: dict[str, int]) -> ast.Index:
    if isinstance(index, ast.IndexName) and index.name in values:
        return ast.IndexLiteral(values[index.name], index.span)
    if isinstance(index, ast.IndexGather):
        # An integer array in a position: `y{t}[i]` names one per step.
        name = _name(index.name, index.span, values, ())
        return ast.IndexGather(name, _indices(index.indices, values), index.span)
    return index


def _indices(indices: tuple[ast.Index, ...], values: dict[str, int]) -> tuple[ast.Index, ...]:
    return tuple(_index(i, values) for i in indices)


# ---- templates outside any loop


def _check_no_templates(statement: ast.LineStatement) -> None:
    # Outside any loop a template is an error; expanding with no values
    # raises the right message.
    for name, span in _written_names(statement):
        if "{" in name:
            _name(name, span, {}, ())


def _written_names(statement: ast.LineStatement) -> list[tuple[str, Span]]:
    """Every name a statement writes, where it stands, in source order."""
    match statement:
        case ast.DimStmt() | ast.DeclStmt():
            return [(e.name, e.span) for e in statement.entries]
        case ast.DeriveStmt():
            return [(t.of + t.wrt, t.span) for t in statement.targets]
        case ast.Definition():
            return [(statement.name, statement.name_span), *_names_in(statement.rhs)]
        case ast.Claim():
            return [(statement.of + statement.wrt, statement.name_span), *_names_in(statement.rhs)]
        case ast.LayoutStmt():
            return []
        case _:
            assert_never(statement)


def _names_in(expr: ast.Expr) -> list[tuple[str, Span]]:
    names: list[tuple[str, Span]] = []
    for node in ast.walk(expr):
        match node:
            case ast.ArrayRef():
                names.append((node.name, node.span))
            case ast.DerivRef():
                names.append((node.of + node.wrt, node.span))
            case ast.Loss():
                names.append((node.name, node.name_span))
            case ast.Number() | ast.Delta() | ast.Call() | ast.SumOver() | ast.Negate():
                pass
            case ast.SizeRef() | ast.MeanOver() | ast.IndexedCall():
                pass
            case ast.Power() | ast.Product() | ast.Add():
                pass
            case ast.Extremum() | ast.Compare() | ast.IndexValue():
                pass
            case _:
                assert_never(node)
    return names
