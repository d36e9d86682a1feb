"""Results in the file's names: a subexpression equal to a defined array's
right-hand side is written as that array (spec 10, "In the file's names").

The symbolic stage derives with every definition expanded, so a derivative of
an RNN reads `1 - tanh(Σ_j Wx[j,k] x1[j] + Σ_m Wh[m,k] h0[m] + b[k])^2` where
the file calls that `tanh` `h1[k]`. `Folder` is built once per file from the
lowered definitions; `fold` runs over a finished result (derivative, adjoint
lines, the expanded formula) before it is verified and printed, so every
format shows, and the numeric check evaluates, the same folded formula.

A node folds into `D[perm]` only when it is the same term as D's right-hand
side up to renaming indices: equal canonical keys (summed indices renamed
consistently, factors and terms in any order) once the node's free indices are
put at D's left-hand positions, each free index of the size of its position,
and D's left-hand side holding exactly the free indices of its right-hand side
(a broadcast definition `Y[i,k] = 2 b[k]` cannot say its `i`). Every defined
array is a value at the point a result is evaluated, so any definition may be
used, wherever it stands in the file. Near linear: each node gets a
name-blind fingerprint (hash-consed to an integer, one dictionary lookup), and
only a node whose fingerprint is some definition's is keyed; not even that one
where it is the definition's tree but for the names of summed indices (an
instantiated definition, as reverse mode builds it: `_same_tree`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from itertools import permutations
from weakref import WeakKeyDictionary

from shapecheck.check.program import Size
from shapecheck.exhaustive import assert_never
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.canonical import key
from shapecheck.symbolic.derive import Derivation, Deriver
from shapecheck.symbolic.rules import sort_factors

# Orders of a node's free indices tried against a definition's left-hand side
# (only those whose sizes fit are keyed): a rank-6 definition is the limit.
_MAX_RANK = 6


@dataclass(frozen=True)
class _Definition:
    """A definition a node may fold into: its name, left-hand side and
    (simplified) right-hand side."""

    name: str
    lhs: tuple[t.Idx, ...]
    rhs: t.Term

    @property
    def sizes(self) -> tuple[Size, ...]:
        return tuple(i.size for i in self.lhs)


class Folder:
    """The file's definitions, indexed by fingerprint, ready to fold results."""

    def __init__(
        self,
        definitions: Iterable[tuple[str, tuple[t.Idx, ...], t.Term]],
        file_names: frozenset[str] = frozenset(),
        reserved: frozenset[str] = frozenset(),
    ) -> None:
        self._file_names = file_names
        self._reserved = reserved
        self._shapes = _Fingerprints()
        self._by_shape: dict[int, list[_Definition]] = {}
        # The key of a definition's right-hand side read at given index names.
        self._keys: dict[tuple[str, tuple[str, ...]], str] = {}
        for name, lhs, rhs in definitions:
            if _foldable(name, lhs, rhs):
                entry = _Definition(name, lhs, rhs)
                self._by_shape.setdefault(self._shapes.of(rhs), []).append(entry)

    def fold(self, term: t.Term) -> t.Term:
        """`term` with each largest subexpression equal to a definition written
        as that array, and its summed indices named as spec 10 says."""
        folded = self._fold(term) if self._by_shape else term
        return first_fresh_names(folded, self._file_names, self._reserved)

    def binders_named(self, term: t.Term) -> t.Term:
        """`term` with each binder that has a dim's, an array's or a
        function's name renamed as `fold` renames it, and no other: for
        `explain`'s intermediate steps, whose words refer to the other names
        (`a delta eats the summed index t`)."""
        return first_fresh_names(term, self._file_names, self._reserved, renumber=False)

    def derivation(self, derivation: Derivation) -> Derivation:
        """The derivation with its formula and every adjoint line folded."""
        adjoints = tuple(replace(a, formula=self.fold(a.formula)) for a in derivation.adjoints)
        return replace(derivation, formula=self.fold(derivation.formula), adjoints=adjoints)

    def _fold(self, term: t.Term) -> t.Term:
        # Top down, so the largest match wins; unchanged subtrees are kept as
        # they are (with their cached keys and the simplifier's marks).
        named = self._named(term)
        if named is not None:
            return named
        kids = t.children(term)
        new = tuple(self._fold(k) for k in kids)
        if all(a is b for a, b in zip(kids, new, strict=True)):
            return term
        rebuilt = t.with_children(term, new)
        # A factor that became an array goes where the simplifier puts arrays.
        return sort_factors(rebuilt) or rebuilt

    def _named(self, term: t.Term) -> t.Tensor | None:
        if isinstance(term, _LEAVES):
            return None
        candidates = self._by_shape.get(self._shapes.of(term))
        if not candidates:
            return None
        for definition in candidates:
            found = self._as_definition(term, definition)
            if found is not None:
                return found
        return None

    def _as_definition(self, term: t.Term, definition: _Definition) -> t.Tensor | None:
        """`D[...]` at the term's free indices, if the term is D's right-hand
        side read there: equal keys once D's left-hand indices are renamed to
        them."""
        free = term.free
        if len(free) != len(definition.lhs) or len(free) > _MAX_RANK:
            return None
        for order in permutations(free):
            if not all(i.size == s for i, s in zip(order, definition.sizes, strict=True)):
                continue
            # The same tree but for the names of summed indices has the same
            # key (keys write those as placeholders): then no key is made.
            renaming = dict(zip(t.names(definition.lhs), t.names(order), strict=True))
            if _same_tree(definition.rhs, term, renaming) or key(term) == self._key_at(
                definition, order
            ):
                return t.Tensor(definition.name, tuple(order))
        return None

    def _key_at(self, definition: _Definition, at: tuple[t.Idx, ...]) -> str:
        names = t.names(at)
        found = self._keys.get((definition.name, names))
        if found is None:
            # Keys write summed indices as placeholders, never by name, so a
            # renaming onto a summed index's name captures nothing here.
            found = key(definition.rhs, dict(zip(t.names(definition.lhs), names, strict=True)))
            self._keys[(definition.name, names)] = found
        return found


def _same_tree(a: t.Term, b: t.Term, names: dict[str, str]) -> bool:
    """Whether `b` is `a` with its index names changed by `names` and its summed
    indices renamed one to one (a sum's k-th summed index to the k-th):
    products, sums, functions, powers, numbers and arrays at plain indices
    only, else False (which proves nothing). `names` must be one to one."""
    if type(a) is not type(b):
        return False
    match a:
        case t.Tensor():
            assert isinstance(b, t.Tensor)
            same = a.name == b.name and a.kind == b.kind
            return same and _same_indices(a.indices, b.indices, names)
        case t.Product() | t.Add() | t.Func() | t.Pow():
            return _same_compound(a, b, names)
        case t.Const():
            assert isinstance(b, t.Const)
            return repr(a.value) == repr(b.value)  # keys tell -0.0 from 0.0
    return False


def _same_compound(a: t.Product | t.Add | t.Func | t.Pow, b: t.Term, names: dict[str, str]) -> bool:
    """`_same_tree` of two nodes of the same kind with children."""
    match a:
        case t.Product():
            assert isinstance(b, t.Product)
            inner = _bound(a.summed, b.summed, names)
            return inner is not None and _same_trees(a.factors, b.factors, inner)
        case t.Add():
            assert isinstance(b, t.Add)
            return _same_indices(a.free, b.free, names) and _same_trees(a.terms, b.terms, names)
        case t.Func():
            assert isinstance(b, t.Func)
            return a.name == b.name and _same_tree(a.arg, b.arg, names)
        case t.Pow():
            assert isinstance(b, t.Pow)
            return _same_tree(a.base, b.base, names) and _same_tree(a.exponent, b.exponent, names)
        case _:
            assert_never(a)


def _bound(
    mine: tuple[t.Idx, ...], theirs: tuple[t.Idx, ...], names: dict[str, str]
) -> dict[str, str] | None:
    """`names` inside a sum over `mine` in `a` and over `theirs` in `b`,
    paired in order; None where their number or sizes differ."""
    if len(mine) != len(theirs):
        return None
    if not mine:
        return names
    inner = dict(names)
    for x, y in zip(mine, theirs, strict=True):
        if x.size is not y.size and x.size != y.size:
            return None
        # A summed index hides any outer name it shares in `b`.
        inner = {n: m for n, m in inner.items() if m != y.name}
        inner[x.name] = y.name
    return inner


def _same_trees(a: tuple[t.Term, ...], b: tuple[t.Term, ...], names: dict[str, str]) -> bool:
    if len(a) != len(b):
        return False
    return all(_same_tree(x, y, names) for x, y in zip(a, b, strict=True))


def _same_indices(a: tuple[t.Index, ...], b: tuple[t.Index, ...], names: dict[str, str]) -> bool:
    """Plain indices, `b`'s named as `names` maps `a`'s, of the same sizes."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if not isinstance(x, t.Idx) or not isinstance(y, t.Idx):
            return False
        if names.get(x.name) != y.name or (x.size is not y.size and x.size != y.size):
            return False
    return True


# A leaf is never folded: a definition that only renames or reads one array
# (`A[i,j] = X[j,i]`, `c = 2`) would rename every use of it.
_LEAVES = (t.Const, t.SizeOf, t.Tensor, t.Delta, t.Loss, t.Matrix, t.Zero, t.IndexValue)


def _foldable(name: str, lhs: tuple[t.Idx, ...], rhs: t.Term) -> bool:
    """Whether results may be written with this definition.

    Not the symbolic stage's own first derivatives (`dL/dw`, a name with a
    `/`), not a leaf, not a definition whose left-hand side is not exactly the
    free indices of its right-hand side (a broadcast or a repeated index), and
    not one holding `det` or `inv`: the numeric check takes the condition
    number of every matrix the folded formula inverts, which it finds in the
    formula itself (a definition on the path is named in place already).
    """
    if "/" in name or isinstance(rhs, _LEAVES):
        return False
    names = [i.name for i in lhs]
    if len(set(names)) != len(names) or set(names) != {i.name for i in rhs.free}:
        return False
    return not _holds_matrix(rhs)


def _holds_matrix(term: t.Term) -> bool:
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Matrix):
            return True
        stack.extend(t.children(node))
    return False


class _Fingerprints:
    """A name-blind fingerprint of each term: equal for terms equal up to
    renaming indices and ordering factors and terms (it keeps every size and
    array name, so equal keys and equal fingerprints mean the same sizes).
    Hash-consed: each distinct shape is a small integer, so a lookup costs the
    node's own children, not its subtree."""

    def __init__(self) -> None:
        self._ids: dict[tuple[object, ...], int] = {}
        self._memo: dict[int, tuple[t.Term, int]] = {}

    def of(self, term: t.Term) -> int:
        known = self._memo.get(id(term))
        if known is not None and known[0] is term:
            return known[1]
        shape = self._shape(term)
        number = self._ids.setdefault(shape, len(self._ids))
        self._memo[id(term)] = (term, number)
        return number

    def _shape(self, term: t.Term) -> tuple[object, ...]:
        match term:
            case t.Const():
                return ("const", term.value)
            case t.SizeOf():
                return ("size", _size(term.size))
            case t.Tensor():
                return ("array", term.name, term.kind, _positions(term.indices))
            case t.Delta():
                return ("delta", tuple(sorted(_positions(term.indices))))
            case t.IndexValue():
                return ("value", _size(term.index.size))
            case t.Loss():
                return ("loss", term.array)
            case t.Matrix():
                return ("matrix", term.name, term.array, _positions(term.indices))
            case t.Zero():
                return ("zero", len(term.free))
            case _:
                return self._compound_shape(term)

    def _compound_shape(self, term: t.Term) -> tuple[object, ...]:
        match term:
            case t.Func():
                return ("func", term.name, self.of(term.arg))
            case t.Opaque():
                return ("fn", term.name, term.order, self.of(term.arg))
            case t.IndexedFunc():
                over = tuple(_size(o.size) for o in term.over)
                return ("indexed", term.name, over, self.of(term.arg), _positions(term.at))
            case t.Compare():
                return ("compare", term.op, self.of(term.left), self.of(term.right))
            case t.Extremum():
                pair = sorted((self.of(term.first), self.of(term.second)))
                return ("extremum", term.name, *pair)
            case t.Pow():
                return ("pow", self.of(term.base), self.of(term.exponent))
            case t.Product():
                factors = tuple(sorted(self.of(f) for f in term.factors))
                return ("product", factors, tuple(sorted(_size(i.size) for i in term.summed)))
            case t.Add():
                return ("add", tuple(sorted(self.of(x) for x in term.terms)), len(term.free))
            case (
                t.Const()
                | t.SizeOf()
                | t.Tensor()
                | t.Delta()
                | t.IndexValue()
                | t.Loss()
                | t.Matrix()
                | t.Zero()
            ):
                raise AssertionError("leaves are shaped by _shape")
            case _:
                assert_never(term)


def _size(size: Size) -> str:
    return f"{size.name}={size.value}"


def _positions(indices: tuple[t.Index, ...]) -> tuple[str, ...]:
    """What stands in each position, without index names."""
    return tuple(_position(i) for i in indices)


def _position(index: t.Index) -> str:
    match index:
        case t.Idx():
            return "i:" + _size(index.size)
        case t.Fixed():
            return f"#{index.value}"
        case t.Gather():
            return f"@{index.name}{_positions(index.indices)}"
        case t.Select():
            return f"?{index.choice.name}"
        case t.Shift():
            return "+" + ",".join(sorted(f"{_position(i)}*{c}" for i, c in index.parts))
        case _:
            assert_never(index)


def first_fresh_names(
    term: t.Term,
    file_names: frozenset[str],
    reserved: frozenset[str] = frozenset(),
    renumber: bool = True,
) -> t.Term:
    """`term` with each summed index that has a fresh name (`p q r s t u p1
    …`) renamed to the first of them unused where it stands, when that one
    comes earlier: fresh names are taken while a derivation is built, and a
    delta eating one leaves a gap (`Σ_q` where `p` is nowhere). A name of the
    file is never taken, nor one used inside the sum or bound or free around
    it, so the value is the same and no index is captured or shadowed.

    `reserved` (of `file_names`) are the names that are never indices: dims,
    arrays, functions. A binder with one of those names (a substitution deep
    in the derivation took it, seeing only its own term) is renamed to a
    fresh name, as one that shadows an index around it is; with `renumber`
    false, only a binder with a reserved name is renamed."""
    names = _FileNames(file_names, reserved, renumber)
    return _renumbered(term, frozenset(i.name for i in term.free), names, _SizesOf(term))


@dataclass(frozen=True)
class _FileNames:
    """What renumbering avoids: every name of the file (`all`), and those of
    them that no index may have (`reserved`)."""

    all: frozenset[str]
    reserved: frozenset[str]
    renumber: bool = True  # also to the first fresh name unused


# The sizes each index name stands for anywhere in a formula: one statement
# gives a name one size (rule 1), also across sums that do not nest, so a
# fresh name is taken only where every other use of it has the same size.
_Sizes = dict[str, set[Size]]


class _SizesOf:
    """`_index_sizes` of a formula, walked for when first asked: only a
    binder that may take an earlier fresh name asks (never `Σ_p`, the first),
    so most results (every adjoint line of an RNN) need no walk. Asked before
    anything is added, so it holds what walking at once would."""

    def __init__(self, term: t.Term) -> None:
        self._term = term
        self._found: _Sizes | None = None

    def _sizes(self) -> _Sizes:
        if self._found is None:
            self._found = _index_sizes(self._term)
        return self._found

    def get(self, name: str, default: set[Size]) -> set[Size]:
        return self._sizes().get(name, default)

    def add(self, name: str, size: Size) -> None:
        self._sizes().setdefault(name, set()).add(size)


def _index_sizes(term: t.Term) -> _Sizes:
    sizes: _Sizes = {}
    stack = [term]
    while stack:
        node = stack.pop()
        match node:
            case t.Tensor() | t.Delta() | t.Matrix():
                found: tuple[t.Idx, ...] = tuple(t.index_leaves(node.indices))
                stack.extend(select.choice for select in t.selections(node.indices))
            case t.Product():
                found = node.summed
            case t.IndexedFunc():
                found = tuple(i for i in (*node.over, *node.at) if isinstance(i, t.Idx))
            case _:
                found = node.free
        for index in found:
            sizes.setdefault(index.name, set()).add(index.size)
        stack.extend(t.children(node))
    return sizes


def _renumbered(
    term: t.Term, around: frozenset[str], file_names: _FileNames, sizes: _SizesOf
) -> t.Term:
    if isinstance(term, t.Tensor | t.Delta | t.Matrix) and t.selections(term.indices):
        return _in_positions(term, around | set(t.names(term.free)), file_names, sizes)
    bound = _binders(term)
    if bound:
        mapping = _earlier_names(term, bound, around, file_names, sizes)
        if mapping:
            term = t.rename(_unshadowed(term, mapping, file_names), mapping)
        around = around | {i.name for i in _binders(term)}
    return _over_children(term, lambda kid: _renumbered(kid, around, file_names, sizes))


def _in_positions(
    term: t.Tensor | t.Delta | t.Matrix,
    around: frozenset[str],
    file_names: _FileNames,
    sizes: _SizesOf,
) -> t.Term:
    """A read whose positions hold `argmax[j](…)`: each one's bound index
    renumbered like a sum's, and renamed where it would shadow an index
    free or bound around it (a substitution deep inside cannot see those)."""
    indices = tuple(_position_renumbered(i, around, file_names, sizes) for i in term.indices)
    if indices == term.indices:
        return term
    match term:
        case t.Tensor():
            return t.Tensor(term.name, indices, term.kind)
        case t.Delta():
            return t.Delta(indices)
        case t.Matrix():
            return t.Matrix(term.name, term.array, indices)
        case _:
            assert_never(term)


def _position_renumbered(
    index: t.Index, around: frozenset[str], file_names: _FileNames, sizes: _SizesOf
) -> t.Index:
    match index:
        case t.Select():
            choice = _renumbered(index.choice, around, file_names, sizes)
            assert isinstance(choice, t.IndexedFunc)
            return index if choice is index.choice else t.Select(choice)
        case t.Shift():
            parts = tuple(
                (_position_renumbered(i, around, file_names, sizes), c) for i, c in index.parts
            )
            if parts == index.parts:
                return index
            return t.Shift(parts, index.offset)  # type: ignore[arg-type]
        case t.Gather():
            inner = tuple(_position_renumbered(i, around, file_names, sizes) for i in index.indices)
            return index if inner == index.indices else t.Gather(index.name, inner)
        case t.Idx() | t.Fixed():
            return index
        case _:
            assert_never(index)


def _unshadowed(term: t.Term, mapping: dict[str, t.Index], file_names: _FileNames) -> t.Term:
    """`term`, whose own binders are about to be renamed through it (`mapping`),
    with each binder inside it that takes one of those names again renamed
    first, to a name in no use: it shadows them (`Σ_q … (Σ_q …)`, the inner q
    of another size), and renaming the outer one through it would give the
    inner one the outer's name and size (an E999 in evaluation). Its own
    renumbering, below, then names it as any other binder."""
    names = set(mapping)
    # Made when first needed (seldom): it copies the file's names.
    fresh: list[t.FreshNames] = []

    def away(node: t.Term) -> t.Term:
        node = _over_children(node, away)
        taken = [i for i in _binders(node) if i.name in names]
        if not taken:
            return node
        if not fresh:
            # Apart from the names the outer ones take, too: renamed to one
            # of those, the inner sum would capture what the outer one reads.
            targets = {index.name for index in mapping.values() if isinstance(index, t.Idx)}
            fresh.append(t.FreshNames(set(file_names.all) | t.used_names(term) | targets))
        return t.rename(node, {i.name: t.Idx(fresh[0].take(), i.size) for i in taken})

    return _over_children(term, away)


def _over_children(term: t.Term, change: Callable[[t.Term], t.Term]) -> t.Term:
    """`term` over its children changed, the same node where none changed."""
    kids = t.children(term)
    new = tuple(change(k) for k in kids)
    if all(a is b for a, b in zip(kids, new, strict=True)):
        return term
    return t.with_children(term, new)


def _binders(term: t.Term) -> tuple[t.Idx, ...]:
    """The indices a node binds and may rename (not a softmax's `over` that
    its reading position `at` also names)."""
    if isinstance(term, t.Product):
        return term.summed
    if isinstance(term, t.IndexedFunc):
        return tuple(o for o in term.over if o.name not in t.names(term.free))
    return ()


def _earlier_names(
    term: t.Term,
    bound: tuple[t.Idx, ...],
    around: frozenset[str],
    file_names: _FileNames,
    sizes: _SizesOf,
) -> dict[str, t.Index]:
    # The file's names are checked apart: copying them per sum would cost
    # the size of the file at every sum.
    avoid = set(around | t.used_names(term))
    mapping: dict[str, t.Index] = {}
    for index in bound:
        position = _fresh_position(index.name)
        shadows = file_names.renumber and index.name in around
        if shadows or index.name in file_names.reserved:
            # It shadows an index around it, or it is a dim's or an array's
            # name, which no index may have: any fresh name.
            position = len(avoid) + len(file_names.all) + len(t.FreshNames._BASE)
        elif not file_names.renumber or position is None or index.name in file_names.all:
            continue
        free = (
            k
            for k in range(position)
            if _unused(t.fresh_name(k), avoid, file_names)
            and sizes.get(t.fresh_name(k), {index.size}) == {index.size}
        )
        first = next(free, position)
        if first < position:
            name = t.fresh_name(first)
            mapping[index.name] = t.Idx(name, index.size)
            sizes.add(name, index.size)
            avoid.add(name)
            if index.name not in around:  # renamed throughout the node: free again
                avoid.discard(index.name)
    return mapping


def _unused(name: str, avoid: set[str], file_names: _FileNames) -> bool:
    return name not in avoid and name not in file_names.all


def _fresh_position(name: str) -> int | None:
    """Where `name` stands in the sequence of fresh names, if it is one."""
    if name in t.FreshNames._BASE:
        return t.FreshNames._BASE.index(name)
    if name.startswith("p") and name[1:].isdigit() and not name[1:].startswith("0"):
        return len(t.FreshNames._BASE) + int(name[1:]) - 1
    return None


_FOLDERS: WeakKeyDictionary[Deriver, Folder] = WeakKeyDictionary()


def folder_of(deriver: Deriver) -> Folder:
    """The folder of a file, made once per Deriver: its definitions in file
    order (of two equal right-hand sides, the first one's name is used)."""
    found = _FOLDERS.get(deriver)
    if found is None:
        lowered = deriver.lowered
        names = [d.name for d in deriver.program.definitions if d.name in lowered]
        program = deriver.program
        # Names no index may have (E107 for a dim; an array's or a function's
        # name would read as the array or the call).
        reserved = frozenset(
            [*(d.name for d in program.dims), *(a.name for a in program.arrays), *program.functions]
        )
        found = Folder(((name, *lowered[name]) for name in names), deriver.file_names, reserved)
        _FOLDERS[deriver] = found
    return found


def with_signature_names(
    derivation: Derivation, expanded: t.Term | None, names: tuple[str, ...], taken: Iterable[str]
) -> tuple[Derivation, t.Term | None]:
    """`derive dY/dX[a, b, p, q]`: the signature's indices (in layout order)
    renamed to the names the request gives (spec 10), in the derivative and
    its `--expand` form. Its adjoint lines keep theirs: each is a statement
    of its own."""
    mapping: dict[str, t.Index] = {
        old.name: t.Idx(new, old.size)
        for old, new in zip(derivation.signature, names, strict=True)
        if old.name != new
    }
    if not mapping:
        return derivation, expanded
    named = replace(
        derivation,
        formula=signature_renamed(derivation.formula, mapping, taken),
        of_indices=tuple(_as_idx(mapping.get(i.name, i)) for i in derivation.of_indices),
        wrt_indices=tuple(_as_idx(mapping.get(i.name, i)) for i in derivation.wrt_indices),
    )
    return named, None if expanded is None else signature_renamed(expanded, mapping, taken)


def signature_renamed(term: t.Term, mapping: dict[str, t.Index], taken: Iterable[str]) -> t.Term:
    """`term` with its free indices renamed by `mapping` (all at once, so a
    swap `[k, i]` works); a summed index that a new name would capture is
    first renamed to a fresh one."""
    wanted = {_as_idx(i).name for i in mapping.values()}
    bound = t.used_names(term) - set(t.names(term.free))
    clash = sorted(bound & wanted)
    if clash:
        fresh = t.FreshNames(set(taken) | set(t.used_names(term)) | wanted)
        sizes = t.index_sizes(term)
        away: dict[str, t.Index] = {name: t.Idx(fresh.take(), sizes[name]) for name in clash}
        term = t.rename(term, away)
    return t.rename(term, mapping)


def _as_idx(index: t.Index) -> t.Idx:
    assert isinstance(index, t.Idx)
    return index
