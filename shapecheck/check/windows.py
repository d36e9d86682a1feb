"""Check, windows: index expressions in array positions (spec 9.4).

`x[a + u - 1]`, `X[2 a + u - 2, 2 b + v - 2]`, `Z[i, k + h]`: a position may
hold a sum of an integer times an index, where the integer may name sizes.
Before the walk, each name of an expression that is a dim becomes an
`IndexSize` (inside an expression a dim is its size). Then, per position:
a product of two indices is E144, and a product of an integer array or a
selection with an index (or with another of them) E031; each index in it is
an occurrence without a size, so an index that stands only inside
expressions takes its size from the left-hand annotation `y[a:m]` (else
E145, showing the annotation). An integer array or a selection that is an
addend (`W[idx[i] + 1, k]`, `X[2 a + argmax[u](e) - 2]`) is a bounded part:
a whole number in 1..its range. Once sizes are known, the range proof: the
expression's smallest and largest values (each index or bounded part at 1
or at its range, by the sign of its coefficient), with the size expressions
substituted, must stay inside `1..size` (E140, naming the condition and,
where a free dim would make it hold, the `dim` to write).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING

from shapecheck.check.program import Dim, Size
from shapecheck.check.scope import Occurrence, StatementScope
from shapecheck.check.sizeexpr import Poly
from shapecheck.diagnostics import Code
from shapecheck.exhaustive import assert_never
from shapecheck.source import Span
from shapecheck.syntax import ast

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass


@dataclass(frozen=True)
class Bounded:
    """An integer array or a selection that is a part of an index expression:
    a whole number in 1..its range, whatever the indices it reads."""

    text: str  # as written: `idx[i]`, `argmax[u](X[i, u])`
    # A gather's range (`in c`); for a selection None, and it runs over
    # 1..the product of the sizes of `over` (row-major), known after the walk.
    classes: Size | None
    over: tuple[str, ...] = ()


@dataclass(frozen=True)
class Linear:
    """Σ coefficient × index + Σ coefficient × bounded part + offset, with
    coefficients and offset over dim names."""

    coefficients: tuple[tuple[str, Poly], ...]
    offset: Poly
    bounded: tuple[tuple[Bounded, Poly], ...] = ()

    def plus(self, other: Linear, sign: int = 1) -> Linear:
        merged = dict(self.coefficients)
        for name, c in other.coefficients:
            merged[name] = merged.get(name, Poly()) + c.scaled(Fraction(sign))
        parts = dict(self.bounded)
        for part, c in other.bounded:
            parts[part] = parts.get(part, Poly()) + c.scaled(Fraction(sign))
        offset = self.offset + other.offset.scaled(Fraction(sign))
        return Linear(tuple(merged.items()), offset, tuple(parts.items()))

    def times(self, factor: Poly) -> Linear:
        return Linear(
            tuple((n, c * factor) for n, c in self.coefficients),
            self.offset * factor,
            tuple((b, c * factor) for b, c in self.bounded),
        )

    @property
    def varies(self) -> bool:
        """Whether it holds an index or a bounded part (not only sizes and numbers)."""
        return bool(self.coefficients or self.bounded)


@dataclass(frozen=True)
class Window:
    """A position holding an index expression, kept for the range proof."""

    expr: ast.IndexExpr
    linear: Linear
    size: Size
    place: str


_Change = Callable[[ast.IndexExpr], ast.IndexExpr]
_LeafChange = Callable[[ast.IndexTree], ast.IndexTree]


class _NotLinear(Exception):
    """Reported already: the expression is not a sum of integer multiples of indices."""


# ---------------------------------------------------------------------------
# Before the walk: dims inside expressions are sizes


def prepare(scope: StatementScope, rhs: ast.Expr, annotated: dict[str, Occurrence]) -> ast.Expr:
    """`rhs` ready for the walk: each dim name inside an index expression made
    an `IndexSize`; the sizes reductions' annotations give (`max[u:2](...)`)
    added to `annotated`; and each plain position of an annotated index in an
    array made an expression, read and range-proved like one (`h[a, k]` with
    `a:m` over `h[T, k]` holds 1..m of 1..T)."""
    for node in ast.walk(rhs):
        if isinstance(node, ast.SumOver | ast.MeanOver | ast.IndexedCall):
            _binder_annotations(scope, node.indices, annotated)
    scope.annotated.update(annotated)
    dims = {name: dim.value for name, dim in scope.names.dims.items()}
    rhs = map_index_exprs(rhs, lambda e: _sized(e, dims))
    if not annotated:
        return rhs
    return _plain_as_windows(rhs, set(annotated))


def _plain_as_windows(rhs: ast.Expr, annotated: set[str]) -> ast.Expr:
    # Deltas too: `Σ_{k:h} ... δ[k, e]` with `e` over 1..4h is read like
    # `δ[k + h, e]`, the form a derivation through `I[i, k:h]` prints (spec 10).
    def rebuild(node: ast.Expr) -> ast.Expr:
        if isinstance(node, ast.ArrayRef | ast.Delta | ast.DerivRef) and any(
            isinstance(i, ast.IndexName) and i.name in annotated for i in node.indices
        ):
            indices = tuple(
                ast.IndexExpr(i, i.span)
                if isinstance(i, ast.IndexName) and i.name in annotated
                else i
                for i in node.indices
            )
            node = replace(node, indices=indices)
        kids = ast.children(node)
        return ast.with_children(node, tuple(rebuild(k) for k in kids)) if kids else node

    return rebuild(rhs)


def map_index_exprs(rhs: ast.Expr, change: _Change) -> ast.Expr:
    """`rhs` with every index expression (in arrays, deltas, derivative
    references and gathers) replaced by `change` of it."""
    if not any(_holds_expr(node) for node in ast.walk(rhs)):
        return rhs

    def rebuild(node: ast.Expr) -> ast.Expr:
        if isinstance(node, ast.ArrayRef | ast.Delta | ast.DerivRef) and _holds_expr(node):
            node = replace(node, indices=_mapped(node.indices, change))
        kids = ast.children(node)
        return ast.with_children(node, tuple(rebuild(k) for k in kids)) if kids else node

    return rebuild(rhs)


def _holds_expr(node: ast.Expr) -> bool:
    if not isinstance(node, ast.ArrayRef | ast.Delta | ast.DerivRef):
        return False
    return any(isinstance(i, ast.IndexExpr) for i in _all_indices(node.indices))


def _all_indices(indices: tuple[ast.Index, ...]) -> list[ast.Index]:
    found: list[ast.Index] = []
    for index in indices:
        found.append(index)
        if isinstance(index, ast.IndexGather):
            found.extend(_all_indices(index.indices))
    return found


def _mapped(indices: tuple[ast.Index, ...], change: _Change) -> tuple[ast.Index, ...]:
    new: list[ast.Index] = []
    for index in indices:
        if isinstance(index, ast.IndexExpr):
            new.append(change(index))
        elif isinstance(index, ast.IndexGather):
            new.append(replace(index, indices=_mapped(index.indices, change)))
        else:
            new.append(index)
    return tuple(new)


def _sized(expr: ast.IndexExpr, dims: dict[str, int | None]) -> ast.IndexExpr:
    def leaf(node: ast.IndexTree) -> ast.IndexTree:
        if isinstance(node, ast.IndexName) and node.name in dims:
            return ast.IndexSize(node.name, node.span, dims[node.name])
        return node

    return replace(expr, tree=map_tree(expr.tree, leaf))


def map_tree(tree: ast.IndexTree, leaf: _LeafChange) -> ast.IndexTree:
    """The tree with each leaf replaced by `leaf` of it."""
    match tree:
        case ast.IndexArith():
            return replace(tree, left=map_tree(tree.left, leaf), right=map_tree(tree.right, leaf))
        case ast.IndexNeg():
            return replace(tree, operand=map_tree(tree.operand, leaf))
        case _:
            return leaf(tree)


# ---------------------------------------------------------------------------
# The walk: one position


def visit_index_expr(
    scope: StatementScope, expr: ast.IndexExpr, size: Size | None, place: str
) -> None:
    """An expression in a position: its names are occurrences without a size;
    in an array position (`size` given) it is kept for the range proof. The
    gathers in it are recorded by the caller (`sizes.record`), and its
    selections' calls are sub-expressions of the reference, walked as such."""
    for leaf in ast.index_tree_leaves(expr.tree):
        if isinstance(leaf, ast.IndexName):
            scope.occurrences.setdefault(leaf.name, []).append(
                Occurrence(None, leaf.span, f"`{leaf.name}` in `{expr}`")
            )
    try:
        linear = linear_form(scope, expr.tree)
    except _NotLinear:
        return
    if size is not None:
        scope.windows.append(Window(expr, linear, size, place))


def linear_form(scope: StatementScope, tree: ast.IndexTree) -> Linear:
    """The expression as Σ coefficient × index + Σ coefficient × bounded part
    + offset; E031 and E144 otherwise."""
    match tree:
        case ast.IndexName():
            return Linear(((tree.name, Poly.constant(1)),), Poly())
        case ast.IndexLiteral():
            return Linear((), Poly.constant(tree.value))
        case ast.IndexSize():
            return Linear((), Poly.dim(tree.name))
        case ast.IndexGather():
            info = scope.names.arrays.get(tree.name)
            if info is None or info.classes is None:
                raise _NotLinear  # reported where the gather is recorded (E101, E236)
            return Linear((), Poly(), ((Bounded(str(tree), info.classes), Poly.constant(1)),))
        case ast.IndexSelect():
            over = tuple(i.name for i in tree.call.indices)
            return Linear((), Poly(), ((Bounded(str(tree), None, over), Poly.constant(1)),))
        case ast.IndexNeg():
            return linear_form(scope, tree.operand).times(Poly.constant(-1))
        case ast.IndexArith():
            left, right = linear_form(scope, tree.left), linear_form(scope, tree.right)
            if tree.op != "*":
                return left.plus(right, 1 if tree.op == "+" else -1)
            return _product(scope, tree, left, right)
        case _:
            assert_never(tree)


def _product(scope: StatementScope, tree: ast.IndexArith, left: Linear, right: Linear) -> Linear:
    if left.varies and right.varies and (left.bounded or right.bounded):
        picked, other = (left, right) if left.bounded else (right, left)
        _picked_product(scope, tree, picked.bounded[0][0], other)
        raise _NotLinear
    if left.coefficients and right.coefficients:
        first, second = left.coefficients[0][0], right.coefficients[0][0]
        scope.error(
            Code.E144,
            tree.span,
            f"`{tree}` multiplies two indices (`{first}` and `{second}`)",
            hints=[
                "an index expression is a sum of indices times whole numbers or sizes, "
                "such as `2 a + u - 1`",
                f"for two positions, separate them with a comma: `{first}, {second}`",
            ],
        )
        raise _NotLinear
    return left.times(right.offset) if left.varies else right.times(left.offset)


def _picked_product(
    scope: StatementScope, tree: ast.IndexArith, part: Bounded, other: Linear
) -> None:
    """E031: an integer array or a selection is an addend, times a whole
    number or a size at most; a product with an index (or with another of
    them) is no position the range proof can bound."""
    what = "an integer array" if part.classes is not None else "a selection"
    by = (
        f"the index `{other.coefficients[0][0]}`"
        if other.coefficients
        else f"`{other.bounded[0][0].text}`"
    )
    scope.error(
        Code.E031,
        tree.span,
        f"`{tree}` multiplies {what} (`{part.text}`) by {by}",
        hints=[
            f"in an index expression `{part.text}` is a term of its own, times a whole number "
            f"or a size at most (`2 {part.text} - 1`)"
        ],
    )


# ---------------------------------------------------------------------------
# After the sizes: unsized indices and the range proof


def left_annotations(
    scope: StatementScope, indices: tuple[ast.Index, ...]
) -> dict[str, Occurrence]:
    """The sizes a left-hand side gives its indices with `a:m` (spec 9.4)."""
    given: dict[str, Occurrence] = {}
    for index in indices:
        if not isinstance(index, ast.IndexName) or index.runs_over is None:
            continue
        size = _annotated_size(scope, index.runs_over)
        if size is not None:
            given[index.name] = Occurrence(size, index.span, f"the annotation `{index}`")
    return given


def _binder_annotations(
    scope: StatementScope, indices: tuple[ast.IndexName, ...], annotated: dict[str, Occurrence]
) -> None:
    """`max[u:2, v:2](...)`: the size of an index a reduction binds, for one
    that stands only inside index expressions (as the left-hand `y[a:m]`)."""
    for index in indices:
        if index.runs_over is None:
            continue
        size = _annotated_size(scope, index.runs_over)
        if size is not None:
            annotated[index.name] = Occurrence(size, index.span, f"the annotation `{index}`")


def _annotated_size(scope: StatementScope, item: ast.SizeName | ast.SizeLiteral) -> Size | None:
    if isinstance(item, ast.SizeLiteral):
        if item.value >= 1:
            return Size(None, item.value)
        scope.error(Code.E105, item.span, f"an index runs over 1..size; {item.value} is no size")
        return None
    dim = scope.names.dims.get(item.name)
    if dim is None:
        scope.error(
            Code.E101,
            item.span,
            f"unknown size `{item.name}` in an annotation",
            hints=[f"`a:{item.name}` runs over 1..{item.name}: declare `dim {item.name}` above"],
        )
        return None
    scope.names.used.add(item.name)
    return dim.size()


def report_unsized(
    scope: StatementScope, sizes: dict[str, Size], lhs: tuple[ast.Index, ...], name: str
) -> None:
    """E145: an index that stands only inside index expressions, without an annotation."""
    reported: set[str] = set()
    for window in scope.windows:
        for index, _ in window.linear.coefficients:
            if index in sizes or index in reported:
                continue
            reported.add(index)
            scope.error(
                Code.E145,
                _span_of(window.expr, index),
                f"the size of index `{index}` is unknown: it stands only inside index expressions",
                hints=[_annotation_hint(name, lhs, index)],
            )


def _annotation_hint(name: str, lhs: tuple[ast.Index, ...], index: str) -> str:
    shown = [f"{i}:m" if isinstance(i, ast.IndexName) and i.name == index else str(i) for i in lhs]
    if index not in [i.name for i in lhs if isinstance(i, ast.IndexName)]:
        # Bound by a sum or a reduction: annotate it there (`sum[a:m](...)`).
        return (
            f"say what it runs over where it is bound: `sum[{index}:m](...)`, "
            f"or on the left: `{name}[..., {index}:m]`"
        )
    return f"say what it runs over on the left: `{name}[{', '.join(shown)}]`"


def _span_of(expr: ast.IndexExpr, index: str) -> Span:
    for leaf in ast.index_tree_leaves(expr.tree):
        if isinstance(leaf, ast.IndexName) and leaf.name == index:
            return leaf.span
    return expr.span


def prove_ranges(
    scope: StatementScope, sizes: dict[str, Size], annotated: dict[str, Occurrence]
) -> None:
    """E140: every window stays inside 1..size over the whole range of its indices."""
    if not scope.windows:
        return  # most statements: no dim's polynomial is needed
    dims = scope.names.dims
    free = {name: _dim_poly(dim) for name, dim in dims.items()}
    # The dim to suggest: one an annotation names, else the one declared last.
    preferred = [o.size.name for o in annotated.values() if o.size and o.size.name]
    order = [*dict.fromkeys([*preferred, *reversed(list(dims))])]
    for window in scope.windows:
        named = [index for index, _ in window.linear.coefficients]
        named += [index for part, _ in window.linear.bounded for index in part.over]
        if any(index not in sizes for index in named):
            continue  # reported as unsized
        _prove(scope, window, sizes, free, [dims[n] for n in order if n in dims])


def _dim_poly(dim: Dim) -> Poly:
    if dim.value is not None:
        return Poly.constant(dim.value)
    return dim.poly if dim.poly is not None else Poly.dim(dim.name)


def _size_poly(size: Size) -> Poly:
    return Poly.dim(size.name) if size.name is not None else Poly.constant(size.value or 0)


def _prove(
    scope: StatementScope,
    window: Window,
    sizes: dict[str, Size],
    free: dict[str, Poly],
    dims: list[Dim],
) -> None:
    smallest, largest = window.linear.offset, window.linear.offset
    # Each index runs over 1..its size, each bounded part over 1..its range.
    ranged = [(index, c, _size_poly(sizes[index])) for index, c in window.linear.coefficients]
    ranged += [(part.text, c, _range(part, sizes)) for part, c in window.linear.bounded]
    for index, coefficient, top in ranged:
        sign = _sign(coefficient.substituted(free))
        if sign is None:
            scope.error(
                Code.E140,
                _span_of(window.expr, index),
                f"the sign of `{index}`'s coefficient `{coefficient}` in `{window.expr}` "
                "depends on the sizes",
                hints=["write the coefficient as a whole number or a size"],
            )
            return
        at_size = coefficient * top
        low, high = (coefficient, at_size) if sign > 0 else (at_size, coefficient)
        smallest, largest = smallest + low, largest + high
    bound = _size_poly(window.size)
    if not _holds(smallest - Poly.constant(1), free):
        _out_of_range(scope, window, f"1 <= {smallest}", smallest, Poly.constant(1), dims, sizes)
    elif not _holds(bound - largest, free):
        _out_of_range(scope, window, f"{largest} <= {bound}", bound, largest, dims, sizes)


def _range(part: Bounded, sizes: dict[str, Size]) -> Poly:
    """The largest value of a bounded part: a gather's range, or the product
    of the sizes a selection runs over."""
    if part.classes is not None:
        return _size_poly(part.classes)
    top = Poly.constant(1)
    for index in part.over:
        top = top * _size_poly(sizes[index])
    return top


def _sign(poly: Poly) -> int | None:
    """+1 or -1 where every value of the sizes gives that sign; None otherwise."""
    coefficients = [c for _, c in poly.terms]
    if coefficients and all(c > 0 for c in coefficients):
        return 1
    if coefficients and all(c < 0 for c in coefficients):
        return -1
    return None


def _holds(difference: Poly, free: dict[str, Poly]) -> bool:
    """`difference >= 0` for every value of the free dims (each at least 1).

    A constant holds where it is not negative; beyond the spec's constants, a
    polynomial whose terms with dims all have positive coefficients holds
    where it does at every dim equal to 1 (`Z[i, k + h]` over `Z[n, 4 h]`:
    `4 h - 2 h` is `2 h`, at least 2).
    """
    reduced = difference.substituted(free)
    if reduced.value is not None:
        return reduced.value >= 0
    positive = all(c >= 0 for monomial, c in reduced.terms if monomial)
    return positive and sum(c for _, c in reduced.terms) >= 0


def _out_of_range(
    scope: StatementScope,
    window: Window,
    condition: str,
    upper: Poly,
    lower: Poly,
    dims: list[Dim],
    sizes: dict[str, Size],
) -> None:
    hints = [f"`{window.expr}` must stay inside 1..{window.size} over the range of its indices"]
    hints += [
        f"`{part.text}` takes values in 1..{_range(part, sizes)}"
        for part, _ in window.linear.bounded
    ]
    suggestion = _suggest_dim(upper, lower, dims)
    if suggestion:
        hints.append(f"write `{suggestion}`")
    scope.error(
        Code.E140,
        window.expr.span,
        f"{window.place} may leave its range: needs {condition}",
        hints=hints,
    )


def _suggest_dim(upper: Poly, lower: Poly, dims: list[Dim]) -> str | None:
    """`dim m = n - k + 1`: a free dim that, so computed, makes `lower <= upper` exact."""
    difference = upper - lower
    for dim in dims:
        name = dim.name
        if name not in difference.names or dim.value is not None or dim.computed:
            continue
        coefficient = dict(difference.terms).get(((name, 1),))
        rest = difference - Poly.dim(name).scaled(coefficient or Fraction(0))
        if coefficient is None or name in rest.names or coefficient >= 0:
            continue
        # difference = rest + c·name with c < 0: name = rest / -c makes it 0.
        return f"dim {name} = {rest.scaled(1 / -coefficient)}"
    return None
