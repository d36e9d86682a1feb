"""The syntax tree: frozen dataclasses for statements and expressions.

The parser builds these nodes and nothing else; every node carries the `Span`
it came from so later stages can point into the file. `str(node)` gives back
valid `.idx` text (implicit sums that the checker made explicit print as
`sum[j](...)`), which the property tests use to re-parse what they print.

Chains are n-ary (`Add` holds every top-level term, `Product` every factor of a
`*`, `/` and juxtaposition chain) because the summation rules of spec section
4 are stated in terms of those chains, and because a flat chain keeps a long
line from becoming a deep tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import field, replace
from typing import TYPE_CHECKING, TypeVar

from shapecheck.exhaustive import assert_never
from shapecheck.source import Span

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # the nodes a file uses are built when first made (deferred.py)
    from shapecheck.deferred import dataclass

# ---------------------------------------------------------------------------
# Indices and sizes as written


@dataclass(frozen=True)
class IndexName:
    """An index written as a name (`i`), optionally `a:m` on a left-hand side."""

    name: str
    span: Span
    # `a:m` on a left-hand side (spec 9.4): `a` runs over 1..m.
    runs_over: SizeName | SizeLiteral | None = None

    def __str__(self) -> str:
        return self.name if self.runs_over is None else f"{self.name}:{self.runs_over}"


@dataclass(frozen=True)
class IndexLiteral:
    """A 1-based literal index (`X[1, 2]`), as in the notes' x₁₂."""

    value: int
    span: Span

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class IndexGather:
    """An integer array standing in an index position (spec 9.3): the `y[i]`
    of `P[i, y[i]]`, whose entries pick the position. Its own indices may
    hold gathers too (`P[i, y[z[i]]]`)."""

    name: str
    indices: tuple[Index, ...]
    span: Span

    def __str__(self) -> str:
        return self.name + _index_list(self.indices)


@dataclass(frozen=True)
class IndexSelect:
    """`argmax[j](e)` or `argmin[j](e)` standing in an index position (spec
    9.2): the first position of the maximum or minimum picks the position.
    The call is a sub-expression of the reference that holds it (`children`
    gives it), so every stage checks and walks it like any other call; the
    names free in it are occurrences there, not on the reference itself."""

    call: IndexedCall

    @property
    def span(self) -> Span:
        return self.call.span

    def __str__(self) -> str:
        return str(self.call)


@dataclass(frozen=True)
class IndexSize:
    """A dim's name inside an index expression: that size as a number
    (`Z[i, k + h]`, spec 9.4). The checker turns each name of an expression
    that is a dim into one of these; the parser cannot tell them apart."""

    name: str
    span: Span
    # Its value where it has one (given, `--size`, or chosen for numeric checks).
    value: int | None = None

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class IndexArith:
    """`left op right` inside an index expression: `+`, `-` or `*`."""

    op: str
    left: IndexTree
    right: IndexTree
    span: Span

    def __str__(self) -> str:
        return tree_text(self, str)


@dataclass(frozen=True)
class IndexNeg:
    """A negated index expression (`-i`)."""

    operand: IndexTree
    span: Span

    def __str__(self) -> str:
        return tree_text(self, str)


IndexTree = IndexName | IndexLiteral | IndexGather | IndexSelect | IndexSize | IndexArith | IndexNeg


def tree_text(tree: IndexTree, leaf: Callable[[IndexTree], str]) -> str:
    """An index expression as written, each leaf (a name, number, size,
    gather or selection) as `leaf` prints it: `str` gives `.idx`, a printer
    of math its own leaves with the same operators and parentheses."""
    match tree:
        case IndexArith():
            mine = 1 if tree.op in "+-" else 2
            left = _index_operand(tree.left, mine, leaf)
            right = _index_operand(tree.right, mine + 1, leaf)
            if tree.op == "*" and isinstance(tree.left, IndexLiteral):
                return f"{left} {right}"  # `2 a`, `2 (a - 1)`: juxtaposition, as written
            return f"{left} {tree.op} {right}"
        case IndexNeg():
            return "-" + _index_operand(tree.operand, 3, leaf)
        case _:
            return leaf(tree)


def _index_operand(tree: IndexTree, needed: int, leaf: Callable[[IndexTree], str]) -> str:
    own = 1 if isinstance(tree, IndexArith) and tree.op in "+-" else 2
    own = 3 if isinstance(tree, IndexNeg) else own
    own = 4 if not isinstance(tree, IndexArith | IndexNeg) else own
    text = tree_text(tree, leaf)
    return f"({text})" if own < needed else text


@dataclass(frozen=True)
class IndexExpr:
    """An index expression standing in a position (spec 9.4): `a + u - 1`,
    `2 a + u - 2`, `k + h`. Names in it are indices or, once checked, sizes."""

    tree: IndexTree
    span: Span

    def __str__(self) -> str:
        return str(self.tree)


def index_tree_leaves(tree: IndexTree) -> Iterator[IndexTree]:
    """The leaves of an index expression, left to right (iteratively)."""
    stack: list[IndexTree] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, IndexArith):
            stack.extend((node.right, node.left))
        elif isinstance(node, IndexNeg):
            stack.append(node.operand)
        else:
            yield node


Index = IndexName | IndexLiteral | IndexGather | IndexSelect | IndexExpr


def leaf_indices(indices: tuple[Index, ...]) -> Iterator[IndexName | IndexLiteral]:
    """The names and literals of an index list, those inside gathers included
    (in source order): every index name a reference uses. A selection's names
    belong to its call, a sub-expression of the reference."""
    stack = list(reversed(indices))
    while stack:
        index = stack.pop()
        if isinstance(index, IndexGather):
            stack.extend(reversed(index.indices))
        elif isinstance(index, IndexExpr):
            # The names of an expression (not its numbers, which are no positions).
            for leaf in index_tree_leaves(index.tree):
                if isinstance(leaf, IndexName):
                    yield leaf
                elif isinstance(leaf, IndexGather):
                    yield from leaf_indices(leaf.indices)
        elif not isinstance(index, IndexSelect):
            yield index


def selections(indices: tuple[Index, ...]) -> tuple[IndexedCall, ...]:
    """The `argmax`/`argmin` calls standing in an index list, in source order
    (those inside gathers included)."""
    found: list[IndexedCall] = []
    for index in indices:
        if isinstance(index, IndexSelect):
            found.append(index.call)
        elif isinstance(index, IndexGather):
            found.extend(selections(index.indices))
        elif isinstance(index, IndexExpr):
            # `2 a + argmax[u](e) - 2`: a selection may be a part of an expression.
            leaves = index_tree_leaves(index.tree)
            found.extend(
                selections(tuple(x for x in leaves if isinstance(x, IndexSelect | IndexGather)))
            )
    return tuple(found)


def with_selections(indices: tuple[Index, ...], calls: list[Expr]) -> tuple[Index, ...]:
    """The index list with its selections' calls replaced by `calls`, in the
    order `selections` gives (consumed from the front)."""
    new: list[Index] = []
    for index in indices:
        if isinstance(index, IndexSelect):
            call = calls.pop(0)
            assert isinstance(call, IndexedCall)
            new.append(IndexSelect(call))
        elif isinstance(index, IndexGather):
            new.append(IndexGather(index.name, with_selections(index.indices, calls), index.span))
        elif isinstance(index, IndexExpr):
            new.append(IndexExpr(_tree_with_selections(index.tree, calls), index.span))
        else:
            new.append(index)
    return tuple(new)


def _tree_with_selections(tree: IndexTree, calls: list[Expr]) -> IndexTree:
    """An expression's tree with its selections' calls taken from `calls`, left to right."""
    match tree:
        case IndexArith():
            left = _tree_with_selections(tree.left, calls)
            return IndexArith(tree.op, left, _tree_with_selections(tree.right, calls), tree.span)
        case IndexNeg():
            return IndexNeg(_tree_with_selections(tree.operand, calls), tree.span)
        case IndexSelect() | IndexGather():
            (changed,) = with_selections((tree,), calls)
            assert isinstance(changed, IndexSelect | IndexGather)
            return changed
        case IndexName() | IndexLiteral() | IndexSize():
            return tree
        case _:
            assert_never(tree)


def _index_list(indices: tuple[Index, ...]) -> str:
    return "[" + ", ".join(str(i) for i in indices) + "]" if indices else ""


# ---------------------------------------------------------------------------
# Expressions


@dataclass(frozen=True)
class Number:
    """A numeric literal, with its text as written."""

    value: float
    text: str
    span: Span

    def __str__(self) -> str:
        return self.text


def derivative_label(of: str, wrt: str, order: int = 1) -> str:
    """`dA/dB`, or `d2A/dB2` for the second derivative (spec 9.6)."""
    if order == 2:
        return f"d2{of}/d{wrt}2"
    return f"d{of}/d{wrt}"


@dataclass(frozen=True)
class ArrayRef:
    """`X[i, j]`, or a bare `a` for a scalar."""

    name: str
    indices: tuple[Index, ...]
    span: Span

    def __str__(self) -> str:
        return self.name + _index_list(self.indices)


@dataclass(frozen=True)
class Delta:
    """`delta[i, j]` (or `δ[i, j]`): 1 where the indices are equal, else 0."""

    indices: tuple[Index, ...]
    span: Span

    def __str__(self) -> str:
        return "delta" + _index_list(self.indices)


@dataclass(frozen=True)
class DerivRef:
    """`dA/dB[indices]` or `d2A/dB2[indices]` (order 2): the true value of a
    derivative, in a claim or a definition (spec 9.6)."""

    of: str
    wrt: str
    indices: tuple[Index, ...]
    span: Span
    order: int = 1

    @property
    def label(self) -> str:
        return derivative_label(self.of, self.wrt, self.order)

    def __str__(self) -> str:
        return self.label + _index_list(self.indices)


@dataclass(frozen=True)
class Call:
    """An element-wise function: exp log tanh sigmoid relu sin cos sqrt abs step sign."""

    func: str
    arg: Expr
    span: Span

    def __str__(self) -> str:
        return f"{self.func}({self.arg})"


# The mark of a derivative after an opaque function's name: `f'(x)`, `f''(x)`.
PRIME = "'"


@dataclass(frozen=True)
class OpaqueCall:
    """`f(e)`, `f'(e)`, `f''(e)`: a function the file declares with `fn` (spec 9.5),
    or its derivative of order `order` (the number of primes), entry by entry."""

    func: str
    order: int
    arg: Expr
    span: Span

    def __post_init__(self) -> None:
        if self.order < 0:
            raise ValueError(f"bad derivative order {self.order}")

    def __str__(self) -> str:
        return f"{self.func}{PRIME * self.order}({self.arg})"


@dataclass(frozen=True)
class Extremum:
    """`max(a, b)` or `min(a, b)`: the larger or smaller value, entry by entry."""

    func: str  # "max" or "min"
    first: Expr
    second: Expr
    span: Span

    def __post_init__(self) -> None:
        if self.func not in ("max", "min"):
            raise ValueError(f"bad extremum {self.func!r}")

    def __str__(self) -> str:
        return f"{self.func}({self.first}, {self.second})"


# Comparison operators as printed; the Unicode spellings are read as these.
COMPARISONS = (">", ">=", "<", "<=", "==", "!=")


@dataclass(frozen=True)
class Compare:
    """`a > b` and the other comparisons: 1 where it holds, 0 elsewhere."""

    op: str
    left: Expr
    right: Expr
    span: Span

    def __post_init__(self) -> None:
        if self.op not in COMPARISONS:
            raise ValueError(f"bad comparison {self.op!r}")

    def __str__(self) -> str:
        # Comparisons do not chain, so a comparison operand keeps parentheses.
        return f"{_wrap(self.left, _ADD)} {self.op} {_wrap(self.right, _ADD)}"


@dataclass(frozen=True)
class IndexValue:
    """An index of the statement standing as a number, 1..size (`(j <= i)`, `0.9^t`).

    The parser reads a bare name as an `ArrayRef`; the checker makes it an
    `IndexValue` when the name is an index of the statement and no array.
    """

    name: str
    span: Span

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Loss:
    """`loss(A)`: an unspecified scalar function of the whole array A."""

    name: str
    span: Span
    name_span: Span

    def __str__(self) -> str:
        return f"loss({self.name})"


# The matrix functions of spec 9.5: each takes the name of a square 2-D
# array; `inv(A)` is read at two indices, `det(A)` and `trace(A)` are scalars.
MATRIX_FUNCTIONS = ("det", "inv", "trace")


@dataclass(frozen=True)
class MatrixCall:
    """`det(A)`, `inv(A)[i, j]`, `trace(A)`: a function of the whole matrix A
    (named, like `loss(A)`'s argument); `indices` are inv's two, else empty."""

    func: str
    name: str
    indices: tuple[Index, ...]
    span: Span
    name_span: Span

    def __post_init__(self) -> None:
        if self.func not in MATRIX_FUNCTIONS or len(self.indices) != (
            2 if self.func == "inv" else 0
        ):
            raise ValueError(f"bad matrix function {self.func}{list(self.indices)}")

    def __str__(self) -> str:
        return f"{self.func}({self.name})" + _index_list(self.indices)


@dataclass(frozen=True)
class SumOver:
    """`sum[j](body)`; `explicit` is False for a sum the checker made explicit."""

    indices: tuple[IndexName, ...]
    body: Expr
    span: Span
    explicit: bool = True

    def __str__(self) -> str:
        return "sum" + _index_list(self.indices) + f"({self.body})"


# The functions written `name[indices](argument)` (spec 9.5), and those of them
# that reduce: their indices are bound like `sum[j]`'s. `softmax` keeps its
# indices as indices of its result.
INDEXED_FUNCTIONS = ("softmax", "logsumexp", "norm", "max", "min", "argmax", "argmin")
REDUCING_FUNCTIONS = ("logsumexp", "norm", "max", "min", "argmax", "argmin")
# The reductions of spec 9.2: the maximum or minimum along the bracket's
# indices, and its first position (an integer, 1..size of the index).
EXTREME_REDUCTIONS = ("max", "min")
SELECTIONS = ("argmax", "argmin")


@dataclass(frozen=True)
class IndexedCall:
    """`softmax[j](e)`, `logsumexp[j](e)`, `norm[i, j](e)`, `max[j](e)`,
    `min[u, v](e)`, `argmax[j](e)`, `argmin[j](e)`: a function of the entries
    of `arg` along `indices`."""

    func: str
    indices: tuple[IndexName, ...]
    arg: Expr
    span: Span

    def __post_init__(self) -> None:
        if self.func not in INDEXED_FUNCTIONS or not self.indices:
            raise ValueError(f"bad indexed function {self.func}{list(self.indices)}")

    @property
    def reduces(self) -> bool:
        """Whether its indices are bound (summed away) like `sum[j]`'s."""
        return self.func in REDUCING_FUNCTIONS

    def __str__(self) -> str:
        return self.func + _index_list(self.indices) + f"({self.arg})"


@dataclass(frozen=True)
class MeanOver:
    """`mean[i](body)`: `sum[i](body)` divided by the size of `i` (spec 9.1)."""

    indices: tuple[IndexName, ...]
    body: Expr
    span: Span

    def __str__(self) -> str:
        return "mean" + _index_list(self.indices) + f"({self.body})"


# The nodes that bind indices over a body of their own (rule 3's scopes).
Reduction = SumOver | MeanOver


@dataclass(frozen=True)
class RangeBound:
    """A bound of `sum[t in A..B]`: a whole number, or a name (a dim with a
    value, or an enclosing loop variable) plus an offset (`t-1`)."""

    value: int | None
    name: str | None
    offset: int
    span: Span

    def __post_init__(self) -> None:
        if (self.value is None) == (self.name is None) or (self.value is not None and self.offset):
            raise ValueError("a range bound is a number or a name with an offset")

    def __str__(self) -> str:
        if self.name is None:
            return str(self.value)
        if self.offset:
            return f"{self.name}{self.offset:+d}"
        return self.name


@dataclass(frozen=True)
class RangeSum:
    """`sum[t in A..B](body)` (spec 9.4): the sum of `body` for t = A..B, with
    `{t}` templates and a bare `t` standing for the number. The parser makes
    it; `syntax/unroll.py` replaces it by that sum, so no later stage sees one."""

    var: str
    start: RangeBound
    stop: RangeBound
    body: Expr
    span: Span
    var_span: Span

    def __str__(self) -> str:
        return f"sum[{self.var} in {self.start}..{self.stop}]({self.body})"


@dataclass(frozen=True)
class SizeRef:
    """A `dim` name standing as a number (spec 9.1): `/ n`, `sqrt(dk)`.

    The parser reads a bare `n` as a scalar `ArrayRef`; the checker, which
    knows the dims, replaces it by this node. `value` is the dim's value
    where it has one (given, `--size`, or chosen for numeric checks); the
    node prints as the name, never as the number.
    """

    name: str
    value: int | None
    span: Span

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Negate:
    """A unary minus on an expression."""

    operand: Expr
    span: Span

    def __str__(self) -> str:
        return "-" + _wrap(self.operand, _UNARY)


@dataclass(frozen=True)
class Power:
    """`base ^ exponent` (also written `**`)."""

    base: Expr
    exponent: Expr
    span: Span

    def __str__(self) -> str:
        # Right-associative: a power as the base needs parentheses, as the
        # exponent it does not.
        exponent = (
            str(self.exponent)
            if isinstance(self.exponent, Power | Negate)
            else _wrap(self.exponent, _ATOM)
        )
        return _wrap(self.base, _ATOM) + "^" + exponent


@dataclass(frozen=True)
class Factor:
    """One factor of a product; `op` is "" for the first, "*", "/" or " "."""

    op: str
    expr: Expr

    def __post_init__(self) -> None:
        if self.op not in ("", "*", "/", " "):
            raise ValueError(f"bad factor operator {self.op!r}")


@dataclass(frozen=True)
class Product:
    """Two or more factors, each after `*`, `/` or juxtaposition (the first after none)."""

    factors: tuple[Factor, ...]
    span: Span

    def __post_init__(self) -> None:
        if len(self.factors) < 2 or self.factors[0].op != "":
            raise ValueError("a product has two or more factors, the first without operator")

    def __str__(self) -> str:
        parts = []
        for factor in self.factors:
            text = _wrap(factor.expr, _UNARY if factor.op == "" else _POWER)
            if factor.op == "":
                parts.append(text)
            elif factor.op == " ":
                parts.append(" " + text)
            else:
                parts.append(f" {factor.op} {text}")
        return "".join(parts)


@dataclass(frozen=True)
class Term:
    """One top-level operand of an `Add`; the first always has sign "+"."""

    sign: str
    expr: Expr

    def __post_init__(self) -> None:
        if self.sign not in ("+", "-"):
            raise ValueError(f"bad sign {self.sign!r}")


@dataclass(frozen=True)
class Add:
    """Two or more terms, each with its sign (the first `+`)."""

    terms: tuple[Term, ...]
    span: Span

    def __post_init__(self) -> None:
        if len(self.terms) < 2 or self.terms[0].sign != "+":
            raise ValueError("a sum has two or more terms, the first with sign +")

    def __str__(self) -> str:
        out = _wrap(self.terms[0].expr, _PRODUCT)
        for term in self.terms[1:]:
            out += f" {term.sign} " + _wrap(term.expr, _PRODUCT)
        return out


Expr = (
    Number
    | ArrayRef
    | SizeRef
    | Delta
    | DerivRef
    | Call
    | OpaqueCall
    | Loss
    | MatrixCall
    | SumOver
    | MeanOver
    | RangeSum
    | IndexedCall
    | Extremum
    | Compare
    | IndexValue
    | Negate
    | Power
    | Product
    | Add
)

# Binding strength, loosest first, for printing with the fewest parentheses.
_COMPARE, _ADD, _PRODUCT, _UNARY, _POWER, _ATOM = range(6)


def precedence(expr: Expr) -> int:
    match expr:
        case Compare():
            return _COMPARE
        case Add():
            return _ADD
        case Product():
            return _PRODUCT
        case Negate():
            return _UNARY
        case Power():
            return _POWER
        case Number():
            return _UNARY if expr.value < 0 else _ATOM
        case (
            ArrayRef()
            | SizeRef()
            | Delta()
            | DerivRef()
            | Call()
            | OpaqueCall()
            | IndexedCall()
            | Extremum()
            | IndexValue()
            | Loss()
            | MatrixCall()
            | SumOver()
            | MeanOver()
            | RangeSum()
        ):
            return _ATOM
        case _:
            assert_never(expr)


def _wrap(expr: Expr, needed: int) -> str:
    # A nested Add always keeps its parentheses: `(a + b) + c` has two
    # top-level terms, not three, and printing must not change that.
    text = str(expr)
    return f"({text})" if precedence(expr) < needed else text


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions, in source order."""
    # The commonest kinds first: this runs for every node of every walk.
    match expr:
        case ArrayRef() | Delta() | DerivRef() | MatrixCall():
            # `argmax[j](e)` standing in a position is a sub-expression.
            return selections(expr.indices)
        case Product():
            return tuple([f.expr for f in expr.factors])
        case Number() | SizeRef() | Loss() | IndexValue():
            return ()
        case Add():
            return tuple([t.expr for t in expr.terms])
        case Power():
            return (expr.base, expr.exponent)
        case Negate():
            return (expr.operand,)
        case Call() | OpaqueCall() | IndexedCall():
            return (expr.arg,)
        case Extremum():
            return (expr.first, expr.second)
        case Compare():
            return (expr.left, expr.right)
        case SumOver() | MeanOver() | RangeSum():
            return (expr.body,)
        case _:
            assert_never(expr)


def with_children(expr: Expr, new: tuple[Expr, ...]) -> Expr:
    """The same node with its direct sub-expressions replaced (same order as `children`)."""
    match expr:
        case Number() | SizeRef() | Loss() | IndexValue():
            return expr
        case ArrayRef() | Delta() | DerivRef() | MatrixCall():
            return _with_new_selections(expr, new)
        case Product():
            factors = tuple(Factor(f.op, e) for f, e in zip(expr.factors, new, strict=True))
            return Product(factors, expr.span)
        case Add():
            terms = tuple(Term(t.sign, e) for t, e in zip(expr.terms, new, strict=True))
            return Add(terms, expr.span)
        case Power():
            return Power(new[0], new[1], expr.span)
        case Negate():
            return Negate(new[0], expr.span)
        case Call() | OpaqueCall():
            return replace(expr, arg=new[0])
        case IndexedCall():
            return IndexedCall(expr.func, expr.indices, new[0], expr.span)
        case Extremum():
            return Extremum(expr.func, new[0], new[1], expr.span)
        case Compare():
            return Compare(expr.op, new[0], new[1], expr.span)
        case SumOver():
            return SumOver(expr.indices, new[0], expr.span, expr.explicit)
        case MeanOver() | RangeSum():
            return replace(expr, body=new[0])
        case _:
            assert_never(expr)


def _with_new_selections(
    expr: ArrayRef | Delta | DerivRef | MatrixCall, new: tuple[Expr, ...]
) -> Expr:
    if not new:
        return expr
    indices = with_selections(expr.indices, list(new))
    return replace(expr, indices=indices)


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node below and including `expr`, parents first (iterative: no depth limit)."""
    cached = _WALKED.get(id(expr))
    if cached is not None and cached[0] is expr:
        return iter(cached[1])
    nodes: list[Expr] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(reversed(children(node)))
    if len(_WALKED) >= _WALKED_KEEP:
        del _WALKED[next(iter(_WALKED))]  # the oldest
    _WALKED[id(expr)] = (expr, nodes)
    return iter(nodes)


# The nodes of the last few expressions walked, by identity. The checker walks
# one right-hand side once per rule module (eight walks of each statement
# between unrolling and checking); nodes are frozen, so a walk's nodes never
# change. An entry holds its root, so that its id is not reused while cached.
_WALKED: dict[int, tuple[Expr, list[Expr]]] = {}
_WALKED_KEEP = 16


def depth(expr: Expr) -> int:
    """Nesting depth, computed without recursion so hostile input cannot overflow."""
    deepest = 0
    stack = [(expr, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children(node))
    return deepest


# ---------------------------------------------------------------------------
# Statements

# The loop values an unrolled statement was made with, outermost first.
LoopValues = tuple[tuple[str, int], ...]


# A size expression of `dim` (spec 9.4): numbers, earlier dims, `+ - * /`,
# juxtaposition, `^` with a number exponent, unary minus and parentheses.
# The checker reads it exactly (check/sizeexpr.py); it never stands elsewhere.


@dataclass(frozen=True)
class SizeNumber:
    """A number in a size expression."""

    value: int | float
    span: Span

    def __str__(self) -> str:
        return str(int(self.value)) if float(self.value).is_integer() else str(self.value)


@dataclass(frozen=True)
class SizeDim:
    """A dim's name in a size expression."""

    name: str
    span: Span

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class SizeArith:
    """A binary operation in a size expression (`+ - * / ^`)."""

    op: str  # "+", "-", "*", "/" or "^"
    left: SizeExpr
    right: SizeExpr
    span: Span

    def __str__(self) -> str:
        mine = _SIZE_PRECEDENCE[self.op]
        # Left to right: a right operand of equal precedence needs parentheses
        # (`n - (k - 1)`), except for `^`, which groups to the right.
        left = _size_operand(self.left, mine + (1 if self.op == "^" else 0))
        right = _size_operand(self.right, mine + (0 if self.op == "^" else 1))
        if self.op == "*" and isinstance(self.left, SizeNumber) and _starts_with_dim(self.right):
            return f"{left} {right}"
        spaced = "^" if self.op == "^" else f" {self.op} "
        return f"{left}{spaced}{right}"


@dataclass(frozen=True)
class SizeNeg:
    """A negated size expression."""

    operand: SizeExpr
    span: Span

    def __str__(self) -> str:
        return "-" + _size_operand(self.operand, 3)


SizeExpr = SizeNumber | SizeDim | SizeArith | SizeNeg


def _starts_with_dim(expr: SizeExpr) -> bool:
    """`n` or `n^2`: what juxtaposition prints after a number (`2 n^2`)."""
    return isinstance(expr, SizeDim) or (
        isinstance(expr, SizeArith) and expr.op == "^" and isinstance(expr.left, SizeDim)
    )


_SIZE_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}


def _size_operand(expr: SizeExpr, needed: int) -> str:
    match expr:
        case SizeArith():
            own = _SIZE_PRECEDENCE[expr.op]
        case SizeNeg():
            own = 3
        case SizeNumber() | SizeDim():
            own = 5
        case _:
            assert_never(expr)
    return f"({expr})" if own < needed else str(expr)


def size_leaves(expr: SizeExpr) -> Iterator[SizeNumber | SizeDim]:
    """The numbers and dims of a size expression, left to right (iteratively)."""
    stack: list[SizeExpr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, SizeArith):
            stack.extend((node.right, node.left))
        elif isinstance(node, SizeNeg):
            stack.append(node.operand)
        else:
            yield node


def size_names(expr: SizeExpr) -> Iterator[SizeDim]:
    """The dims a size expression names, left to right (iteratively: no depth limit)."""
    stack: list[SizeExpr] = [expr]
    while stack:
        node = stack.pop()
        match node:
            case SizeDim():
                yield node
            case SizeArith():
                stack.extend((node.right, node.left))
            case SizeNeg():
                stack.append(node.operand)
            case SizeNumber():
                pass
            case _:
                assert_never(node)


_V = TypeVar("_V")


def fold_size(
    expr: SizeExpr,
    leaf: Callable[[SizeNumber | SizeDim], _V],
    arith: Callable[[SizeArith, _V, _V], _V],
    negate: Callable[[SizeNeg, _V], _V],
) -> _V:
    """A size expression folded bottom-up, iteratively (a long chain is a deep tree)."""
    done: list[_V] = []
    stack: list[tuple[SizeExpr, bool]] = [(expr, False)]
    while stack:
        node, visited = stack.pop()
        match node:
            case SizeNumber() | SizeDim():
                done.append(leaf(node))
            case SizeArith() if visited:
                right = done.pop()
                done.append(arith(node, done.pop(), right))
            case SizeArith():
                stack.extend(((node, True), (node.right, False), (node.left, False)))
            case SizeNeg() if visited:
                done.append(negate(node, done.pop()))
            case SizeNeg():
                stack.extend(((node, True), (node.operand, False)))
            case _:
                assert_never(node)
    return done[0]


@dataclass(frozen=True)
class DimEntry:
    """`n`, `n = 8`, or `m = n - k + 1` (a size expression naming earlier dims)."""

    name: str
    value: int | float | None
    span: Span
    # The written expression where it names a dim; `value` is then None.
    size: SizeExpr | None = None

    def __str__(self) -> str:
        if self.size is not None:
            return f"{self.name} = {self.size}"
        if self.value is None:
            return self.name
        value = int(self.value) if float(self.value).is_integer() else self.value
        return f"{self.name} = {value}"


@dataclass(frozen=True)
class DimStmt:
    """`dim n = 3, m`: one or more dims, each with or without a size."""

    entries: tuple[DimEntry, ...]
    span: Span
    loop: LoopValues = ()

    def __str__(self) -> str:
        return "dim " + ", ".join(str(e) for e in self.entries)


@dataclass(frozen=True)
class SizeName:
    """A dim's name as an extent of a declared shape."""

    name: str
    span: Span

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class SizeLiteral:
    """A number as an extent of a declared shape."""

    value: int
    span: Span

    def __str__(self) -> str:
        return str(self.value)


ShapeItem = SizeName | SizeLiteral

# A literal value: a number, or a nested tuple of numbers.
LiteralData = float | tuple["LiteralData", ...]


def _literal_text(data: LiteralData) -> str:
    if isinstance(data, tuple):
        return "[" + ", ".join(_literal_text(d) for d in data) + "]"
    return repr(int(data)) if float(data).is_integer() else repr(data)


@dataclass(frozen=True)
class LiteralValue:
    """The value written for an array in its declaration."""

    data: LiteralData
    span: Span

    def __str__(self) -> str:
        return _literal_text(self.data)


@dataclass(frozen=True)
class ArrayDecl:
    """One array of an `input` or `param` statement: name, shape and options."""

    name: str
    shape: tuple[ShapeItem, ...]
    positive: bool
    value: LiteralValue | None
    span: Span
    # `in c`: an array of integers in 1..c (spec 9.3), and where `in` was written.
    classes: ShapeItem | None = None
    classes_span: Span | None = None

    def __str__(self) -> str:
        text = self.name
        if self.shape:
            text += "[" + ", ".join(str(s) for s in self.shape) + "]"
        if self.classes is not None:
            text += f" in {self.classes}"
        if self.positive:
            text += " positive"
        if self.value is not None:
            text += f" = {self.value}"
        return text


@dataclass(frozen=True)
class DeclStmt:
    """`input ...` or `param ...`: one or more array declarations."""

    kind: str  # "input" or "param"
    entries: tuple[ArrayDecl, ...]
    span: Span
    loop: LoopValues = ()

    def __str__(self) -> str:
        return self.kind + " " + ", ".join(str(e) for e in self.entries)


@dataclass(frozen=True)
class FnName:
    """A function declared with `fn`."""

    name: str
    span: Span

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class FnStmt:
    """`fn f, g`: names of opaque element-wise functions (spec 9.5)."""

    names: tuple[FnName, ...]
    span: Span
    loop: LoopValues = ()

    def __str__(self) -> str:
        return "fn " + ", ".join(str(n) for n in self.names)


@dataclass(frozen=True)
class DeriveTarget:
    """One `dA/dB` of a `derive` statement, with its order and index names."""

    of: str
    wrt: str
    span: Span
    order: int = 1
    # `derive dY/dX[i, k, p, q]`: the signature's index names, in layout order.
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        return derivative_label(self.of, self.wrt, self.order)


@dataclass(frozen=True)
class DeriveStmt:
    """`derive dA/dB, ...`: the derivatives the file asks for."""

    targets: tuple[DeriveTarget, ...]
    span: Span
    loop: LoopValues = ()

    def __str__(self) -> str:
        return "derive " + ", ".join(
            str(t) + (f"[{', '.join(t.names)}]" if t.names else "") for t in self.targets
        )


@dataclass(frozen=True)
class LayoutStmt:
    """`layout numerator` or `layout denominator`."""

    layout: str
    span: Span
    loop: LoopValues = ()

    def __str__(self) -> str:
        return f"layout {self.layout}"


@dataclass(frozen=True)
class Definition:
    """`y[i] = ...`: an array defined by an expression."""

    name: str
    indices: tuple[Index, ...]
    rhs: Expr
    span: Span
    name_span: Span
    loop: LoopValues = ()

    def __str__(self) -> str:
        return f"{self.name}{_index_list(self.indices)} = {self.rhs}"


@dataclass(frozen=True)
class Claim:
    """`dA/dB[...] = ...`: a claimed derivative, to be verified."""

    of: str
    wrt: str
    indices: tuple[Index, ...]
    rhs: Expr
    span: Span
    name_span: Span
    loop: LoopValues = ()
    order: int = 1

    def __str__(self) -> str:
        label = derivative_label(self.of, self.wrt, self.order)
        return f"{label}{_index_list(self.indices)} = {self.rhs}"


@dataclass(frozen=True)
class Bound:
    """A loop bound: an integer, or a dim that has a value."""

    value: int | None
    name: str | None
    span: Span

    def __str__(self) -> str:
        return self.name if self.name is not None else str(self.value)


@dataclass(frozen=True)
class ForHeader:
    """`for t in 1..3:` as parsed from its own line; `ForBlock` adds the body."""

    var: str
    start: Bound
    stop: Bound
    span: Span
    loop: LoopValues = ()

    def __str__(self) -> str:
        return f"for {self.var} in {self.start}..{self.stop}:"


@dataclass(frozen=True)
class ForBlock:
    """A `for` header and the statements it repeats."""

    header: ForHeader
    body: tuple[Statement, ...]
    span: Span
    loop: LoopValues = ()

    def __str__(self) -> str:
        lines = [str(self.header)]
        for statement in self.body:
            lines.extend("    " + line for line in str(statement).splitlines())
        return "\n".join(lines)


# A statement of one logical line; `ForBlock` is the one made of several.
LineStatement = DimStmt | DeclStmt | FnStmt | DeriveStmt | LayoutStmt | Definition | Claim
Statement = LineStatement | ForBlock


@dataclass(frozen=True)
class Program:
    """A parsed file: its statements, and what unrolling and failed lines left."""

    statements: tuple[Statement, ...] = field(default=())
    # After unrolling: the `for` headers that were expanded (their bounds
    # count as uses of the dims they name).
    loops: tuple[ForHeader, ...] = ()
    # Names that lines which failed to parse seem to define, so that their
    # uses are not reported again as unknown; and whether every line parsed.
    unparsed_names: tuple[str, ...] = ()
    complete: bool = True

    def __str__(self) -> str:
        return "\n".join(str(s) for s in self.statements) + "\n"
