"""Lower checked right-hand sides to terms, keeping the checker's summation.

Every `SumOver` node (written or made explicit by the checker) becomes the
`summed` of a `Product`; division becomes a power -1 and negation a factor -1,
so that the derivative rules only know products, sums, powers and functions.
"""

from __future__ import annotations

from shapecheck.check.program import CheckedClaim, CheckedDefinition, Size
from shapecheck.symbolic import terms as t
from shapecheck.syntax import ast


class _Lowering:
    def __init__(self, sizes: dict[str, Size]) -> None:
        self.sizes = sizes

    def index(self, index: ast.Index) -> t.Index:
        if isinstance(index, ast.IndexLiteral):
            return t.Fixed(index.value)
        return t.Idx(index.name, self.sizes[index.name])

    def indices(self, indices: tuple[ast.Index, ...]) -> tuple[t.Index, ...]:
        return tuple(self.index(i) for i in indices)

    def expr(self, expr: ast.Expr) -> t.Term:
        if isinstance(expr, ast.Number):
            return t.Const(expr.value)
        if isinstance(expr, ast.ArrayRef):
            return t.Tensor(expr.name, self.indices(expr.indices))
        if isinstance(expr, ast.Delta):
            return t.Delta(self.indices(expr.indices))
        if isinstance(expr, ast.DerivRef):
            return t.Tensor(f"d{expr.of}/d{expr.wrt}", self.indices(expr.indices), t.REFERENCE)
        if isinstance(expr, ast.Loss):
            return t.Loss(expr.name)
        if isinstance(expr, ast.Call):
            return t.Func(expr.func, self.expr(expr.arg))
        if isinstance(expr, ast.Negate):
            return t.Product((t.Const(-1.0), self.expr(expr.operand)))
        if isinstance(expr, ast.Power):
            return t.Pow(self.expr(expr.base), self.expr(expr.exponent))
        if isinstance(expr, ast.SumOver):
            summed = tuple(t.Idx(i.name, self.sizes[i.name]) for i in expr.indices)
            body = self.expr(expr.body)
            if isinstance(body, t.Product):
                return t.Product(body.factors, body.summed + summed)
            return t.Product((body,), summed)
        if isinstance(expr, ast.Product):
            factors = []
            for factor in expr.factors:
                lowered = self.expr(factor.expr)
                factors.append(t.Pow(lowered, t.Const(-1.0)) if factor.op == "/" else lowered)
            return t.Product(tuple(factors))
        if isinstance(expr, ast.Add):
            parts = []
            for term in expr.terms:
                lowered = self.expr(term.expr)
                parts.append(lowered if term.sign == "+" else t.Product((t.Const(-1.0), lowered)))
            return t.add(parts)
        raise TypeError(f"cannot lower {type(expr).__name__}")


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
