"""The symbolic IR: tensor expressions in index notation, frozen and sized.

Lowering turns checked definitions into these terms; differentiation and
simplification rewrite them; evaluation turns them into numpy. Every term can
say its free indices (each with its size), and rewriting never changes them.

- `Idx(name, size)` is an index; `Fixed(value)` a literal (1-based) index;
  `Gather(name, indices)` an integer array standing in a position (spec 9.3);
  `Select(choice)` an `argmax[j](e)` or `argmin[j](e)` standing in one (9.2).
- `Tensor` is a named array at some indices: a declared or defined array, an
  opaque upstream gradient `dloss/dY`, a derivative reference `dL/dY` of a claim,
  or an adjoint `dL/dY` named by reverse mode.
- `Product` is Σ over `summed` of the product of `factors`.
- `IndexedFunc` is softmax, logsumexp or norm of its argument along indices it
  binds (spec 9.5); softmax is read at positions of its own (`at`). The
  reductions `max[j]`, `min[j]` and the selections `argmax[j]`, `argmin[j]`
  (spec 9.2) are indexed functions too; the selections' value is an integer.
- `Matrix` is `det(A)`, `trace(A)` or `inv(A)` read at two indices, of the
  whole square array named A (spec 9.5), as `Loss` is a function of a whole array.
- `Compare` is 1 where a comparison holds and 0 elsewhere; `Extremum` is
  `max(a, b)` or `min(a, b)`; `IndexValue` is an index as a number 1..size.
  With `step`, `sign`, `relu` and `abs` they are the piecewise terms: each has
  kinks where it changes branch (see `numeric/kinks.py`).
- `Add` carries its free indices explicitly: a term may lack some of them and is
  then broadcast over them (spec rule 4), and simplification may not lose them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from shapecheck.check.program import Size
from shapecheck.exhaustive import assert_never

_T = TypeVar("_T")
_V = TypeVar("_V")


class _Cached(Generic[_V]):
    """`functools.cached_property` without its lock (Python 3.11 takes one on
    every first read): terms are immutable and built by one thread, and the
    first read of `free` happens for every new node (75,000 of them for the
    1,000-step RNN). Stored under its own name in the instance's `__dict__`,
    as there, so a later read finds the value and never calls this."""

    def __init__(self, func: Callable[[Any], _V]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _Cached[_V]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _V: ...

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value
        return value


def _cache_hash(cls: type[_T]) -> type[_T]:
    """Remember each term's hash: terms are immutable and deeply nested, and
    the simplifier's memo would otherwise rehash whole subtrees every lookup."""
    generated: Callable[[Any], int] = cls.__hash__

    def __hash__(self: Any) -> int:
        cache = self.__dict__
        value = cache.get("_hash")
        if value is None:
            value = generated(self)
            cache["_hash"] = value
        return value  # type: ignore[no-any-return]

    def __getstate__(self: Any) -> dict[str, Any]:
        # A pickled term (sent to a `--jobs` worker) must not carry its hash:
        # string hashes differ between processes unless PYTHONHASHSEED is set.
        state = dict(self.__dict__)
        state.pop("_hash", None)
        return state

    cls.__hash__ = __hash__  # type: ignore[method-assign]
    cls.__getstate__ = __getstate__  # type: ignore[attr-defined]
    return cls


@dataclass(frozen=True, order=True)
class Idx:
    name: str
    size: Size

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, order=True)
class Fixed:
    """A literal index, 1-based as written."""

    value: int

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class Gather:
    """An integer array standing in an index position (spec 9.3): `y[i]` in
    `P[i, y[i]]` or `δ[k, y[i]]`, whose 1-based entries pick the position.
    Its indices are free indices of whatever holds it; it may nest."""

    name: str
    indices: tuple[Index, ...]

    def __str__(self) -> str:
        return self.name + "[" + ",".join(str(i) for i in self.indices) + "]"


@dataclass(frozen=True)
class Select:
    """`argmax[j](e)` or `argmin[j](e)` standing in an index position (spec
    9.2): the first position of the maximum or minimum of `e` along `j` picks
    the position. `choice` is the `IndexedFunc` that is its value; the free
    indices of the choice are free indices of whatever holds it, as a
    gather's are. Printers print it with their own term printer."""

    choice: IndexedFunc

    def __post_init__(self) -> None:
        if self.choice.name not in SELECTIONS:
            raise ValueError(f"{self.choice.name} cannot stand in an index position")

    def __str__(self) -> str:
        over = ",".join(o.name for o in self.choice.over)
        return f"{self.choice.name}[{over}](…)"


@dataclass(frozen=True)
class SizeSum:
    """A whole number made of sizes (spec 9.4): Σ integer × product of sizes,
    `h`, `2 w - 1`, `3`; sizes print by name, so results keep `--size` honest."""

    terms: tuple[tuple[int, tuple[Size, ...]], ...] = ()

    @staticmethod
    def of(pairs: list[tuple[int, tuple[Size, ...]]]) -> SizeSum:
        summed: dict[tuple[Size, ...], int] = {}
        for coefficient, sizes in pairs:
            key = tuple(sorted(sizes, key=_size_key))
            summed[key] = summed.get(key, 0) + coefficient
        # Sizes first, the number last: `k + h - 1`.
        ordered = sorted(summed.items(), key=lambda p: (not p[0], [_size_key(s) for s in p[0]]))
        return SizeSum(tuple((c, sizes) for sizes, c in ordered if c != 0))

    @staticmethod
    def number(value: int) -> SizeSum:
        return SizeSum.of([(value, ())])

    def __add__(self, other: SizeSum) -> SizeSum:
        return SizeSum.of([*self.terms, *other.terms])

    def times(self, other: SizeSum) -> SizeSum:
        return SizeSum.of([(c1 * c2, s1 + s2) for c1, s1 in self.terms for c2, s2 in other.terms])

    @property
    def constant(self) -> int | None:
        """The number, where no size stands in it."""
        if all(not sizes for _, sizes in self.terms):
            return sum(c for c, _ in self.terms)
        return None

    def value(self) -> int:
        """The number with every size's value (known wherever terms are evaluated)."""
        total = 0
        for coefficient, sizes in self.terms:
            product = coefficient
            for size in sizes:
                if size.value is None:
                    raise ValueError(f"size {size} has no value")
                product *= size.value
            total += product
        return total

    def terms_text(self) -> list[tuple[int, str]]:
        return [(c, " ".join(str(s) for s in sizes)) for c, sizes in self.terms]

    def __str__(self) -> str:
        return signed_sum(self.terms_text())


def _size_key(size: Size) -> tuple[str, int]:
    return (size.name or "", size.value or 0)


def signed_sum(parts: list[tuple[int, str]]) -> str:
    """`2 a + u - 1` from (coefficient, text) pairs; empty text is the number."""
    text = ""
    for coefficient, body in parts:
        magnitude = abs(coefficient)
        shown = body if magnitude == 1 and body else f"{magnitude} {body}".strip()
        if not text:
            text = f"-{shown}" if coefficient < 0 else shown
        else:
            text += f" {'-' if coefficient < 0 else '+'} {shown}"
    return text or "0"


@dataclass(frozen=True)
class Shift:
    """An index expression in a position (spec 9.4): Σ coefficient × index +
    offset, `a + u - 1`, `2 a + u - 2`, `k + h`. Its indices are free indices
    of whatever holds it (as a gather's are); coefficients and offset are
    whole numbers that may name sizes. Built by `shift`, which folds literals
    and nested shifts; a number is a `Fixed`."""

    parts: tuple[tuple[Idx | Gather | Select, SizeSum], ...]
    offset: SizeSum

    def __str__(self) -> str:
        pieces = []
        for index, coefficient in self.parts:
            pieces.extend(scaled_index(str(index), coefficient))
        pieces.extend(self.offset.terms_text())
        return signed_sum(pieces)


def scaled_index(name: str, coefficient: SizeSum) -> list[tuple[int, str]]:
    # `2 a`, `-a`, `w a` (a size times the index), `(w - 1) a`.
    number = coefficient.constant
    if number is not None:
        return [(number, name)]
    if len(coefficient.terms) == 1:
        c, sizes = coefficient.terms[0]
        return [(c, " ".join([*(str(s) for s in sizes), name]))]
    return [(1, f"({coefficient}) {name}")]


def shift(parts: list[tuple[Index, SizeSum]], offset: SizeSum) -> Index:
    """The index `Σ coefficient × index + offset`, normalised: literals and
    nested shifts folded in, like indices collected, a number as `Fixed`."""
    collected: dict[Idx | Gather | Select, SizeSum] = {}
    for index, coefficient in parts:
        match index:
            case Idx() | Gather() | Select():
                # A gather or selection comes in only where a delta set an
                # index of the expression to one (`δ[a, y[i]]` eaten).
                collected[index] = collected.get(index, SizeSum()) + coefficient
            case Fixed():
                offset = offset + coefficient.times(SizeSum.number(index.value))
            case Shift():
                for inner, c in index.parts:
                    collected[inner] = collected.get(inner, SizeSum()) + coefficient.times(c)
                offset = offset + coefficient.times(index.offset)
            case _:
                assert_never(index)
    kept = tuple((i, c) for i, c in collected.items() if c.terms)
    number = offset.constant
    if not kept and number is not None and number >= 1:
        return Fixed(number)
    # A lone index stays a shift: it may run over fewer entries than the
    # axis it reads (`h[a, k]` with `a:m` over `h[T, k]`), so it picks.
    return Shift(kept, offset)


Index = Idx | Fixed | Gather | Select | Shift


def index_leaves(indices: tuple[Index, ...]) -> list[Idx]:
    """The index names of an index list, those inside gathers, selections
    and index expressions included, in order."""
    found: list[Idx] = []
    for index in indices:
        if isinstance(index, Idx):
            found.append(index)
        elif isinstance(index, Gather):
            found.extend(index_leaves(index.indices))
        elif isinstance(index, Select):
            found.extend(index.choice.free)
        elif isinstance(index, Shift):
            found.extend(index_leaves(tuple(i for i, _ in index.parts)))
    return found


def selections(indices: tuple[Index, ...]) -> list[Select]:
    """The selections standing in an index list, those inside gathers included."""
    found: list[Select] = []
    for index in indices:
        if isinstance(index, Select):
            found.append(index)
        elif isinstance(index, Gather):
            found.extend(selections(index.indices))
        elif isinstance(index, Shift):
            found.extend(selections(tuple(i for i, _ in index.parts)))
    return found


def picks_entries(indices: tuple[Index, ...]) -> bool:
    """Whether a position is picked by values (a gather, a selection or an
    index expression: evaluators read them all by fancy indexing)."""
    return any(isinstance(i, Gather | Select | Shift) for i in indices)


# Element-wise functions: the language's, plus two that only derivatives make
# (`step` for relu', `sign` for abs').
FUNCTIONS = ("exp", "log", "tanh", "sigmoid", "relu", "sin", "cos", "sqrt", "abs", "step", "sign")

# Comparisons, as printed (the Unicode spellings are read as these).
COMPARISONS = (">", ">=", "<", "<=", "==", "!=")
EXTREMA = ("max", "min")

# Tensor kinds
ARRAY, UPSTREAM, REFERENCE, ADJOINT = "array", "upstream", "reference", "adjoint"


def _unique(indices: list[Idx]) -> tuple[Idx, ...]:
    seen: dict[str, Idx] = {}
    for index in indices:
        seen.setdefault(index.name, index)
    return tuple(seen.values())


@_cache_hash
@dataclass(frozen=True)
class Const:
    value: float

    @property
    def free(self) -> tuple[Idx, ...]:
        return ()


@_cache_hash
@dataclass(frozen=True)
class SizeOf:
    """The size of an index that a sum ran over with nothing depending on it."""

    size: Size

    @property
    def free(self) -> tuple[Idx, ...]:
        return ()


@_cache_hash
@dataclass(frozen=True)
class Tensor:
    name: str
    indices: tuple[Index, ...]
    kind: str = ARRAY

    @_Cached
    def free(self) -> tuple[Idx, ...]:
        return _unique(index_leaves(self.indices))


@_cache_hash
@dataclass(frozen=True)
class Delta:
    indices: tuple[Index, ...]

    def __post_init__(self) -> None:
        if len(self.indices) < 2:
            raise ValueError("a delta has two or more indices")

    @_Cached
    def free(self) -> tuple[Idx, ...]:
        return _unique(index_leaves(self.indices))


@_cache_hash
@dataclass(frozen=True)
class Func:
    name: str
    arg: Term

    def __post_init__(self) -> None:
        if self.name not in FUNCTIONS:
            raise ValueError(f"unknown function {self.name}")

    @property
    def free(self) -> tuple[Idx, ...]:
        return self.arg.free


@_cache_hash
@dataclass(frozen=True)
class Opaque:
    """`f(arg)` for a function the file declares with `fn` (spec 9.5), or its
    derivative of order `order`: `f'(arg)` is `Opaque("f", 1, arg)`. Nothing is
    known of it but smoothness, so no rule looks inside the name."""

    name: str
    order: int
    arg: Term

    def __post_init__(self) -> None:
        if self.order < 0:
            raise ValueError(f"bad derivative order {self.order}")

    @property
    def free(self) -> tuple[Idx, ...]:
        return self.arg.free

    @property
    def written(self) -> str:
        """The name with its primes, as `.idx` writes it: `f''`."""
        return self.name + "'" * self.order


# Functions of the entries along some indices (spec 9.5); all but softmax
# reduce. The maximum and minimum along an index and their first positions
# (spec 9.2) are among them: each of those runs over one index (lowering nests
# `max[u, v](e)` as `max[u](max[v](e))`, the same value and the same first
# position in row-major order).
EXTREME_REDUCTIONS = ("max", "min")
SELECTIONS = ("argmax", "argmin")
INDEXED_FUNCTIONS = ("softmax", "logsumexp", "norm", *EXTREME_REDUCTIONS, *SELECTIONS)


@_cache_hash
@dataclass(frozen=True)
class IndexedFunc:
    """A function of `arg`'s entries along `over`, indices it binds (as a
    product's `summed`). logsumexp and norm reduce over them (`at` is empty);
    softmax is an array over `at`, one index or literal per index of `over`:
    exp(arg with over = at) / Σ_over exp(arg). Keeping `at` apart from `over`
    lets a delta eaten into a softmax (δ[k,q] sets k = q, or k = 2) keep its
    meaning, as it would not if the normalised index were free in `arg`.
    """

    name: str
    over: tuple[Idx, ...]
    arg: Term
    at: tuple[Index, ...] = ()

    def __post_init__(self) -> None:
        if self.name not in INDEXED_FUNCTIONS or not self.over:
            raise ValueError(f"bad indexed function {self.name}")
        if len(self.at) != (len(self.over) if self.name == "softmax" else 0):
            raise ValueError(f"{self.name} at {self.at} over {self.over}")
        if self.name in (*EXTREME_REDUCTIONS, *SELECTIONS) and len(self.over) != 1:
            raise ValueError(f"{self.name} runs over one index, not {self.over}")

    @_Cached
    def free(self) -> tuple[Idx, ...]:
        # In the argument's order, each position of `over` read at `at`.
        placed = {o.name: a for o, a in zip(self.over, self.at, strict=False)}
        bound = {o.name for o in self.over}
        ordered: list[Idx] = []
        for index in self.arg.free:
            if index.name not in bound:
                ordered.append(index)
            elif (at := placed.get(index.name)) is not None and not isinstance(at, Fixed):
                # Read at an index, or at a label or selection (`y[i]`): its indices.
                ordered.extend(index_leaves((at,)))
        ordered.extend(index_leaves(self.at))
        return _unique(ordered)


@_cache_hash
@dataclass(frozen=True)
class Compare:
    """`left op right`: 1 where it holds, 0 elsewhere, entry by entry."""

    op: str
    left: Term
    right: Term

    def __post_init__(self) -> None:
        if self.op not in COMPARISONS:
            raise ValueError(f"unknown comparison {self.op}")

    @_Cached
    def free(self) -> tuple[Idx, ...]:
        return _unique([*self.left.free, *self.right.free])


@_cache_hash
@dataclass(frozen=True)
class Extremum:
    """`max(first, second)` or `min(first, second)`, entry by entry."""

    name: str
    first: Term
    second: Term

    def __post_init__(self) -> None:
        if self.name not in EXTREMA:
            raise ValueError(f"unknown extremum {self.name}")

    @_Cached
    def free(self) -> tuple[Idx, ...]:
        return _unique([*self.first.free, *self.second.free])


@_cache_hash
@dataclass(frozen=True)
class IndexValue:
    """An index as a number: `index` takes the values 1..size."""

    index: Idx

    @property
    def free(self) -> tuple[Idx, ...]:
        return (self.index,)


@_cache_hash
@dataclass(frozen=True)
class Pow:
    base: Term
    exponent: Term

    @_Cached
    def free(self) -> tuple[Idx, ...]:
        return _unique([*self.base.free, *self.exponent.free])


@_cache_hash
@dataclass(frozen=True)
class Loss:
    """`loss(A)`: an unspecified scalar function of the whole array A."""

    array: str

    @property
    def free(self) -> tuple[Idx, ...]:
        return ()


# The matrix functions of spec 9.5.
MATRIX_FUNCTIONS = ("det", "inv", "trace")


@_cache_hash
@dataclass(frozen=True)
class Matrix:
    """`det(A)`, `inv(A)[i, j]` or `trace(A)` of the square matrix named `array`
    (its whole value, like `loss(A)`'s): `inv` is read at its two `indices`
    (the first runs over A's second size), det and trace are scalars."""

    name: str
    array: str
    indices: tuple[Index, ...] = ()

    def __post_init__(self) -> None:
        if self.name not in MATRIX_FUNCTIONS or len(self.indices) != (
            2 if self.name == "inv" else 0
        ):
            raise ValueError(f"bad matrix function {self.name}{list(self.indices)}")

    @_Cached
    def free(self) -> tuple[Idx, ...]:
        return _unique(index_leaves(self.indices))


@_cache_hash
@dataclass(frozen=True)
class Product:
    factors: tuple[Term, ...]
    summed: tuple[Idx, ...] = ()

    @_Cached
    def free(self) -> tuple[Idx, ...]:
        bound = {i.name for i in self.summed}
        return _unique([i for f in self.factors for i in f.free if i.name not in bound])


@_cache_hash
@dataclass(frozen=True)
class Add:
    terms: tuple[Term, ...]
    free: tuple[Idx, ...]

    def __post_init__(self) -> None:
        names = {i.name for i in self.free}
        for term in self.terms:
            extra = [i.name for i in term.free if i.name not in names]
            if extra:
                raise ValueError(f"a term has indices {extra} that its sum does not")


@_cache_hash
@dataclass(frozen=True)
class Zero:
    free: tuple[Idx, ...] = ()


Term = (
    Const
    | SizeOf
    | Tensor
    | Delta
    | IndexValue
    | Func
    | Opaque
    | IndexedFunc
    | Compare
    | Extremum
    | Pow
    | Loss
    | Matrix
    | Product
    | Add
    | Zero
)


def names(indices: tuple[Idx, ...]) -> tuple[str, ...]:
    return tuple(i.name for i in indices)


def add(terms: list[Term] | tuple[Term, ...], free: tuple[Idx, ...] | None = None) -> Term:
    """A sum whose free indices are the union of its terms' (or `free`)."""
    union = _unique([i for t in terms for i in t.free])
    if free is not None:
        union = _unique([*free, *union])
    if not terms:
        return Zero(union)
    return Add(tuple(terms), union)


def children(term: Term) -> tuple[Term, ...]:
    # This runs for every node of every walk (720,000 times for the 1,000-step
    # RNN): one lookup by exact type, where the match below tests the cases
    # one by one; the match stays the definition, and serves any other type.
    getter = _CHILDREN.get(type(term))
    if getter is not None:
        return getter(term)
    return _children(term)


def _children(term: Term) -> tuple[Term, ...]:
    match term:
        case Product():
            return term.factors
        case Add():
            return term.terms
        case Tensor() | Delta() | Const() | SizeOf() | Loss() | Matrix() | Zero():
            return ()
        case Func() | Opaque() | IndexedFunc():
            return (term.arg,)
        case Pow():
            return (term.base, term.exponent)
        case Compare():
            return (term.left, term.right)
        case Extremum():
            return (term.first, term.second)
        case IndexValue():
            return ()
        case _:
            assert_never(term)


_NO_CHILDREN: tuple[Term, ...] = ()
# `_children` by exact type, one entry per case of its match (tests check that
# they agree on every kind).
_CHILDREN: dict[type, Callable[[Any], tuple[Term, ...]]] = {
    Product: lambda term: term.factors,
    Add: lambda term: term.terms,
    **dict.fromkeys(
        (Tensor, Delta, Const, SizeOf, Loss, Matrix, Zero, IndexValue), lambda _: _NO_CHILDREN
    ),
    **dict.fromkeys((Func, Opaque, IndexedFunc), lambda term: (term.arg,)),
    Pow: lambda term: (term.base, term.exponent),
    Compare: lambda term: (term.left, term.right),
    Extremum: lambda term: (term.first, term.second),
}


def preorder(term: Term) -> Iterator[Term]:
    """Every node of `term`, each before its children, children in order."""
    stack = [term]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def replace_nodes(term: Term, change: Callable[[Term], Term | None]) -> Term:
    """`term` with each node for which `change` gives a replacement replaced
    (its children are not visited then), top down; the others rebuilt over
    their changed children."""
    replaced = change(term)
    if replaced is not None:
        return replaced
    kids = children(term)
    if not kids:
        return term
    return with_children(term, tuple(replace_nodes(k, change) for k in kids))


def with_children(term: Term, new: tuple[Term, ...]) -> Term:
    """The same node over new children (in the order `children` gives them)."""
    match term:
        case Product():
            return Product(new, term.summed)
        case Add():
            return Add(new, term.free)
        case Func():
            return Func(term.name, new[0])
        case Opaque():
            return Opaque(term.name, term.order, new[0])
        case IndexedFunc():
            return IndexedFunc(term.name, term.over, new[0], term.at)
        case Pow():
            return Pow(new[0], new[1])
        case Compare():
            return Compare(term.op, new[0], new[1])
        case Extremum():
            return Extremum(term.name, new[0], new[1])
        case Tensor() | Delta() | Const() | SizeOf() | Loss() | Matrix() | Zero() | IndexValue():
            return term
        case _:
            assert_never(term)


def index_names(term: Term) -> set[str]:
    """Every index name used anywhere in the term, summed ones included."""
    return set(used_names(term))


def names_in_order(term: Term) -> tuple[str, ...]:
    """Every index name used in the term, in order of first appearance.

    Whoever gives out fresh names iterates over this, never over a set of
    names: a set's order depends on PYTHONHASHSEED, and so would the output.
    """
    seen: dict[str, None] = {}
    stack = [term]
    while stack:
        node = stack.pop()
        match node:
            case Tensor() | Delta() | Matrix():
                seen.update((i.name, None) for i in index_leaves(node.indices))
                for select in selections(node.indices):
                    seen.update((n, None) for n in names_in_order(select.choice))
            case Product():
                seen.update((i.name, None) for i in node.summed)
            case Add() | Zero() | IndexValue():
                seen.update((i.name, None) for i in node.free)
            case IndexedFunc():
                seen.update((i.name, None) for i in (*node.over, *node.at) if isinstance(i, Idx))
            case Func() | Opaque() | Pow() | Const() | SizeOf() | Loss() | Compare() | Extremum():
                pass
            case _:
                assert_never(node)
        stack.extend(reversed(children(node)))
    return tuple(seen)


def used_names(term: Term) -> frozenset[str]:
    """`index_names`, remembered on the (immutable) term."""
    cache = term.__dict__
    names = cache.get("_names")
    if names is None:
        names = frozenset(_collect_names(term))
        cache["_names"] = names
    return names


def _collect_names(term: Term) -> set[str]:
    # From the children's remembered sets: terms share subterms, and each
    # subterm's names are then computed once.
    match term:
        case Tensor() | Delta() | Matrix():
            found = {i.name for i in index_leaves(term.indices)}
            for select in selections(term.indices):
                found |= used_names(select.choice)
            return found
        case Product():
            names = {i.name for i in term.summed}
        case Add() | Zero() | IndexValue():
            names = {i.name for i in term.free}
        case IndexedFunc():
            names = {i.name for i in (*term.over, *term.at) if isinstance(i, Idx)}
        case Func() | Opaque() | Pow() | Const() | SizeOf() | Loss() | Compare() | Extremum():
            names = set()
        case _:
            assert_never(term)
    for child in children(term):
        names |= used_names(child)
    return names


def arrays_read(term: Term) -> frozenset[str]:
    """The arrays (and arrays under a loss or a matrix function) the term reads:
    `mentions` for every name."""
    names: set[str] = set()
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, Tensor):
            names.add(node.name)
        elif isinstance(node, Loss | Matrix):
            names.add(node.array)
        stack.extend(children(node))
    return frozenset(names)


def mentions(term: Term, name: str) -> bool:
    """Whether the array `name` (or loss of it, or the upstream gradient of
    that loss, a function of it too) occurs in the term."""
    upstream = f"dloss/d{name}"
    stack = [term]
    while stack:
        node = stack.pop()
        if (isinstance(node, Tensor) and node.name in (name, upstream)) or (
            isinstance(node, Loss | Matrix) and node.array == name
        ):
            return True
        stack.extend(children(node))
    return False


def substitute(term: Term, mapping: dict[str, Index]) -> Term:
    """Rename free occurrences of indices (a name to an index or a literal).

    Summed indices of inner products shadow the mapping; fresh naming keeps
    them distinct from the mapped names, and this function stays correct if
    they are not.
    """
    if not mapping:
        return term
    match term:
        case Tensor():
            return Tensor(term.name, _map_all(term.indices, mapping), term.kind)
        case Delta():
            return Delta(_map_all(term.indices, mapping))
        case Matrix():
            return Matrix(term.name, term.array, _map_all(term.indices, mapping))
        case Zero():
            return Zero(_map_free(term.free, mapping))
        case Product():
            return _substitute_in_product(term, mapping)
        case IndexedFunc():
            return _substitute_in_indexed(term, mapping)
        case Add():
            free = _map_free(term.free, mapping)
            return Add(tuple(substitute(x, mapping) for x in term.terms), free)
        case Func() | Opaque() | Pow() | Compare() | Extremum():
            return with_children(term, tuple(substitute(c, mapping) for c in children(term)))
        case IndexValue():
            return _substitute_value(term, mapping)
        case Const() | SizeOf() | Loss():
            return term
        case _:
            assert_never(term)


def _substitute_value(term: IndexValue, mapping: dict[str, Index]) -> Term:
    """An index value renamed, the number it becomes when its index is fixed,
    or the integer array's entry when a delta made it a gather (`y[i]`)."""
    new = _map(term.index, mapping)
    match new:
        case Idx():
            return IndexValue(new)
        case Fixed():
            return Const(float(new.value))
        case Gather():
            return Tensor(new.name, new.indices)
        case Select():
            # A delta set the index to a selection: its value is the position.
            return new.choice
        case Shift():
            return shift_value(new)
        case _:
            assert_never(new)


def shift_value(index: Shift) -> Term:
    """An index expression as a number: Σ coefficient × value of each index + offset."""

    def value(part: Idx | Gather | Select) -> Term:
        match part:
            case Idx():
                return IndexValue(part)
            case Gather():
                return Tensor(part.name, part.indices)
            case Select():
                return part.choice
            case _:
                assert_never(part)

    terms: list[Term] = []
    for part, coefficient in index.parts:
        for c, sizes in coefficient.terms:
            factors = (Const(float(c)), *(SizeOf(s) for s in sizes), value(part))
            terms.append(Product(factors, ()))
    for c, sizes in index.offset.terms:
        terms.append(Product((Const(float(c)), *(SizeOf(s) for s in sizes)), ()))
    return add(terms)


def _substitute_in_product(term: Product, mapping: dict[str, Index]) -> Product:
    # The product's own summed indices shadow the mapping inside it.
    summed = {s.name for s in term.summed}
    inner = {k: v for k, v in mapping.items() if k not in summed}
    targets = _target_names(inner)
    if targets & summed and any(i.name in inner for i in term.free):
        # Σ_k A[i,k] with i -> k would capture: the summed k is renamed first.
        term = _rename_summed(term, targets | set(inner))
    return Product(tuple(substitute(f, inner) for f in term.factors), term.summed)


def _substitute_in_indexed(term: IndexedFunc, mapping: dict[str, Index]) -> IndexedFunc:
    # Like a product's summed indices, `over` shadows the mapping inside the
    # argument and is renamed first where a target would be captured.
    bound = {o.name for o in term.over}
    inner = {k: v for k, v in mapping.items() if k not in bound}
    targets = _target_names(inner)
    over, arg = term.over, term.arg
    if targets & bound and any(i.name in inner for i in arg.free):
        fresh = FreshNames(set(used_names(term)) | targets | set(inner))
        # From the one sequence of fresh names (spec 10): a name the term
        # does not use cannot be captured inside it.
        renaming: dict[str, Index] = {
            o.name: Idx(fresh.take(), o.size) for o in over if o.name in targets
        }
        over = tuple(_renamed_idx(o, renaming) for o in over)
        arg = substitute(arg, renaming)
    return IndexedFunc(term.name, over, substitute(arg, inner), _map_all(term.at, mapping))


def _target_names(mapping: dict[str, Index]) -> set[str]:
    """The names a substitution brings in: free ones, and those an `argmax[j](e)`
    binds inside (so that a sum or reduction around them is renamed rather than
    printed as a second binder of the same name, which `.idx` does not take)."""
    names = {i.name for v in mapping.values() for i in index_leaves((v,))}
    for value in mapping.values():
        for select in selections((value,)):
            names |= used_names(select.choice)
    return names


def _rename_summed(term: Product, avoid: set[str]) -> Product:
    """The product with each summed index named in `avoid` renamed to a new name."""
    fresh = FreshNames(set(used_names(term)) | avoid)
    renaming: dict[str, Index] = {
        s.name: Idx(fresh.take(), s.size) for s in term.summed if s.name in avoid
    }
    summed = tuple(_renamed_idx(s, renaming) for s in term.summed)
    return Product(tuple(substitute(f, renaming) for f in term.factors), summed)


def _map_all(indices: tuple[Index, ...], mapping: dict[str, Index]) -> tuple[Index, ...]:
    return tuple(_map(i, mapping) for i in indices)


def _map_free(free: tuple[Idx, ...], mapping: dict[str, Index]) -> tuple[Idx, ...]:
    """Free indices renamed; one mapped to a literal is no longer free."""
    # An index mapped to a gather (a delta eating `k` for `y[i]`) leaves the
    # gather's own indices free in its place.
    return _unique([m for i in free for m in index_leaves((_map(i, mapping),))])


def _map(index: Index, mapping: dict[str, Index]) -> Index:
    if isinstance(index, Idx) and index.name in mapping:
        return mapping[index.name]
    if isinstance(index, Gather):
        # An index inside a gather is renamed like any other (`y[i]` -> `y[p]`).
        return Gather(index.name, _map_all(index.indices, mapping))
    if isinstance(index, Select):
        # Its own index is bound inside it and shadows the mapping (as
        # `substitute` does for any indexed function).
        choice = substitute(index.choice, mapping)
        assert isinstance(choice, IndexedFunc)
        return Select(choice)
    if isinstance(index, Shift):
        return shift([(_map(i, mapping), c) for i, c in index.parts], index.offset)
    return index


def as_written(term: IndexedFunc) -> Term:
    """The function as `.idx` can write it: `softmax[k](S[i,k])` is read at its
    own indices, so a softmax read elsewhere names its indices after where it
    is read (`softmax[q](S[i,q])`), or, read at a literal or at an index its
    argument already has, becomes `Σ_k softmax[k](S[i,k]) δ[k,2]`."""
    if term.name != "softmax" or names(term.over) == tuple(str(a) for a in term.at):
        return term
    at = plain_positions(term)
    if at is not None:
        mapping: dict[str, Index] = dict(zip(names(term.over), at, strict=True))
        return IndexedFunc(term.name, at, substitute(term.arg, mapping), term.at)
    return _read_with_deltas(term)


def read_at_gather(term: Term) -> bool:
    """A softmax read at an integer array's entry or at a selection (`δ[q, y[i]]`
    or `δ[q, argmax[j](…)]` eaten into it): evaluators compute its written form
    `Σ_q softmax[q](…) δ[q, y[i]]`, whose delta they can pick with, instead of
    reading the softmax there."""
    return isinstance(term, IndexedFunc) and any(
        isinstance(a, Gather | Select | Shift) for a in term.at
    )


def read_at_places(
    term: IndexedFunc, axes: tuple[str, ...]
) -> tuple[list[int | None], list[str]] | None:
    """How softmax values over `axes` are read at `term.at`, as the evaluator
    and the printed numpy code both do it: for each axis, the 0-based entry a
    literal picks (None: the axis stays), and the names of the axes that stay
    (an index in `at` names its axis; one already on another axis makes a
    diagonal). None when an argmax or argmin stands in `at` for one of `axes`."""
    placed = dict(zip((o.name for o in term.over), term.at, strict=True))
    picks: list[int | None] = []
    labels: list[str] = []
    for name in axes:
        target = placed.get(name)
        if isinstance(target, Select | Shift):
            return None
        if isinstance(target, Fixed):
            picks.append(target.value - 1)
            continue
        picks.append(None)
        labels.append(name if target is None else target.name)
    return picks, labels


def plain_positions(term: IndexedFunc) -> tuple[Idx, ...] | None:
    """`at` when it is distinct index names that the argument does not
    otherwise use (so the softmax can be written over them), else None."""
    bound = {o.name for o in term.over}
    others = {i.name for i in term.arg.free if i.name not in bound}
    at = tuple(a for a in term.at if isinstance(a, Idx))
    targets = {a.name for a in at}
    if len(at) != len(term.at) or len(targets) != len(at) or others & targets:
        return None
    return at


def _read_with_deltas(term: IndexedFunc) -> Term:
    """Σ_k softmax[k](e) δ[k, at]: the softmax read at `at`, written out."""
    targets = {a.name for a in term.at if isinstance(a, Idx)}
    # Fresh names avoid every index `at` reads, those inside a gather too:
    # a sum over `p` beside `δ[v, y[p]]` would capture the label's `p`.
    fresh = FreshNames(set(used_names(term)) | {a.name for a in index_leaves(term.at)})
    over = tuple(Idx(fresh.take(), o.size) if o.name in targets else o for o in term.over)
    arg = substitute(term.arg, dict(zip(names(term.over), over, strict=True)))
    deltas = tuple(Delta((o, a)) for o, a in zip(over, term.at, strict=True))
    return Product((IndexedFunc(term.name, over, arg, over), *deltas), over)


def _indices_in_walk(term: Term) -> Iterator[Idx]:
    """Every index a term holds, node by node in one walk (free, then summed,
    then reduced over), an index bound inside an `argmax[j](e)` standing in a
    position included."""
    stack = [term]
    while stack:
        node = stack.pop()
        yield from node.free
        if isinstance(node, Product):
            yield from node.summed
        if isinstance(node, IndexedFunc):
            yield from node.over
        stack.extend(children(node))
        if isinstance(node, Tensor | Delta | Matrix):
            stack.extend(select.choice for select in selections(node.indices))


def index_sizes(term: Term) -> dict[str, Size]:
    """Every index name's size, each as `size_of_index` finds it (the first in
    the walk): one walk, where renaming a term's names one `size_of_index` at a
    time walked it once per name (a claim on a 60-step RNN spent a third of
    its time there)."""
    sizes: dict[str, Size] = {}
    for index in _indices_in_walk(term):
        sizes.setdefault(index.name, index.size)
    return sizes


def size_of_index(term: Term, name: str) -> Size:
    for index in _indices_in_walk(term):
        if index.name == name:
            return index.size
    raise KeyError(name)


def rename(term: Term, mapping: dict[str, Index]) -> Term:
    """Rename indices, summed ones included (`substitute` leaves summed ones alone)."""
    if not mapping:
        return term
    match term:
        case Product():
            summed = tuple(_renamed_idx(i, mapping) for i in term.summed)
            return Product(tuple(rename(f, mapping) for f in term.factors), summed)
        case Add():
            free = tuple(_renamed_idx(i, mapping) for i in term.free)
            return Add(tuple(rename(x, mapping) for x in term.terms), free)
        case IndexedFunc():
            over = tuple(_renamed_idx(i, mapping) for i in term.over)
            at = _map_all(term.at, mapping)
            return IndexedFunc(term.name, over, rename(term.arg, mapping), at)
        case Func() | Opaque() | Pow() | Compare() | Extremum():
            return with_children(term, tuple(rename(c, mapping) for c in children(term)))
        case Tensor() | Delta() | Zero() | Const() | SizeOf() | Loss() | Matrix() | IndexValue():
            return substitute(term, mapping)
        case _:
            assert_never(term)


def _renamed_idx(index: Idx, mapping: dict[str, Index]) -> Idx:
    new = mapping.get(index.name, index)
    assert isinstance(new, Idx)
    return new


def size_count(term: Term, limit: int | None = None) -> int:
    """Number of nodes: the measure printed sizes and limits are stated in.

    A subterm shared by several parents counts each time, as the simplifier
    and the printers meet it; so the count can be exponential in the number
    of distinct nodes, and with `limit` the walk stops as soon as it is passed
    (returning a number above `limit`).
    """
    count = 0
    stack = [term]
    while stack:
        node = stack.pop()
        count += 1
        if limit is not None and count > limit:
            return count
        stack.extend(children(node))
    return count


class FreshNames:
    """Index names not used anywhere else in a derivation (spec 10): the first
    unused of p, q, r, s, t, u, then p1, p2, p3, ... and never another name."""

    _BASE = ("p", "q", "r", "s", "t", "u")

    def __init__(self, taken: set[str], also: AbstractSet[str] = frozenset()) -> None:
        self.taken = set(taken)
        # Taken too, read where it is (not copied): a whole file's names,
        # which must not change while this is in use.
        self._also = also
        # How many names of the sequence are behind us (all of them taken).
        self._position = 0

    def _free(self, name: str) -> bool:
        return name not in self.taken and name not in self._also

    def take(self, preferred: str | None = None) -> str:
        if preferred is not None and self._free(preferred):
            self.taken.add(preferred)
            return preferred
        while True:
            name = fresh_name(self._position)
            self._position += 1
            if self._free(name):
                self.taken.add(name)
                return name

    def state(self) -> tuple[frozenset[str], int]:
        """Everything `take` depends on: equal states give equal names."""
        return frozenset(self.taken | self._also), self._position

    def restore(self, state: tuple[frozenset[str], int]) -> None:
        taken, self._position = state
        self.taken = set(taken)
        self._also = frozenset()


def fresh_name(position: int) -> str:
    """The name at `position` of the one sequence fresh names come from:
    p, q, r, s, t, u, p1, p2, p3, ..."""
    base = FreshNames._BASE
    return base[position] if position < len(base) else f"p{position - len(base) + 1}"
