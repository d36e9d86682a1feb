"""Matrix notation of a result (spec 10): `Xᵀ (dL/dY)` beside `Σ_i X[i,j] dL/dY[i,k]`.

A display form only, made after simplification from the same term the index
form prints (`matrix_form(term, order)`), for results of rank 2 or less; the
renderers print the tree it returns (`render/matrixform.py`). It is built
from identities alone, so it means what the index form means:

- an array or derivative of rank ≤ 2 read at distinct plain indices is a
  matrix (rows: its first index), a column vector or a scalar; `δ[a,b]` is `I`;
- factors of a product over the same indices are multiplied element-wise (⊙);
  a vector over an index of a matrix factor that is not contracted between two
  others scales its rows or columns (`diag(v) M`, `M diag(v)`);
- a summed index shared by two factors is a matrix product, the factors
  transposed so that the shared index meets (`Xᵀ (dL/dY)`); a summed index in
  one factor only is a product with a vector of ones (`1ᵀ (dL/dY)`); factors
  that share no index multiply as an outer product (`x yᵀ`); a closed chain is
  a trace;
- a sum of terms over fewer indices than the sum broadcasts a vector with ones
  (`X W + 1 bᵀ`); a scalar term broadcasts as numbers do (`1 - H ⊙ H`);
- element-wise functions, powers, comparisons and max/min apply entry by
  entry (`tanh(X W + 1 bᵀ)`).

Anything else has no matrix form here and gives None, never a guess: an index
of rank 3 or more anywhere, an array read at a label, a literal or a shifted
index (`y[i]`, `X[1,k]`, `x[a + u - 1]`), a repeated index (`A[i,i]`), a
delta that is not an identity, an index shared by three factors, a softmax
or another function along an index. Vectors are columns; transposes are
pushed down to the leaves (`(A B)ᵀ = Bᵀ Aᵀ`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from shapecheck.check.program import Size
from shapecheck.exhaustive import assert_never
from shapecheck.symbolic import terms as t

# ---------------------------------------------------------------------------
# The matrix expressions


@dataclass(frozen=True)
class Leaf:
    """A named array, an upstream gradient or an adjoint (`dL/dY`) of rank ≤ 2."""

    name: str
    rank: int
    derivative: bool = False


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class SizeLeaf:
    """A size standing as a number (`n` in `1/n`)."""

    size: Size


@dataclass(frozen=True)
class Ones:
    """The column vector of ones of a size (`1`; transposed, `1ᵀ`)."""

    size: Size


@dataclass(frozen=True)
class Identity:
    size: Size


@dataclass(frozen=True)
class Transpose:
    of: MatrixExpr


@dataclass(frozen=True)
class MatMul:
    """The matrix product of two or more factors, left to right."""

    factors: tuple[MatrixExpr, ...]


@dataclass(frozen=True)
class Times:
    """Scalars times at most one matrix or vector (`2 Y`, `Xᵀ (dL/dS) / sqrt(dk)`)."""

    factors: tuple[MatrixExpr, ...]


@dataclass(frozen=True)
class Hadamard:
    """The element-wise product of operands of one shape (`A ⊙ B`)."""

    factors: tuple[MatrixExpr, ...]


@dataclass(frozen=True)
class Sum:
    terms: tuple[MatrixExpr, ...]


@dataclass(frozen=True)
class Power:
    """An entry-by-entry power; `scalar` when both sides are scalars
    (printers write `/ b` there and `⊘ B` or `B^∘2` otherwise)."""

    base: MatrixExpr
    exponent: MatrixExpr
    scalar: bool


@dataclass(frozen=True)
class Apply:
    """An element-wise function (`tanh(E)`), or an `fn` function with `order` primes."""

    function: str
    arg: MatrixExpr
    order: int = 0


@dataclass(frozen=True)
class Relation:
    """A comparison, 1 where it holds and 0 elsewhere, entry by entry."""

    op: str
    left: MatrixExpr
    right: MatrixExpr


@dataclass(frozen=True)
class Extremum:
    """`max(A, B)` or `min(A, B)` entry by entry."""

    name: str
    first: MatrixExpr
    second: MatrixExpr


@dataclass(frozen=True)
class Diag:
    """The diagonal matrix of a column vector."""

    of: MatrixExpr


@dataclass(frozen=True)
class Trace:
    of: MatrixExpr


@dataclass(frozen=True)
class WholeMatrix:
    """`det(A)`, `tr(A)` or `A⁻¹` of a whole square array (spec 9.5)."""

    function: str  # "det", "trace" or "inv"
    array: str


MatrixExpr = (
    Leaf
    | Number
    | SizeLeaf
    | Ones
    | Identity
    | Transpose
    | MatMul
    | Times
    | Hadamard
    | Sum
    | Power
    | Apply
    | Relation
    | Extremum
    | Diag
    | Trace
    | WholeMatrix
)


def transpose(expr: MatrixExpr) -> MatrixExpr:
    """The transpose, pushed down towards the leaves (`(A B)ᵀ = Bᵀ Aᵀ`,
    element-wise operations over transposed operands) where that does not
    print more transposes than it saves; else `(…)ᵀ` over the whole."""
    # Remembered on the (immutable) node: a sum's terms are laid out, then
    # laid out again by whatever holds the sum.
    cache = expr.__dict__
    done = cache.get("_transposed")
    if done is None:
        pushed = _pushed(expr)
        fewer = isinstance(pushed, Transpose) or transposes(pushed) <= transposes(expr) + 1
        done = pushed if fewer else Transpose(expr)
        cache["_transposed"] = done
    return done


def _pushed(expr: MatrixExpr) -> MatrixExpr:
    match expr:
        case Leaf():
            return expr if expr.rank == 0 else Transpose(expr)
        case Ones():
            return Transpose(expr)
        case Transpose():
            return expr.of
        case MatMul():
            return MatMul(tuple(transpose(f) for f in reversed(expr.factors)))
        case Times() | Hadamard() | Sum() | Diag() | Trace():
            return _over_children(expr, transpose)
        case Power():
            return Power(transpose(expr.base), transpose(expr.exponent), expr.scalar)
        case Apply():
            return Apply(expr.function, transpose(expr.arg), expr.order)
        case Relation():
            return Relation(expr.op, transpose(expr.left), transpose(expr.right))
        case Extremum():
            return Extremum(expr.name, transpose(expr.first), transpose(expr.second))
        case WholeMatrix():
            return Transpose(expr) if expr.function == "inv" else expr
        case Number() | SizeLeaf() | Identity():
            return expr
        case _:
            assert_never(expr)


def _over_children(
    expr: Times | Hadamard | Sum | Diag | Trace, change: Callable[[MatrixExpr], MatrixExpr]
) -> MatrixExpr:
    """Scalar factors and operands transposed one by one; a diagonal matrix and
    a trace are their own transposes."""
    match expr:
        case Times():
            return Times(tuple(change(f) for f in expr.factors))
        case Hadamard():
            return Hadamard(tuple(change(f) for f in expr.factors))
        case Sum():
            return Sum(tuple(change(f) for f in expr.terms))
        case Diag() | Trace():
            return expr
        case _:
            assert_never(expr)


def children(expr: MatrixExpr) -> tuple[MatrixExpr, ...]:
    match expr:
        case Transpose() | Diag() | Trace():
            return (expr.of,)
        case MatMul() | Times() | Hadamard():
            return expr.factors
        case Sum():
            return expr.terms
        case Power():
            return (expr.base, expr.exponent)
        case Apply():
            return (expr.arg,)
        case Relation():
            return (expr.left, expr.right)
        case Extremum():
            return (expr.first, expr.second)
        case Leaf() | Number() | SizeLeaf() | Ones() | Identity() | WholeMatrix():
            return ()
        case _:
            assert_never(expr)


def transposes(expr: MatrixExpr) -> int:
    """How many transposes print (of ones not counted: `1ᵀ` reads as a sum;
    nor of an inverse: `X⁻ᵀ` is one symbol)."""
    cache = expr.__dict__
    count = cache.get("_transposes")
    if count is None:
        own = isinstance(expr, Transpose) and not isinstance(expr.of, Ones | WholeMatrix)
        count = int(own) + sum(transposes(child) for child in children(expr))
        cache["_transposes"] = count
    return count


def leaf_names(expr: MatrixExpr) -> set[str]:
    """The names of the arrays the expression reads (printers avoid them)."""
    found = {expr.name} if isinstance(expr, Leaf) else set()
    for child in children(expr):
        found |= leaf_names(child)
    return found


# ---------------------------------------------------------------------------
# From index notation


@dataclass(frozen=True)
class _Shaped:
    """A matrix expression with the index its rows and its columns run over
    (None: one row or one column; a column vector has `cols` None)."""

    expr: MatrixExpr
    rows: t.Idx | None
    cols: t.Idx | None

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(i.name for i in (self.rows, self.cols) if i is not None)

    def flipped(self) -> _Shaped:
        return _Shaped(transpose(self.expr), self.cols, self.rows)

    def column(self) -> _Shaped:
        """A vector as a column."""
        return self if self.cols is None else self.flipped()


# A formula this large has no readable matrix form, and building one would cost
# as much as the derivation did (an RNN unrolled a thousand steps).
MAX_NODES = 2000


class _NoForm(Exception):
    """The term has no matrix form (see the module's docstring)."""


def matrix_form(term: t.Term, order: tuple[t.Idx, ...]) -> MatrixExpr | None:
    """The matrix form of `term`, whose free indices are `order` (rows, then
    columns; a vector's one index), or None where it has none. A vector result
    may come out as a row (`1ᵀ (dL/dY)`): it is the same vector."""
    if len(order) > 2 or {i.name for i in term.free} != {i.name for i in order}:
        return None
    if t.size_count(term, MAX_NODES) > MAX_NODES:
        return None
    try:
        shaped = _shape(term)
    except _NoForm:
        return None
    if len(order) == 2 and (shaped.rows, shaped.cols) != order:
        shaped = shaped.flipped()
    return shaped.expr


def _shape(term: t.Term) -> _Shaped:
    match term:
        case t.Const():
            return _Shaped(Number(term.value), None, None)
        case t.SizeOf():
            return _Shaped(SizeLeaf(term.size), None, None)
        case t.Tensor():
            return _tensor(term)
        case t.Delta():
            return _identity(term)
        case t.Matrix():
            return _whole_matrix(term)
        case t.Func():
            return _elementwise(term.arg, lambda arg: Apply(term.name, arg))
        case t.Opaque():
            return _elementwise(term.arg, lambda arg: Apply(term.name, arg, term.order))
        case t.Pow():
            base, exponent, scalar = _pair(term.base, term.exponent)
            return _Shaped(Power(base.expr, exponent, scalar), base.rows, base.cols)
        case t.Compare():
            left, right, _ = _pair(term.left, term.right)
            return _Shaped(Relation(term.op, left.expr, right), left.rows, left.cols)
        case t.Extremum():
            first, second, _ = _pair(term.first, term.second)
            return _Shaped(Extremum(term.name, first.expr, second), first.rows, first.cols)
        case t.Add():
            return _sum(term)
        case t.Product():
            return _product(term)
        case t.Zero() | t.IndexValue() | t.IndexedFunc() | t.Loss():
            # A zero matrix, an index's value, a function along an index: no form.
            raise _NoForm
        case _:
            assert_never(term)


def _plain(indices: tuple[t.Index, ...]) -> tuple[t.Idx, ...]:
    """Distinct plain indices, at most two; else no form."""
    plain = tuple(i for i in indices if isinstance(i, t.Idx))
    if len(plain) != len(indices) or len(plain) > 2 or len({i.name for i in plain}) < len(plain):
        raise _NoForm
    return plain


def _tensor(term: t.Tensor) -> _Shaped:
    at = _plain(term.indices)
    derivative = term.kind != t.ARRAY and "/d" in term.name
    return _placed(Leaf(term.name, len(at), derivative), at)


def _identity(term: t.Delta) -> _Shaped:
    at = _plain(term.indices)
    if len(at) != 2 or not at[0].size.same_as(at[1].size):
        raise _NoForm
    return _Shaped(Identity(at[0].size), at[0], at[1])


def _whole_matrix(term: t.Matrix) -> _Shaped:
    at = _plain(term.indices)
    if term.name == "inv" and len(at) != 2:
        raise _NoForm
    return _placed(WholeMatrix(term.name, term.array), at)


def _placed(expr: MatrixExpr, at: tuple[t.Idx, ...]) -> _Shaped:
    """A matrix over `at` (rows, columns), a column vector or a scalar."""
    rows = at[0] if at else None
    cols = at[1] if len(at) > 1 else None
    return _Shaped(expr, rows, cols)


def _elementwise(arg: t.Term, build: Callable[[MatrixExpr], MatrixExpr]) -> _Shaped:
    inner = _shape(arg)
    return _Shaped(build(inner.expr), inner.rows, inner.cols)


def _aligned(shaped: _Shaped, rows: t.Idx | None, cols: t.Idx | None) -> MatrixExpr:
    """The expression laid out with these rows and columns (transposed if need be)."""
    if (shaped.rows, shaped.cols) == (rows, cols):
        return shaped.expr
    if (shaped.cols, shaped.rows) == (rows, cols):
        return transpose(shaped.expr)
    raise _NoForm


def _pair(first: t.Term, second: t.Term) -> tuple[_Shaped, MatrixExpr, bool]:
    """Two operands of an entry-by-entry operation: the shape they share (a
    scalar side broadcasts), the second laid out as the first, and whether both
    are scalars."""
    a, b = _shape(first), _shape(second)
    if not a.names:
        if not b.names:
            return a, b.expr, True
        # The scalar side first would lose the shape: lay out the pair as b.
        return _Shaped(a.expr, b.rows, b.cols), b.expr, False
    if not b.names:
        return a, b.expr, False
    return a, _aligned(b, a.rows, a.cols), False


def _sum(term: t.Add) -> _Shaped:
    free = term.free
    if len(free) > 2:
        raise _NoForm
    parts = [_shape(part) for part in term.terms]
    rows: t.Idx | None = free[0] if free else None
    cols: t.Idx | None = free[1] if len(free) == 2 else None
    # A vector sum takes the first vector term's orientation.
    first = next((p for p in parts if p.names), None)
    if len(free) == 1 and first is not None:
        rows, cols = first.rows, first.cols
    shown = tuple(_broadcast(part, rows, cols) for part in parts)
    if free and first is None:
        # A constant over indices: `(1/n) 1 1ᵀ`, `c 1`.
        ones: list[MatrixExpr] = [Ones(rows.size)] if rows is not None else []
        ones += [Transpose(Ones(cols.size))] if cols is not None else []
        return _Shaped(_times([_sum_of(shown), _matmul(ones)]), rows, cols)
    return _Shaped(_sum_of(shown), rows, cols)


def _sum_of(terms: tuple[MatrixExpr, ...]) -> MatrixExpr:
    return terms[0] if len(terms) == 1 else Sum(terms)


def _broadcast(part: _Shaped, rows: t.Idx | None, cols: t.Idx | None) -> MatrixExpr:
    """A term of a sum laid out over the sum's rows and columns: a vector over
    one of them spread with ones (`1 bᵀ`, `b 1ᵀ`); a scalar as it is."""
    if not part.names:
        return part.expr
    if rows is not None and cols is not None and len(part.names) == 1:
        vector = part.column()
        # Scalars stay outside the spread: `-1 muᵀ / n`, not `1 (-muᵀ / n)`.
        scalars: list[MatrixExpr] = []
        body = vector.expr
        if isinstance(body, Times):
            scalars = [f for f in body.factors if not _holds_vector(f)]
            body = _times([f for f in body.factors if _holds_vector(f)])
        if vector.rows == cols:
            spread = MatMul((Ones(rows.size), transpose(body)))
        elif vector.rows == rows:
            spread = MatMul((body, Transpose(Ones(cols.size))))
        else:
            raise _NoForm
        return _times([*scalars, spread])
    return _aligned(part, rows, cols)


def _holds_vector(factor: MatrixExpr) -> bool:
    """Whether a factor of a `Times` is its one non-scalar (it reads an array
    or a vector of ones; scalar factors are numbers, sizes and scalar powers)."""
    match factor:
        case Number() | SizeLeaf() | Trace() | WholeMatrix():
            return isinstance(factor, WholeMatrix) and factor.function == "inv"
        case Leaf():
            return factor.rank > 0
        case Power():
            return not factor.scalar
        case _:
            return any(_holds_vector(c) for c in children(factor)) or isinstance(
                factor, Ones | Identity
            )


# ---------------------------------------------------------------------------
# Products: element-wise groups, then chains of matrix products


def _product(term: t.Product) -> _Shaped:
    shaped = [_shape(factor) for factor in term.factors]
    scalars = [s.expr for s in shaped if not s.names]
    summed = {i.name for i in term.summed}
    groups = _hadamard_groups([s for s in shaped if s.names], summed)
    nodes = _absorb_vectors(groups, term.summed)
    _check_counts(nodes, summed, [i.name for i in term.summed])
    parts: list[_Shaped] = []
    for component in _components(nodes, summed):
        part = _chain(component, summed)
        if part.names:
            parts.append(part)
        else:
            scalars.append(part.expr)
    body = _outer(parts)
    if body is None:
        return _Shaped(_times(scalars), None, None)
    if not scalars:
        return body
    return _Shaped(_times([*scalars, body.expr]), body.rows, body.cols)


def _times(factors: list[MatrixExpr]) -> MatrixExpr:
    if not factors:
        return Number(1.0)
    return factors[0] if len(factors) == 1 else Times(tuple(factors))


def _hadamard_groups(shaped: list[_Shaped], summed: set[str]) -> list[_Shaped]:
    """Factors over the same indices multiplied element-wise, in first-seen order."""
    groups: dict[frozenset[str], list[_Shaped]] = {}
    for factor in shaped:
        groups.setdefault(factor.names, []).append(factor)
    merged = []
    for names, members in groups.items():
        first = members[0]
        alone = not any(names & other for other in groups if other != names)
        if len(members) == 1 or (len(members) == 2 and names <= summed and alone):
            # Two factors summed over all their indices contract as a chain:
            # `xᵀ w` for Σ_p x[p] w[p], `tr(Aᵀ B)` for Σ_i Σ_j A[i,j] B[i,j].
            merged.extend(members)
            continue
        operands = tuple(_aligned(m, first.rows, first.cols) for m in members)
        merged.append(_Shaped(Hadamard(operands), first.rows, first.cols))
    return merged


def _absorb_vectors(nodes: list[_Shaped], summed: tuple[t.Idx, ...]) -> list[_Shaped]:
    """A vector over an index of a matrix factor scales that matrix's rows or
    columns (`diag(v) M`), unless the index links it to exactly one other factor
    (then it is a matrix-vector product, `M v`)."""
    bound = {i.name for i in summed}
    kept = list(nodes)
    for vector in [n for n in nodes if len(n.names) == 1]:
        (name,) = vector.names
        holders = [n for n in kept if n is not vector and name in n.names]
        matrices = [n for n in holders if len(n.names) == 2]
        if not matrices or (name in bound and len(holders) == 1):
            continue
        target = matrices[0]
        column = vector.column()
        scaled = (
            MatMul((Diag(column.expr), target.expr))
            if target.rows is not None and target.rows.name == name
            else MatMul((target.expr, Diag(column.expr)))
        )
        kept[kept.index(target)] = _Shaped(scaled, target.rows, target.cols)
        kept.remove(vector)
    return kept


def _check_counts(nodes: list[_Shaped], summed: set[str], order: list[str]) -> None:
    """A summed index in one or two factors, a free one in one; a summed index
    in no factor (a sum of a constant) is left to the index form."""
    counts: dict[str, int] = {}
    for node in nodes:
        for name in node.names:
            counts[name] = counts.get(name, 0) + 1
    for name, count in counts.items():
        if count > (2 if name in summed else 1):
            raise _NoForm
    if any(name not in counts for name in order):
        raise _NoForm


def _components(nodes: list[_Shaped], summed: set[str]) -> list[list[_Shaped]]:
    """Factors joined by contracted indices, each component in first-seen order."""
    remaining = list(nodes)
    components = []
    while remaining:
        component = [remaining.pop(0)]
        grown = True
        while grown:
            grown = False
            links = {n for node in component for n in node.names if n in summed}
            for node in list(remaining):
                if node.names & links:
                    component.append(node)
                    remaining.remove(node)
                    grown = True
        components.append(component)
    return components


def _chain(component: list[_Shaped], summed: set[str]) -> _Shaped:
    """One component as a product chain: a path from one end to the other (the
    factors transposed so that neighbours share their index), or a trace."""
    links = {n for n in summed if sum(n in node.names for node in component) == 2}
    ends = [node for node in component if len(node.names & links) < 2]
    start = ends[0] if ends else component[0]
    walked = _walk(start, [node for node in component if node is not start], links)
    product = _matmul([node.expr for node in walked])
    if not ends:
        return _Shaped(Trace(product), None, None)
    return _ones_at_ends(_Shaped(product, walked[0].rows, walked[-1].cols), summed)


def _walk(start: _Shaped, rest: list[_Shaped], links: set[str]) -> list[_Shaped]:
    """The factors in chain order from `start`, each laid out so that its rows
    are the index it shares with the one before."""
    # As laid out where its columns already lead on (`tr(X W Yᵀ)`), else flipped.
    leads = start.cols is not None and start.cols.name in links
    outward = sorted(start.names & links)
    walked = [start if leads or not outward else _facing(start, None, outward[0])]
    remaining = list(rest)
    while remaining:
        link = walked[-1].cols
        following = next((n for n in remaining if link is not None and link.name in n.names), None)
        if following is None:
            raise _NoForm
        remaining.remove(following)
        walked.append(_facing(following, link, None))
    return walked


def _facing(node: _Shaped, rows: t.Idx | None, cols_name: str | None) -> _Shaped:
    """The node laid out with `rows` as its rows, or with the index named
    `cols_name` as its columns."""
    if rows is not None:
        if node.rows is not None and node.rows.name == rows.name:
            return node
        return node.flipped()
    if node.cols is not None and node.cols.name == cols_name:
        return node
    return node.flipped()


def _matmul(factors: list[MatrixExpr]) -> MatrixExpr:
    flat: list[MatrixExpr] = []
    for factor in factors:
        flat.extend(factor.factors if isinstance(factor, MatMul) else (factor,))
    # `diag(x) I` is `diag(x)`: an identity beside another factor says nothing.
    kept = [f for f in flat if not isinstance(f, Identity)] or flat[:1]
    return kept[0] if len(kept) == 1 else MatMul(tuple(kept))


def _ones_at_ends(chain: _Shaped, summed: set[str]) -> _Shaped:
    """A chain whose end index is summed: a product with ones there (`1ᵀ M`, `M 1`)."""
    factors = [chain.expr]
    rows, cols = chain.rows, chain.cols
    if rows is not None and rows.name in summed:
        factors.insert(0, Transpose(Ones(rows.size)))
        rows = None
    if cols is not None and cols.name in summed:
        factors.append(Ones(cols.size))
        cols = None
    return _Shaped(_matmul(factors), rows, cols)


def _outer(parts: list[_Shaped]) -> _Shaped | None:
    """Components with free indices: one as it is, two vectors as `u vᵀ`."""
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and all(len(p.names) == 1 for p in parts):
        left, right = parts[0].column(), parts[1].column()
        return _Shaped(MatMul((left.expr, transpose(right.expr))), left.rows, right.rows)
    raise _NoForm
