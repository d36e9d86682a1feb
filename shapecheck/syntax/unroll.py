"""Unroll `for` blocks (spec section 7) before checking.

`for t in 1..3:` repeats its indented body with `t` = 1, 2, 3: `{t}`, `{t-1}`,
`{t+1}` inside a name become the number, and an index written `t` becomes the
literal index. Each produced statement keeps the spans of the line it came
from and records the loop values in `loop`, so that every later diagnostic can
name both the line and the value of `t`.
"""

from __future__ import annotations

import re
from dataclasses import field, replace
from fractions import Fraction
from typing import TYPE_CHECKING

from shapecheck.collector import collector_paused
from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.exhaustive import assert_never
from shapecheck.source import Span
from shapecheck.syntax import ast

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass

MAX_LOOP_STEPS = 10_000
MAX_UNROLLED_STATEMENTS = 50_000
# Expression nodes all `sum[t in A..B]` of a file may make (steps × body size):
# nested sums multiply, and a long body repeated 10,000 times is large too.
MAX_RANGE_NODES = 1_000_000

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
    """A statement that cannot be unrolled; `problem` is None where the same
    problem was reported already (at another step of the same line)."""

    def __init__(self, problem: Diagnostic | None) -> None:
        super().__init__(problem.message if problem else "reported already")
        self.problem = problem


@dataclass
class _Ranges:
    """What expanding `sum[t in A..B]` needs beyond the loop values: the dims
    with their values (bounds), the names that exist so far (every unrolled
    name must), the statement being expanded (its indices may not be `t`),
    and how many expression nodes its expansions made (bounded like `for`)."""

    dims: dict[str, int | None] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    statement: ast.LineStatement | None = None
    nodes: int = 0
    # Where a problem that does not depend on the loop values was reported.
    reported: set[Span] = field(default_factory=set)
    # The variables of the range sums around the expression being substituted.
    enclosing: list[str] = field(default_factory=list)


def unroll(
    program: ast.Program, size_overrides: dict[str, int] | None = None
) -> tuple[ast.Program, list[Diagnostic]]:
    """A program with every `for` block replaced by its unrolled statements."""
    unroller = _Unroller(size_overrides or {})
    unroller.ranges.known.update(program.unparsed_names)
    statements: list[ast.Statement] = []
    with collector_paused():
        for statement in program.statements:
            try:
                statements.extend(unroller.statement(statement, {}, ()))
            except _StatementError as error:
                unroller.report(error)
    unrolled = replace(
        program,
        statements=tuple(statements),
        loops=tuple(unroller.headers),
        unparsed_names=(*program.unparsed_names, *unroller.dropped),
    )
    return unrolled, unroller.problems


def _size_value(expr: ast.SizeExpr, dims: dict[str, int | None]) -> int | None:
    """A computed dim's value where every dim it names has one (a loop bound);
    None otherwise, and where it is no whole size (the checker words why)."""

    def leaf(node: ast.SizeNumber | ast.SizeDim) -> Fraction | None:
        if isinstance(node, ast.SizeDim):
            value = dims.get(node.name)
            return None if value is None else Fraction(value)
        return Fraction(node.value) if float(node.value).is_integer() else None

    def arith(
        node: ast.SizeArith, left: Fraction | None, right: Fraction | None
    ) -> Fraction | None:
        if left is None or right is None or max(abs(left), abs(right)) > 2**64:
            return None
        match node.op:
            case "+":
                return left + right
            case "-":
                return left - right
            case "*":
                return left * right
            case "/":
                return None if right == 0 else left / right
            case _:
                if right.denominator != 1 or not 0 <= right <= 64:
                    return None
                return left ** int(right)

    def negate(node: ast.SizeNeg, operand: Fraction | None) -> Fraction | None:
        return None if operand is None else -operand

    value = ast.fold_size(expr, leaf, arith, negate)
    return int(value) if value is not None and value.denominator == 1 and value >= 1 else None


class _Unroller:
    """Walks the statements once, keeping the dims seen so far (for loop bounds)."""

    def __init__(self, size_overrides: dict[str, int]) -> None:
        self.ranges = _Ranges()
        self.dims = self.ranges.dims
        self.size_overrides = size_overrides
        # Names of statements a `sum[t in A..B]` error dropped: their uses
        # are not reported again as unknown.
        self.dropped: list[str] = []
        self.problems: list[Diagnostic] = []
        self.produced = 0
        self.over_limit = False
        self.headers: list[ast.ForHeader] = []

    def statement(
        self, statement: ast.Statement, values: dict[str, int], loop: ast.LoopValues
    ) -> list[ast.Statement]:
        if isinstance(statement, ast.ForBlock):
            return self.block(statement, values, loop)
        has_ranges = _has_range_sums(statement)
        if not values and not has_ranges:
            self.note_dims(statement)
            _check_no_templates(statement)
            return [statement]
        self.ranges.statement = statement
        try:
            produced = _substituted(statement, values, loop, self.ranges)
        except _StatementError:
            if has_ranges and isinstance(statement, ast.Definition):
                self.dropped.append(_name(statement.name, statement.name_span, values, loop))
            raise
        self.note_dims(produced)
        return [produced]

    def report(self, error: _StatementError) -> None:
        if error.problem is not None:
            self.problems.append(error.problem)

    def note_dims(self, statement: ast.Statement) -> None:
        """Record the names a statement declares or defines (and dims' values)."""
        match statement:
            case ast.DeclStmt():
                self.ranges.known.update(e.name for e in statement.entries)
            case ast.Definition():
                self.ranges.known.add(statement.name)
            case ast.DimStmt():
                self.ranges.known.update(e.name for e in statement.entries)
            case _:
                pass
        if isinstance(statement, ast.DimStmt):
            for entry in statement.entries:
                if entry.size is not None:
                    self.dims[entry.name] = _size_value(entry.size, self.dims)
                    continue
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
                    self.report(error)
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
    statement: ast.LineStatement, values: dict[str, int], loop: ast.LoopValues, ranges: _Ranges
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
        case ast.FnStmt():
            functions = tuple(
                replace(f, name=_name(f.name, f.span, values, loop)) for f in statement.names
            )
            return replace(statement, names=functions, loop=loop)
        case ast.DeriveStmt():
            # `replace` keeps every other field (a second derivative's order).
            targets = tuple(
                replace(
                    t, of=_name(t.of, t.span, values, loop), wrt=_name(t.wrt, t.span, values, loop)
                )
                for t in statement.targets
            )
            return replace(statement, targets=targets, loop=loop)
        case ast.Definition():
            return ast.Definition(
                _name(statement.name, statement.name_span, values, loop),
                _indices(statement.indices, values),
                _expr(statement.rhs, values, loop, ranges),
                statement.span,
                statement.name_span,
                loop,
            )
        case ast.Claim():
            return replace(
                statement,
                of=_name(statement.of, statement.name_span, values, loop),
                wrt=_name(statement.wrt, statement.name_span, values, loop),
                indices=_indices(statement.indices, values),
                rhs=_expr(statement.rhs, values, loop, ranges),
                loop=loop,
            )
        case ast.LayoutStmt():
            return replace(statement, loop=loop)
        case _:
            assert_never(statement)


def _expr(
    expr: ast.Expr, values: dict[str, int], loop: ast.LoopValues, ranges: _Ranges
) -> ast.Expr:
    match expr:
        case ast.ArrayRef():
            if not expr.indices and expr.name in values:
                # A bare loop variable in arithmetic (`0.9^t`) is the number.
                value = values[expr.name]
                return ast.Number(float(value), str(value), expr.span)
            name = _existing(expr.name, expr.span, values, loop, ranges)
            reference = ast.ArrayRef(name, _indices(expr.indices, values), expr.span)
            return _selections_substituted(reference, values, loop, ranges)
        case ast.Delta():
            delta = ast.Delta(_indices(expr.indices, values), expr.span)
            return _selections_substituted(delta, values, loop, ranges)
        case ast.DerivRef():
            derivative = ast.DerivRef(
                _existing(expr.of, expr.span, values, loop, ranges),
                _existing(expr.wrt, expr.span, values, loop, ranges),
                _indices(expr.indices, values),
                expr.span,
                expr.order,
            )
            return _selections_substituted(derivative, values, loop, ranges)
        case ast.Loss():
            name = _existing(expr.name, expr.name_span, values, loop, ranges)
            return replace(expr, name=name)
        case ast.OpaqueCall():
            func = _name(expr.func, expr.span, values, loop)
            return replace(expr, func=func, arg=_expr(expr.arg, values, loop, ranges))
        case ast.MatrixCall():
            name = _existing(expr.name, expr.name_span, values, loop, ranges)
            return replace(expr, name=name, indices=_indices(expr.indices, values))
        case ast.SumOver() | ast.MeanOver():
            _check_sum_binds(expr, values, loop)
            return _with_substituted_children(expr, values, loop, ranges)
        case ast.IndexedCall():
            _check_sum_binds(expr, values, loop)
            return _with_substituted_children(expr, values, loop, ranges)
        case ast.RangeSum():
            return _expanded(expr, values, loop, ranges)
        case ast.Number() | ast.SizeRef() | ast.IndexValue():
            return expr
        case ast.Call() | ast.Negate() | ast.Power() | ast.Product() | ast.Add():
            return _with_substituted_children(expr, values, loop, ranges)
        case ast.Extremum() | ast.Compare():
            return _with_substituted_children(expr, values, loop, ranges)
        case _:
            assert_never(expr)


def _selections_substituted(
    expr: ast.ArrayRef | ast.Delta | ast.DerivRef,
    values: dict[str, int],
    loop: ast.LoopValues,
    ranges: _Ranges,
) -> ast.Expr:
    # `argmax[j](e)` standing in a position is a sub-expression: its templates
    # and range sums are substituted like any other.
    calls = ast.selections(expr.indices)
    if not calls:
        return expr
    return ast.with_children(expr, tuple(_expr(c, values, loop, ranges) for c in calls))


def _with_substituted_children(
    expr: ast.Expr, values: dict[str, int], loop: ast.LoopValues, ranges: _Ranges
) -> ast.Expr:
    kids = tuple(_expr(k, values, loop, ranges) for k in ast.children(expr))
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
    if isinstance(index, ast.IndexExpr):
        # `x[t + 1]` inside a loop: `t` is the number there too (spec 7), and
        # a part left with numbers only is that number (`x[3]`, not `x[2 + 1]`).
        tree = _tree(index.tree, values)
        if isinstance(tree, ast.IndexLiteral) and tree.value >= 1:
            return tree
        return ast.IndexExpr(tree, index.span)
    return index


def _tree(tree: ast.IndexTree, values: dict[str, int]) -> ast.IndexTree:
    match tree:
        case ast.IndexArith():
            left, right = _tree(tree.left, values), _tree(tree.right, values)
            if isinstance(left, ast.IndexLiteral) and isinstance(right, ast.IndexLiteral):
                value = {"+": left.value + right.value, "-": left.value - right.value}.get(
                    tree.op, left.value * right.value
                )
                if value >= 1:
                    return ast.IndexLiteral(value, tree.span)
            return replace(tree, left=left, right=right)
        case ast.IndexNeg():
            return replace(tree, operand=_tree(tree.operand, values))
        case ast.IndexName() | ast.IndexGather():
            index = _index(tree, values)
            assert isinstance(index, ast.IndexName | ast.IndexLiteral | ast.IndexGather)
            return index
        case ast.IndexLiteral() | ast.IndexSelect() | ast.IndexSize():
            return tree
        case _:
            assert_never(tree)


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
        case ast.FnStmt():
            return [(f.name, f.span) for f in statement.names]
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
            case ast.Loss() | ast.MatrixCall():
                names.append((node.name, node.name_span))
            case ast.OpaqueCall():
                names.append((node.func, node.span))
            case ast.Number() | ast.Delta() | ast.Call() | ast.SumOver() | ast.Negate():
                pass
            case ast.SizeRef() | ast.MeanOver() | ast.IndexedCall() | ast.RangeSum():
                pass
            case ast.Power() | ast.Product() | ast.Add():
                pass
            case ast.Extremum() | ast.Compare() | ast.IndexValue():
                pass
            case _:
                assert_never(node)
    return names


# ---- sum[t in A..B](body)


def _has_range_sums(statement: ast.Statement) -> bool:
    if isinstance(statement, ast.Definition | ast.Claim):
        return any(isinstance(node, ast.RangeSum) for node in ast.walk(statement.rhs))
    return False


def _expanded(
    expr: ast.RangeSum, values: dict[str, int], loop: ast.LoopValues, ranges: _Ranges
) -> ast.Expr:
    """The parenthesised sum of the body for t = A..B; an empty range is 0."""
    _check_range_var(expr, values, loop, ranges)
    start = _range_bound(expr.start, values, loop, ranges)
    stop = _range_bound(expr.stop, values, loop, ranges)
    steps = stop - start + 1
    if steps > MAX_LOOP_STEPS:
        raise _StatementError(
            diagnostic(
                Code.E111,
                expr.span,
                f"the range {start}..{stop} has {steps:,} steps; the limit is {MAX_LOOP_STEPS:,}",
                context=loop_context(loop),
            )
        )
    if steps < 1:
        return ast.Number(0.0, "0", expr.span)
    ranges.nodes += steps * sum(1 for _ in ast.walk(expr.body))
    if ranges.nodes > MAX_RANGE_NODES:
        raise _StatementError(
            diagnostic(
                Code.E111,
                expr.span,
                f"expanding `sum[{expr.var} in ...]` makes more than "
                f"{MAX_RANGE_NODES:,} expression nodes in this file",
                hints=["use fewer steps or fewer nested sums"],
                context=loop_context(loop),
            )
        )
    terms: list[ast.Term] = []
    ranges.enclosing.append(expr.var)
    try:
        for value in range(start, stop + 1):
            inner_values = {**values, expr.var: value}
            body = _expr(expr.body, inner_values, (*loop, (expr.var, value)), ranges)
            # A parenthesised sum: a body that is itself a sum adds its terms.
            terms.extend(body.terms if isinstance(body, ast.Add) else [ast.Term("+", body)])
    finally:
        ranges.enclosing.pop()
    if len(terms) == 1:
        return terms[0].expr
    return ast.Add(tuple(terms), expr.span)


def _range_bound(
    bound: ast.RangeBound, values: dict[str, int], loop: ast.LoopValues, ranges: _Ranges
) -> int:
    if bound.name is None:
        assert bound.value is not None
        return bound.value
    if bound.name in values:
        return values[bound.name] + bound.offset
    if bound.name not in ranges.dims:
        raise _StatementError(
            diagnostic(
                Code.E101,
                bound.span,
                f"unknown name `{bound.name}` in a range bound",
                hints=[
                    "a range bound is a whole number, a `dim` declared above with a value, "
                    "or the variable of an enclosing `for` (`1..t-1`)"
                ],
                context=loop_context(loop),
            )
        )
    value = ranges.dims[bound.name]
    if value is None:
        raise _StatementError(
            diagnostic(
                Code.E111,
                bound.span,
                f"`{bound.name}` has no value, so the number of steps is unknown",
                hints=[f"give it one: `dim {bound.name} = 3`"],
                context=loop_context(loop),
            )
        )
    return value + bound.offset


def _check_range_var(
    expr: ast.RangeSum, values: dict[str, int], loop: ast.LoopValues, ranges: _Ranges
) -> None:
    var = expr.var
    if var in values and var not in ranges.enclosing:
        # The same at every step of the loop: reported once, with no step.
        if expr.var_span in ranges.reported:
            raise _StatementError(None)
        ranges.reported.add(expr.var_span)
        loop = ()
        problem = f"`{var}` is already the variable of an enclosing `for`"
        hint = "name the steps of this sum differently: `sum[s in ...]`"
    elif var in values:
        problem = f"`{var}` is already the variable of an enclosing `sum`"
        hint = "name the steps of this sum differently: `sum[s in ...]`"
    elif var in ranges.known:
        problem = f"`{var}` already names a dim or an array"
        hint = f"inside the sum `{var}` would be the step's number; name the steps differently"
    elif var in _statement_indices(ranges.statement, var):
        problem = f"`{var}` is also an index of this statement"
        hint = "the steps of `sum[t in A..B]` are numbers, not an index; name them differently"
    else:
        return
    raise _StatementError(
        diagnostic(Code.E150, expr.var_span, problem, hints=[hint], context=loop_context(loop))
    )


def _statement_indices(statement: ast.LineStatement | None, var: str) -> set[str]:
    """The index names of a statement outside the bodies of the sums over `var`."""
    if not isinstance(statement, ast.Definition | ast.Claim):
        return set()
    names = {i.name for i in ast.leaf_indices(statement.indices) if isinstance(i, ast.IndexName)}
    stack: list[ast.Expr] = [statement.rhs]
    while stack:
        node = stack.pop()
        match node:
            case ast.RangeSum() if node.var == var:
                continue
            case ast.ArrayRef() | ast.Delta() | ast.DerivRef():
                names.update(
                    i.name for i in ast.leaf_indices(node.indices) if isinstance(i, ast.IndexName)
                )
            case ast.SumOver() | ast.MeanOver() | ast.IndexedCall():
                names.update(i.name for i in node.indices)
            case _:
                pass
        stack.extend(ast.children(node))
    return names


def _existing(
    written: str, span: Span, values: dict[str, int], loop: ast.LoopValues, ranges: _Ranges
) -> str:
    """The unrolled name of `written`; inside a range body it must exist (spec 9.4)."""
    name = _name(written, span, values, loop)
    if not ranges.enclosing or name == written or name in ranges.known:
        return name
    raise _StatementError(
        diagnostic(
            Code.E101,
            span,
            f"unknown name `{name}`",
            hints=[
                f"`{written}` is `{name}` at this step: declare or define `{name}` above "
                "this line, or change the range"
            ],
            context=loop_context(loop),
        )
    )
