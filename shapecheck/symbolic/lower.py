"""Lower checked right-hand sides to terms, keeping the checker's summation.

Every `SumOver` node (written or made explicit by the checker) becomes the
`summed` of a `Product`; `softmax`, `logsumexp` and `norm` become an
`IndexedFunc` each; division becomes a power -1 and negation a factor -1,
so that the derivative rules only know products, sums, powers and functions.
"""

from __future__ import annotations

from shapecheck.check.program import CheckedClaim, CheckedDefinition, Size
from shapecheck.exhaustive import assert_never
from shapecheck.symbolic import terms as t
from shapecheck.syntax import ast

_Shifted = tuple[list[tuple[t.Index, t.SizeSum]], t.SizeSum]


def _scaled(shifted: _Shifted, factor: t.SizeSum) -> _Shifted:
    parts, offset = shifted
    return [(i, c.times(factor)) for i, c in parts], offset.times(factor)


class _Lowering:
    """Lowers the expressions of one definition or claim, whose index sizes it knows."""

    def __init__(self, sizes: dict[str, Size]) -> None:
        self.sizes = sizes

    def index(self, index: ast.Index) -> t.Index:
        match index:
            case ast.IndexLiteral():
                return t.Fixed(index.value)
            case ast.IndexName():
                return t.Idx(index.name, self.sizes[index.name])
            case ast.IndexGather():
                return t.Gather(index.name, self.indices(index.indices))
            case ast.IndexSelect():
                choice = self.indexed_call(index.call)
                assert isinstance(choice, t.IndexedFunc)
                return t.Select(choice)
            case ast.IndexExpr():
                parts, offset = self.shift(index.tree)
                return t.shift(parts, offset)
            case _:
                assert_never(index)

    def shift(self, tree: ast.IndexTree) -> tuple[list[tuple[t.Index, t.SizeSum]], t.SizeSum]:
        """An index expression as (index, coefficient) parts and an offset; the
        checker made it linear (no product of two indices, nor of an index and
        a gather or a selection)."""
        match tree:
            case ast.IndexName():
                return [(t.Idx(tree.name, self.sizes[tree.name]), t.SizeSum.number(1))], t.SizeSum()
            case ast.IndexLiteral():
                return [], t.SizeSum.number(tree.value)
            case ast.IndexSize():
                return [], t.SizeSum.of([(1, (Size(tree.name, tree.value),))])
            case ast.IndexNeg():
                return _scaled(self.shift(tree.operand), t.SizeSum.number(-1))
            case ast.IndexArith():
                left, right = self.shift(tree.left), self.shift(tree.right)
                if tree.op == "*":
                    return _scaled(right, left[1]) if not left[0] else _scaled(left, right[1])
                if tree.op == "-":
                    right = _scaled(right, t.SizeSum.number(-1))
                return left[0] + right[0], left[1] + right[1]
            case ast.IndexGather() | ast.IndexSelect():
                # A picked position as a part (`W[idx[i] + 1, k]`): a term of its own.
                return [(self.index(tree), t.SizeSum.number(1))], t.SizeSum()
            case _:
                assert_never(tree)

    def indices(self, indices: tuple[ast.Index, ...]) -> tuple[t.Index, ...]:
        return tuple(self.index(i) for i in indices)

    def expr(self, expr: ast.Expr) -> t.Term:
        match expr:
            case (
                ast.Number()
                | ast.ArrayRef()
                | ast.Delta()
                | ast.DerivRef()
                | ast.Loss()
                | ast.MatrixCall()
                | ast.SizeRef()
                | ast.IndexValue()
            ):
                return self.leaf(expr)
            case ast.Call() | ast.IndexedCall() | ast.Extremum() | ast.Compare():
                return self.call(expr)
            case ast.OpaqueCall():
                return t.Opaque(expr.func, expr.order, self.expr(expr.arg))
            case ast.Negate():
                return _negated(self.expr(expr.operand))
            case ast.Power():
                return t.Pow(self.expr(expr.base), self.expr(expr.exponent))
            case ast.SumOver():
                return self.sum_over(expr)
            case ast.MeanOver():
                return self.mean_over(expr)
            case ast.Product():
                return self.product(expr)
            case ast.Add():
                return self.add(expr)
            case ast.RangeSum():
                # syntax/unroll.py expands every one before checking.
                raise ValueError(f"`{expr}` reached lowering unexpanded")
            case _:
                assert_never(expr)

    def leaf(
        self,
        expr: ast.Number
        | ast.ArrayRef
        | ast.Delta
        | ast.DerivRef
        | ast.Loss
        | ast.MatrixCall
        | ast.SizeRef
        | ast.IndexValue,
    ) -> t.Term:
        """A number, an array, a delta, a derivative reference, a loss, a size or an index value."""
        match expr:
            case ast.Number():
                return t.Const(expr.value)
            case ast.ArrayRef():
                return t.Tensor(expr.name, self.indices(expr.indices))
            case ast.Delta():
                return t.Delta(self.indices(expr.indices))
            case ast.DerivRef():
                # `dloss/dA` (only in a claim, for a `loss(A)`: the checker
                # holds it) is the derivation's own upstream gradient.
                kind = t.UPSTREAM if expr.of == "loss" else t.REFERENCE
                return t.Tensor(expr.label, self.indices(expr.indices), kind)
            case ast.Loss():
                return t.Loss(expr.name)
            case ast.MatrixCall():
                return t.Matrix(expr.func, expr.name, self.indices(expr.indices))
            case ast.SizeRef():
                return t.SizeOf(Size(expr.name, expr.value))
            case ast.IndexValue():
                return t.IndexValue(t.Idx(expr.name, self.sizes[expr.name]))
            case _:
                assert_never(expr)

    def call(self, expr: ast.Call | ast.IndexedCall | ast.Extremum | ast.Compare) -> t.Term:
        """A function of one argument, softmax and its kin, max/min, a comparison."""
        match expr:
            case ast.Call():
                return t.Func(expr.func, self.expr(expr.arg))
            case ast.IndexedCall():
                return self.indexed_call(expr)
            case ast.Extremum():
                return t.Extremum(expr.func, self.expr(expr.first), self.expr(expr.second))
            case ast.Compare():
                return t.Compare(expr.op, self.expr(expr.left), self.expr(expr.right))
            case _:
                assert_never(expr)

    def sum_over(self, expr: ast.SumOver) -> t.Term:
        # A sum over a product joins its sums: one Product, not two nested.
        summed = tuple(t.Idx(i.name, self.sizes[i.name]) for i in expr.indices)
        body = self.expr(expr.body)
        if isinstance(body, t.Product):
            return t.Product(body.factors, body.summed + summed)
        return t.Product((body,), summed)

    def mean_over(self, expr: ast.MeanOver) -> t.Term:
        """`mean[i](e)` is `sum[i](e)` times `1 / size of i`, for each index it binds."""
        summed = tuple(t.Idx(i.name, self.sizes[i.name]) for i in expr.indices)
        divisors = tuple(t.Pow(t.SizeOf(i.size), t.Const(-1.0)) for i in summed)
        body = self.expr(expr.body)
        if isinstance(body, t.Product):
            return t.Product(body.factors + divisors, body.summed + summed)
        return t.Product((body, *divisors), summed)

    def indexed_call(self, expr: ast.IndexedCall) -> t.Term:
        # softmax[j](e) is read at j itself: `over` binds j inside e, `at`
        # is the j of the result.
        over = tuple(t.Idx(i.name, self.sizes[i.name]) for i in expr.indices)
        at = () if expr.reduces else over
        if expr.func in t.EXTREME_REDUCTIONS:
            # `max[u, v](e)` is `max[u](max[v](e))`: the same value, and the
            # same first position in row-major order (u slowest).
            lowered = self.expr(expr.arg)
            for index in reversed(over):
                lowered = t.IndexedFunc(expr.func, (index,), lowered)
            return lowered
        return t.IndexedFunc(expr.func, over, self.expr(expr.arg), at)

    def product(self, expr: ast.Product) -> t.Term:
        factors = []
        for factor in expr.factors:
            lowered = self.expr(factor.expr)
            factors.append(t.Pow(lowered, t.Const(-1.0)) if factor.op == "/" else lowered)
        return t.Product(tuple(factors))

    def add(self, expr: ast.Add) -> t.Term:
        parts = []
        for term in expr.terms:
            lowered = self.expr(term.expr)
            parts.append(lowered if term.sign == "+" else _negated(lowered))
        return t.add(parts)


def _negated(term: t.Term) -> t.Term:
    return t.Product((t.Const(-1.0), term))


def lower_definition(definition: CheckedDefinition) -> tuple[tuple[t.Idx, ...], t.Term]:
    """The left-hand indices and the right-hand side as a term broadcast over them."""
    sizes = dict(definition.sizes)
    lhs = tuple(t.Idx(name, sizes[name]) for name in definition.indices)
    rhs = _Lowering(sizes).expr(definition.rhs)
    return lhs, t.add([rhs], lhs)


def lower_claim(claim: CheckedClaim) -> tuple[tuple[t.Idx, ...], t.Term]:
    sizes = dict(claim.sizes)
    lhs = tuple(t.Idx(name, sizes[name]) for name in claim.indices)
    rhs = _Lowering(sizes).expr(claim.rhs)
    return lhs, t.add([rhs], lhs)
