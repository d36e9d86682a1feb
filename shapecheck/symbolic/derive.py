"""Derivatives in index notation: local rules and reverse mode over definitions.

`partial(term, X, at)` differentiates one right-hand side with respect to the
array X at indices `at`, treating every other array as a constant: one rule
per term type. `derive` then runs reverse mode over the definition graph: the
adjoint dA/dY of each intermediate Y on a path from the target to A is the sum,
over Y's consumers C, of dA/dC · ∂C/∂Y, computed once per definition in reverse
file order, so the work grows linearly with the number of definitions and
every path is summed (the notes' RNN rule). Each adjoint is kept as a named
line, the way backprop is written by hand; `expand` inlines them.

Everything is computed in numerator order (A's indices, then B's); the layout
only decides the order in which the signature is shown and saved.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace

from shapecheck.check.program import CheckedDefinition, CheckedProgram
from shapecheck.collector import collector_paused
from shapecheck.exhaustive import assert_never
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.canonical import key
from shapecheck.symbolic.graph import DefinitionGraph
from shapecheck.symbolic.lower import lower_definition
from shapecheck.symbolic.reading import ReadingParts
from shapecheck.symbolic.rules import reads_last
from shapecheck.symbolic.shapes import ShapeMemo
from shapecheck.symbolic.simplify import Spent, renamed_fixed_point, simplify
from shapecheck.symbolic.trace import Trace, label
from shapecheck.syntax.ast import derivative_label

MAX_FORMULA_NODES = 2_000_000
# What the derivative rules may build for one adjoint before it is simplified:
# this bounds the simplifier's time and memory (a product rule over n
# distinct factors of n factors each is n² nodes) before the work starts.
MAX_BUILT_NODES = 500_000
# Definitions on the paths of one derivative: each costs about 2 ms to derive.
MAX_PATH_DEFINITIONS = 5_000
# Writing a derivative out (`expand`) copies each adjoint line once per
# reference to it: an unrolled loop's dL/db sums a chain per step, so written
# out it is quadratic in the steps (a relu RNN: 2,300 terms and factors at 20
# steps, 20,000 at 60, 1.7 s; 56,000 at 100, 6 s; `--expand` at 300 steps
# took 91 s and 1.4 GB, and a second derivative or a definition reading
# dL/db at 100 steps ran 45-55 s before E303). It is not built where it would
# pass MAX_WRITTEN_OUT_NODES and MAX_COPIES times its lines: a large formula
# that is not copied over is written out (a claim of 1,000 terms), within the
# simplifier's limits, which the whole writing out shares. The samples'
# largest writes out to 277.
MAX_WRITTEN_OUT_NODES = 20_000
MAX_COPIES = 2
# A second derivative is reverse mode over the first written out, whose
# lines then grow with it: the first of a tanh RNN writes out to 946 terms
# and factors at 10 steps and its second to past 20,000 (refused after 0.8
# s), to 3,600 at 20 steps, where the second ran 23 s into that refusal (44
# s at 30). Past this (and MAX_COPIES times its lines) the first is not
# written out for it.
MAX_SECOND_ORDER_BASE = 2_000
# Where `written_out_size` stops counting (a residual net's lines, each read
# twice per layer, write out to 10^330 nodes at 1,100 layers).
SIZE_CAP = 10**15


class DerivationTooLarge(Exception):
    """A formula grew past MAX_FORMULA_NODES (reported as E303)."""

    # The definition whose derivative reference needed it, if any.
    definition: str | None = None


class NotWrittenOut(DerivationTooLarge):
    """A derivative that `expand` would copy past MAX_WRITTEN_OUT_NODES;
    `size` says how large it would be, after "written out", and `whole` the
    same without its lines (which a second derivative does not show)."""

    def __init__(self, label: str, size: str, whole: str = "") -> None:
        super().__init__(f"{label} written out {size}")
        self.size = size
        self.whole = whole


class SecondDerivativeOfLoss(Exception):
    """A derivative of `dloss/dA`: `loss` has a first derivative only (spec 9.6)."""

    def __init__(self, array: str) -> None:
        super().__init__(array)
        self.array = array
        # The definition whose derivative reference needed it, if any.
        self.definition: str | None = None


def reference_target(name: str) -> tuple[str, str, int]:
    """A reference's name, `dA/dB` or `d2A/dB2`, as (A, B, order); a name
    cannot begin with a digit, so `d2` always opens a second derivative."""
    if name.startswith("d2"):
        of, wrt = name[2:-1].split("/d", 1)
        return of, wrt, 2
    of, wrt = name[1:].split("/d", 1)
    return of, wrt, 1


# ---------------------------------------------------------------------------
# Local rules


def _minus(term: t.Term) -> t.Term:
    return t.Product((t.Const(-1.0), term))


def _one_minus(term: t.Term) -> t.Term:
    return t.add([t.Const(1.0), _minus(term)], term.free)


def derivative_of_function(name: str, arg: t.Term) -> t.Term:
    """f'(arg) for each element-wise function."""
    match name:
        case "exp":
            return t.Func(name, arg)
        case "log":
            return t.Pow(arg, t.Const(-1.0))
        case "tanh":
            return _one_minus(t.Pow(t.Func(name, arg), t.Const(2.0)))
        case "sigmoid":
            value = t.Func(name, arg)
            return t.Product((value, _one_minus(value)))
        case "relu":
            return t.Func("step", arg)
        case "sin":
            return t.Func("cos", arg)
        case "cos":
            return _minus(t.Func("sin", arg))
        case "sqrt":
            return t.Product((t.Const(0.5), t.Pow(t.Func(name, arg), t.Const(-1.0))))
        case "abs":
            return t.Func("sign", arg)
        case _:
            # step and sign are flat wherever they are differentiable.
            return t.Zero(arg.free)


def partial(term: t.Term, name: str, at: tuple[t.Idx, ...], trace: Trace | None = None) -> t.Term:
    """∂term/∂name[at], every other array held constant: one rule per term kind.

    `at` must be fresh: distinct from every index the term uses. With a
    `trace`, each rule is recorded after the derivatives it builds on.
    """
    if not t.mentions(term, name):
        return t.Zero(_union(term.free, at))
    result, rule = _local(term, name, at, trace)
    if trace is not None:
        trace.local(rule, term, result, name, at)
    return result


def _local(
    term: t.Term, name: str, at: tuple[t.Idx, ...], trace: Trace | None
) -> tuple[t.Term, str]:
    """The derivative of a term that mentions `name`, and the rule that gave it."""
    match term:
        case t.Tensor() if term.kind == t.UPSTREAM:
            # `dloss/dA` is opaque: differentiating it needs loss'' (spec 9.6).
            raise SecondDerivativeOfLoss(name)
        case t.Tensor():
            return _tensor(term, at), "delta" if at else "scalar_self"
        case t.Add():
            return _add(term, name, at, trace), "sum_rule"
        case t.Product():
            return _product(term, name, at, trace)
        case t.Func():
            inner = partial(term.arg, name, at, trace)
            return t.Product((derivative_of_function(term.name, term.arg), inner)), "function"
        case t.Opaque():
            # The chain rule with one more prime: (f^(k)(u))' = f^(k+1)(u) u'.
            inner = partial(term.arg, name, at, trace)
            outer = t.Opaque(term.name, term.order + 1, term.arg)
            return t.Product((outer, inner)), "opaque_function"
        case t.IndexedFunc():
            return _indexed(term, name, at, trace), term.name
        case t.Pow():
            return _pow(term, name, at, trace), "power_rule"
        case t.Extremum():
            return _extremum(term, name, at, trace), "extremum"
        case t.Compare():
            # 1 or 0, flat on both sides of its kink (numeric checks stay off it).
            return t.Zero(_union(term.free, at)), "comparison"
        case t.Loss():
            # The derivative of an unspecified loss is an opaque upstream gradient.
            return t.Tensor(f"dloss/d{name}", at, t.UPSTREAM), "loss"
        case t.Matrix():
            return _matrix(term, at), term.name
        case t.Const() | t.SizeOf() | t.Delta() | t.Zero() | t.IndexValue():
            return t.Zero(_union(term.free, at)), "constant"
        case _:
            assert_never(term)


def _matrix(term: t.Matrix, at: tuple[t.Idx, ...]) -> t.Term:
    """The matrix functions' rules (spec 9.5), at X[p, q] for at = (p, q):
    d det(X) = det(X) inv(X)[q, p] (Jacobi's formula); d inv(X)[i, j] =
    -inv(X)[i, p] inv(X)[q, j] (from d(X X⁻¹) = 0); d trace(X) = δ[p, q]."""
    p, q = at
    match term.name:
        case "det":
            return t.Product((term, t.Matrix("inv", term.array, (q, p))))
        case "inv":
            i, j = term.indices
            left = t.Matrix("inv", term.array, (i, p))
            right = t.Matrix("inv", term.array, (q, j))
            return t.Product((t.Const(-1.0), left, right))
        case _:
            return t.Delta((p, q))


def _union(*groups: tuple[t.Idx, ...]) -> tuple[t.Idx, ...]:
    seen: dict[str, t.Idx] = {}
    for group in groups:
        for index in group:
            seen.setdefault(index.name, index)
    return tuple(seen.values())


def _tensor(term: t.Tensor, at: tuple[t.Idx, ...]) -> t.Term:
    # dX[i,j]/dX[p,q] = δ[i,p] δ[j,q]; a scalar's derivative by itself is 1.
    deltas = tuple(
        reads_last(t.Delta((mine, theirs))) for mine, theirs in zip(term.indices, at, strict=True)
    )
    if not deltas:
        return t.Const(1.0)
    return deltas[0] if len(deltas) == 1 else t.Product(deltas)


def _add(term: t.Add, name: str, at: tuple[t.Idx, ...], trace: Trace | None) -> t.Term:
    # Terms without the array differentiate to zero: left out here rather than
    # made and then pruned by the simplifier.
    parts = [partial(x, name, at, trace) for x in term.terms if t.mentions(x, name)]
    return t.add(parts, _union(term.free, at))


def _product(
    term: t.Product, name: str, at: tuple[t.Idx, ...], trace: Trace | None
) -> tuple[t.Term, str]:
    # The product rule, under the same sums: Σ_j (a b)' = Σ_j (a' b + a b'),
    # with one term per class of equal factors (times the class's size).
    parts: list[t.Term] = []
    grouped = False
    for position, count in _factor_classes(term, name):
        factors = list(term.factors)
        factors[position] = partial(term.factors[position], name, at, trace)
        if count > 1:
            factors.insert(0, t.Const(float(count)))
            grouped = True
        parts.append(t.Product(tuple(factors), term.summed))
    rule = "product_rule_grouped" if grouped else "product_rule"
    return t.add(parts, _union(term.free, at)), rule


def _factor_classes(term: t.Product, name: str) -> list[tuple[int, int]]:
    """The factors that mention `name`, as (first position, count) per class of
    factors equal up to renaming the summed indices that only they use.

    Σ_{i,j} a[i] a[j] = (Σ_i a[i]) (Σ_j a[j]): the two factors are one value,
    so their terms of the product rule are equal, and one term times 2 says
    the same. Without this the derivative of a[i0] … a[i999] would be 1,000
    terms of 1,000 factors each, which the simplifier then merges back into
    one: quadratic work (and memory) for a linear result.
    """
    mentioning = [p for p, factor in enumerate(term.factors) if t.mentions(factor, name)]
    if len(mentioning) == 1:
        # The common case, a class of its own: no key to build (a key costs a
        # walk of the factor, and a factor may be a whole unrolled loop).
        return [(mentioning[0], 1)]
    summed = {i.name for i in term.summed}
    users: dict[str, int] = {}
    for factor in term.factors:
        for index in factor.free:
            users[index.name] = users.get(index.name, 0) + 1
    classes: dict[str, list[int]] = {}  # key -> [first position, count]
    for position in mentioning:
        factor = term.factors[position]
        private = tuple(i for i in factor.free if i.name in summed and users[i.name] == 1)
        # The key hides only the private indices: any other index is compared
        # by name, so equal keys mean equal values in every other index.
        alone = key(t.Product((factor,), private)) if private else key(factor)
        classes.setdefault(alone, [position, 0])[1] += 1
    return [(position, count) for position, count in classes.values()]


# Which argument max/min selects, as the comparison that says so; a tie goes
# to the first: max(a, b)' = (a >= b) a' + (a < b) b'.
_SELECTS_FIRST = {"max": (">=", "<"), "min": ("<=", ">")}


def _extremum(term: t.Extremum, name: str, at: tuple[t.Idx, ...], trace: Trace | None) -> t.Term:
    first_op, second_op = _SELECTS_FIRST[term.name]
    a, b = term.first, term.second
    parts: list[t.Term] = []
    if t.mentions(a, name):
        parts.append(t.Product((t.Compare(first_op, a, b), partial(a, name, at, trace))))
    if t.mentions(b, name):
        parts.append(t.Product((t.Compare(second_op, a, b), partial(b, name, at, trace))))
    return t.add(parts, _union(term.free, at))


def _pow(term: t.Pow, name: str, at: tuple[t.Idx, ...], trace: Trace | None) -> t.Term:
    # (b^e)' = e b^(e-1) b' + b^e log(b) e'
    parts: list[t.Term] = []
    base, exponent = term.base, term.exponent
    if t.mentions(base, name):
        lowered = t.add([exponent, t.Const(-1.0)], exponent.free)
        parts.append(t.Product((exponent, t.Pow(base, lowered), partial(base, name, at, trace))))
    if t.mentions(exponent, name):
        parts.append(t.Product((term, t.Func("log", base), partial(exponent, name, at, trace))))
    return t.add(parts, _union(term.free, at))


def _indexed(term: t.IndexedFunc, name: str, at: tuple[t.Idx, ...], trace: Trace | None) -> t.Term:
    """The textbook derivatives of spec 9.5, each under its own sum over the
    function's indices (e' is ∂arg/∂name[at]):
    logsumexp_j(e)' = Σ_j softmax_j(e) e'; norm_j(e)' = Σ_j e e' / norm_j(e);
    max_j(e)' = Σ_j δ[j, argmax_j(e)] e' (spec 9.2); argmax_j(e)' = 0;
    softmax_j(e)[k]' = softmax(e)[k] (e'[k] - Σ_j softmax_j(e) e'[j])."""
    free = _union(term.free, at)
    if term.name == "softmax":
        return _softmax(term, name, at, trace)
    if term.name in t.SELECTIONS:
        # An integer, flat wherever it does not jump (numeric checks stay off ties).
        return t.Zero(free)
    inner = partial(term.arg, name, at, trace)
    if term.name in t.EXTREME_REDUCTIONS:
        return t.add([_selected(term, inner)], free)
    if term.name == "logsumexp":
        weights = t.IndexedFunc("softmax", term.over, term.arg, term.over)
        return t.add([t.Product((weights, inner), term.over)], free)
    # norm: e / norm, with e and e' sharing the summed indices.
    scale = t.Pow(term, t.Const(-1.0))
    return t.add([t.Product((term.arg, scale, inner), term.over)], free)


def _selected(term: t.IndexedFunc, inner: t.Term) -> t.Term:
    """max_j(e)' = Σ_j δ[j, argmax_j(e)] e' (min with argmin): the derivative
    of the first entry that attains it (spec 9.2). The sum's j and the j bound
    inside the argmax are one name in two scopes; the delta eats the sum's."""
    (index,) = term.over
    choice = t.IndexedFunc("arg" + term.name, term.over, term.arg)
    selector = t.Delta((index, t.Select(choice)))
    return t.Product((selector, inner), term.over)


# The names of the file being derived, which fresh names avoid (spec 10: no
# dim, array or index of the file); set by `Deriver._adjoint` around its
# `partial` calls, so the rules need not pass them down (none outside one).
_FILE_NAMES: ContextVar[frozenset[str]] = ContextVar("file_names", default=frozenset())


@contextmanager
def _avoiding(names: frozenset[str]) -> Iterator[None]:
    token = _FILE_NAMES.set(names)
    try:
        yield
    finally:
        _FILE_NAMES.reset(token)


def _softmax(term: t.IndexedFunc, name: str, at: tuple[t.Idx, ...], trace: Trace | None) -> t.Term:
    # The softmax weights are summed over indices of their own, renamed away
    # from every index the result keeps, so no sum captures one of them, and
    # from the file's names (a dim `p` must not become `Σ_p`).
    fresh = t.FreshNames(set(t.used_names(term)) | {i.name for i in at}, _FILE_NAMES.get())
    inner: dict[str, t.Index] = {o.name: t.Idx(fresh.take(), o.size) for o in term.over}
    summed = tuple(i for i in inner.values() if isinstance(i, t.Idx))
    weights = t.IndexedFunc("softmax", term.over, term.arg, summed)
    spread = partial(t.substitute(term.arg, inner), name, at, trace)
    mean = t.Product((weights, spread), summed)
    here = dict(zip((o.name for o in term.over), term.at, strict=True))
    own = partial(t.substitute(term.arg, here), name, at, trace)
    common, difference = _common_deltas(simplify(own), simplify(mean))
    return t.add([t.Product((term, *common, difference))], _union(term.free, at))


def _common_deltas(own: t.Term, mean: t.Term) -> tuple[tuple[t.Term, ...], t.Term]:
    """own - mean with the deltas both share pulled out in front:
    δ[i,p] δ[k,q] - P[i,q] δ[i,p] = δ[i,p] (δ[k,q] - P[i,q]), so that the
    δ[i,p] meets the sums around it and is eaten (the simplifier does not
    factor sums)."""
    own_factors = list(_factors(own))
    mean_factors = list(_factors(mean))
    common: list[t.Term] = []
    for factor in list(own_factors):
        if not isinstance(factor, t.Delta):
            continue
        match = next((m for m in mean_factors if key(m) == key(factor)), None)
        if match is not None:
            common.append(factor)
            own_factors.remove(factor)
            mean_factors.remove(match)
    if not common:
        return (), t.add([own, _minus(mean)])
    rest = [_product_of(own_factors), _minus(_product_of(mean_factors))]
    return tuple(common), t.add(rest)


def _product_of(factors: list[t.Term]) -> t.Term:
    """The product of `factors`: the factor itself when there is one, 1 for none."""
    if len(factors) == 1:
        return factors[0]
    return t.Product(tuple(factors)) if factors else t.Const(1.0)


def _factors(term: t.Term) -> tuple[t.Term, ...]:
    """The factors of a product that sums nothing; a term alone otherwise."""
    if isinstance(term, t.Product) and not term.summed:
        return term.factors
    return (term,)


# ---------------------------------------------------------------------------
# Reverse mode over the definition graph


@dataclass(frozen=True)
class Adjoint:
    """A named intermediate line: dA/dY[a..., y...] = formula."""

    of: str
    wrt: str
    indices: tuple[t.Idx, ...]  # A's, then Y's
    formula: t.Term

    @property
    def label(self) -> str:
        return f"d{self.of}/d{self.wrt}"


@dataclass(frozen=True)
class Derivation:
    of: str
    wrt: str
    of_indices: tuple[t.Idx, ...]
    wrt_indices: tuple[t.Idx, ...]
    formula: t.Term  # in terms of the adjoints
    adjoints: tuple[Adjoint, ...]  # in the order they are computed (A first)
    layout: str
    # 2 for d2A/dB2: then `of` is the first derivative `dA/dB` (a definition
    # of the Deriver's own) and `of_indices` are A's, then B's inner ones.
    order: int = 1

    @property
    def label(self) -> str:
        if self.order == 2:
            return derivative_label(self.first_of, self.wrt, 2)
        return f"d{self.of}/d{self.wrt}"

    @property
    def first_of(self) -> str:
        """A, the array differentiated (the name inside `dA/dB` for order 2)."""
        return self.of[1:].split("/d", 1)[0] if self.order == 2 else self.of

    @property
    def indices(self) -> tuple[t.Idx, ...]:
        """Numerator order: A's indices, then B's."""
        return self.of_indices + self.wrt_indices

    @property
    def signature(self) -> tuple[t.Idx, ...]:
        """The indices in the file's layout (spec sections 5 and 9.6): for
        d2A/dB2 in denominator layout B's outer, B's inner, A's (a scalar A's
        Hessian is in numerator order in both layouts)."""
        if self.layout == "numerator":
            return self.indices
        if self.order == 2:
            inner = self.of_indices[len(self.of_indices) - len(self.wrt_indices) :]
            a = self.of_indices[: len(self.of_indices) - len(self.wrt_indices)]
            return self.indices if not a else self.wrt_indices + inner + a
        if not self.of_indices:
            return self.indices
        return self.wrt_indices + self.of_indices

    @property
    def signature_parts(self) -> tuple[tuple[t.Idx, ...], tuple[t.Idx, ...]]:
        """The signature as shown, `[i,k | p,q]`: the part of the numerator (A's,
        and for d2A/dB2 B's inner) and the part of B, in layout order."""
        signature = self.signature
        cut = (
            len(self.of_indices)
            if signature[: len(self.of_indices)] == self.of_indices
            else (len(self.wrt_indices))
        )
        return signature[:cut], signature[cut:]


def _lowered(
    definition: CheckedDefinition, trace: Trace | None, shapes: ShapeMemo
) -> tuple[tuple[t.Idx, ...], t.Term]:
    """A definition as terms, simplified (its steps kept aside in the trace;
    without one, once per shape: an unrolled loop's definitions are alike)."""
    lhs, rhs = lower_definition(definition)
    if trace is None:
        return lhs, shapes.simplified(rhs, simplify)
    return lhs, simplify(rhs, trace=trace.definition(definition.name, lhs, rhs))


def _names_in_use(
    program: CheckedProgram, lowered: dict[str, tuple[tuple[t.Idx, ...], t.Term]]
) -> set[str]:
    """Every name of the file, which fresh index names must avoid: indices,
    and dims and arrays too, so that `Σ_b U[b,i] s2[b] + b[i]` cannot happen."""
    taken: set[str] = set()
    for lhs, rhs in lowered.values():
        taken |= {i.name for i in lhs} | t.index_names(rhs)
    for claim in program.claims:
        taken |= set(claim.indices) | {name for name, _ in claim.sizes}
    taken |= {d.name for d in program.dims} | {a.name for a in program.arrays}
    return taken


@dataclass
class _Walk:
    """One reverse-mode walk: the target A at its indices, the definitions on
    the path, each adjoint's indices as they are named, and the fresh names."""

    of: str
    of_indices: tuple[t.Idx, ...]
    on_path: set[str]
    fresh: t.FreshNames
    adjoint_indices: dict[str, tuple[t.Idx, ...]] = field(default_factory=dict)
    zero: set[str] = field(default_factory=set)  # consumers whose adjoint is 0
    lines: dict[str, Adjoint] = field(default_factory=dict)  # the adjoints made, by label


# A walk is known by A, its indices, the definitions on the path in the order
# visited and the fresh names' state; what it made: the adjoints, each
# adjoint's indices, the consumers whose adjoint is 0 and the fresh names'
# state after them.
_FreshState = tuple[frozenset[str], int]
_WalkKey = tuple[str, tuple[t.Idx, ...], tuple[str, ...], _FreshState]
_WalkDone = tuple[tuple[Adjoint, ...], dict[str, tuple[t.Idx, ...]], frozenset[str], _FreshState]


def _finished(walk: _Walk, adjoints: tuple[Adjoint, ...]) -> _WalkDone:
    """What a walk made, for `_resumed`."""
    return adjoints, dict(walk.adjoint_indices), frozenset(walk.zero), walk.fresh.state()


def _resumed(walk: _Walk, done: _WalkDone) -> tuple[Adjoint, ...]:
    """An earlier walk's adjoints, with the walk left as that walk left it."""
    adjoints, indices, zero, state = done
    walk.adjoint_indices.update(indices)
    walk.zero.update(zero)
    walk.lines.update((a.label, a) for a in adjoints)
    walk.fresh.restore(state)
    return adjoints


# A consumer C of an array in reverse mode: (C, the indices c it is taken at,
# its right-hand side at c, the adjoint dA/dC[a, c] or None when C is A).
_Link = tuple[str, tuple[t.Idx, ...], t.Term, t.Tensor | None]


def _preferred_names(deriver: Deriver, name: str, rank: int) -> list[str | None]:
    """The definition's own index names, else those of the first use if they
    are distinct names; None where there is no name to prefer (spec 10: an
    index keeps the name it has where it comes from)."""
    if name in deriver.lowered:
        return [i.name for i in deriver.lowered[name][0]]
    use = _first_use(deriver, name)
    if use is not None and len({i.name for i in use if isinstance(i, t.Idx)}) == len(use):
        return [i.name if isinstance(i, t.Idx) else None for i in use]
    return [None] * rank


def _first_use(deriver: Deriver, name: str) -> tuple[t.Index, ...] | None:
    """The indices of the first read of `name` in the definitions that use it."""
    for consumer in deriver.graph.consumers.get(name, ()):
        stack = [deriver.lowered[consumer][1]]
        while stack:
            node = stack.pop()
            if isinstance(node, t.Tensor) and node.name == name:
                return node.indices
            stack.extend(reversed(t.children(node)))
    return None


class Deriver:
    """Derivatives of one checked program, sharing the lowered definitions.

    With a `trace` (shapecheck explain), every step of the work is recorded
    in it; a Deriver with a trace is meant for one derivative.
    """

    def __init__(self, program: CheckedProgram, trace: Trace | None = None) -> None:
        self.program = program
        self.trace = trace
        self.graph = DefinitionGraph(program)
        # Simplified once here; instantiations are renamings of these, which
        # the engine then need not simplify again.
        # An unrolled loop's definitions and adjoints are simplified once per shape.
        self._shapes = ShapeMemo()
        self.lowered = {d.name: _lowered(d, trace, self._shapes) for d in program.definitions}
        self.taken = _names_in_use(program, self.lowered)
        # What fresh names avoid (spec 10); `taken` grows with formulas made here.
        self.file_names = frozenset(self.taken)
        # Per definition, made when needed: its index names other than the
        # left-hand ones, in order, and its parts by the array they read.
        self._inner_names: dict[str, tuple[str, ...]] = {}
        self._reading_parts: dict[str, ReadingParts] = {}
        # The adjoints of one walk, for the next derivative of the same A over
        # the same definitions from the same fresh names: dL/dWh, dL/dWx and
        # dL/db of an RNN share every dL/dh{t}.
        self._walks: dict[_WalkKey, _WalkDone] = {}
        _substitute_references(self)  # last: it derives, with the caches above

    # ---- naming
    def _indices_for(self, name: str, avoid: set[str], fresh: t.FreshNames) -> tuple[t.Idx, ...]:
        """Names for an array's indices: its definition's own, else those of its
        first use, renamed only where they clash with `avoid`."""
        array = self.program.array(name)
        preferred = _preferred_names(self, name, array.rank)
        if None in preferred or set(preferred) & avoid:
            # All fresh rather than a mix, so that `dY[i,k]/dX[p,q]` reads clearly.
            return tuple(t.Idx(fresh.take(), size) for size in array.shape)
        return tuple(
            t.Idx(want, size) for want, size in zip(preferred, array.shape, strict=True) if want
        )

    def _instantiate(
        self,
        name: str,
        lhs: tuple[t.Idx, ...],
        avoid: set[str],
        fresh: t.FreshNames,
        reading: str | None = None,
    ) -> t.Term:
        """A definition's right-hand side with its left indices renamed to `lhs`
        and its summed indices renamed away from `avoid`; with `reading`, only
        the part of it that the derivative by that array needs (`reading.py`:
        the terms of sums that read it, nested), renamed exactly as in the whole."""
        own_lhs, rhs = self.lowered[name]
        mapping: dict[str, t.Index] = {
            mine.name: new for mine, new in zip(own_lhs, lhs, strict=True) if mine != new
        }
        clash = avoid | {i.name for i in lhs}
        if name not in self._inner_names:
            self._inner_names[name] = _inner_names(own_lhs, rhs)
        inner_names = self._inner_names[name]
        local = t.FreshNames(clash | set(inner_names), self.taken)
        for inner in inner_names:
            if inner in clash:
                size = t.size_of_index(rhs, inner)
                mapping[inner] = t.Idx(local.take(), size)
        if reading is not None:
            if name not in self._reading_parts:
                self._reading_parts[name] = ReadingParts(rhs)
            parts = self._reading_parts[name]
            part = parts.part(reading)
            # A lone softmax kept would read as a definition that is one (`_named`).
            if part is not rhs and not _lone_function(part):
                return parts.renamed(part, mapping)
        # The mapping is injective (fresh names are new): still a fixed point.
        return renamed_fixed_point(rhs, t.rename(rhs, mapping))

    # ---- the derivative
    def derive(self, of: str, wrt: str, order: int = 1) -> Derivation:
        """dA/dB, or with `order` 2 d2A/dB2: the derivative of dA/dB by B."""
        with collector_paused():
            if order == 2:
                return _second_derivative(self, of, wrt)
            return self._derive(of, wrt)

    def _derive(self, of: str, wrt: str) -> Derivation:
        fresh = t.FreshNames(set(self.file_names) | set(t.names(self.lowered.get(of, ((),))[0])))
        layout = self.program.layout
        of_indices = (
            tuple(self.lowered[of][0])
            if of in self.lowered
            else self._indices_for(of, set(), fresh)
        )
        a_names = {i.name for i in of_indices}
        wrt_indices = self._indices_for(wrt, a_names, fresh)
        if of == wrt:
            formula = _by_itself(of, of_indices, wrt_indices, self.trace)
            return Derivation(of, wrt, of_indices, wrt_indices, formula, (), layout)
        on_path = set(self.graph.on_path(of, wrt))
        if of not in on_path:
            zero = t.Zero(of_indices + wrt_indices)
            if self.trace is not None:
                self.trace.unconnected(f"d{of}/d{wrt}", zero)
            return Derivation(of, wrt, of_indices, wrt_indices, zero, (), layout)
        if len(on_path) > MAX_PATH_DEFINITIONS:
            raise DerivationTooLarge(
                f"{len(on_path):,} definitions lie between {wrt} and {of}; "
                f"the limit is {MAX_PATH_DEFINITIONS:,}"
            )
        if self.trace is not None:
            self.trace.replay(n for n in self.graph.order if n in on_path)
        walk = _Walk(of, of_indices, on_path, fresh)
        adjoints = _referenced(self._adjoints(walk), final := self._adjoint(walk, wrt, wrt_indices))
        return Derivation(of, wrt, of_indices, wrt_indices, final, adjoints, layout)

    def _adjoints(self, walk: _Walk) -> tuple[Adjoint, ...]:
        """The adjoints of every definition on the path, nearest A first
        (those of an earlier walk where it was the same walk)."""
        order = tuple(n for n in sorted(walk.on_path, key=lambda n: -self.graph.position[n]))
        walk_key = (walk.of, walk.of_indices, order, walk.fresh.state())
        done = self._walks.get(walk_key) if self.trace is None else None
        if done is not None:
            return _resumed(walk, done)
        a_names = {i.name for i in walk.of_indices}
        made: list[Adjoint] = []
        for name in order:
            if name == walk.of:
                continue
            mine = self._indices_for(name, a_names, walk.fresh)
            formula = self._adjoint(walk, name, mine)
            walk.adjoint_indices[name] = mine
            if isinstance(formula, t.Zero):  # no line, nor chain-rule terms through it
                walk.zero.add(name)
                continue
            made.append(Adjoint(walk.of, name, walk.of_indices + mine, formula))
            walk.lines[made[-1].label] = made[-1]
        adjoints = tuple(made)
        self._walks[walk_key] = _finished(walk, adjoints)
        return adjoints

    def _adjoint(self, walk: _Walk, name: str, at: tuple[t.Idx, ...]) -> t.Term:
        """dA/dNAME[a, at] = Σ over consumers C: dA/dC[a, c] ∂C[c]/∂NAME[at]."""
        of, of_indices = walk.of, walk.of_indices
        links = self._links(walk, name, at)
        line = t.Tensor(f"d{of}/d{name}", of_indices + at, t.ADJOINT)
        trace = self.trace
        chain = trace.chain(line, [(c, i, r) for c, i, _, r in links], name, at) if trace else None
        with _avoiding(self.file_names):
            parts = [
                _named(partial(rhs, name, at, trace), consumer, c, rhs)
                if reference is None
                else t.Product(
                    (reference, _named(partial(rhs, name, at, trace), consumer, c, rhs)), c
                )
                for consumer, c, rhs, reference in links
            ]
        summed = _bounded(t.add(parts, of_indices + at), line.name)
        built = _one_hot_inlined(walk, summed)
        # Only lines written out can make it larger than what was bounded.
        bounded = built if built is summed else _bounded(built, line.name)
        if trace is None:
            result = self._shapes.simplified(bounded, simplify)
        else:  # `explain` records every step of the one simplification
            result = simplify(bounded, trace=trace)
        if t.size_count(result, MAX_FORMULA_NODES) > MAX_FORMULA_NODES:
            raise DerivationTooLarge(f"d{of}/d{name} has more than {MAX_FORMULA_NODES:,} nodes")
        if trace is not None and chain is not None:
            # The derivative itself is the one line not on the path (it is B's).
            trace.finished(line, chain, built, result, final=name not in walk.on_path)
        return result

    def _links(self, walk: _Walk, name: str, at: tuple[t.Idx, ...]) -> list[_Link]:
        """The consumers C of NAME on the path, each instantiated at its own
        indices c, with the adjoint dA/dC[a, c] that multiplies ∂C[c]/∂NAME."""
        of, of_indices, fresh = walk.of, walk.of_indices, walk.fresh
        avoid = {i.name for i in of_indices} | {i.name for i in at}
        # `explain` shows each consumer whole; a derivation needs only the
        # terms that read NAME (the same renaming, so the same result).
        reading = name if self.trace is None else None
        links: list[_Link] = []
        for consumer in self.graph.consumers.get(name, ()):
            if consumer not in walk.on_path or consumer in walk.zero:
                continue
            if consumer == of:
                rhs = self._instantiate(consumer, of_indices, avoid, fresh, reading)
                links.append((consumer, of_indices, rhs, None))
                continue
            own = walk.adjoint_indices[consumer]
            local = t.FreshNames(avoid | {i.name for i in own}, self.taken)
            c = tuple(i if i.name not in avoid else t.Idx(local.take(), i.size) for i in own)
            rhs = self._instantiate(consumer, c, avoid | {i.name for i in c}, fresh, reading)
            reference = t.Tensor(f"d{of}/d{consumer}", of_indices + c, t.ADJOINT)
            links.append((consumer, c, rhs, reference))
        return links


def _adjoint_references(term: t.Term) -> set[str]:
    """The names of the adjoint lines (`dA/dY[...]`) a formula reads."""
    found: set[str] = set()
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor) and node.kind == t.ADJOINT:
            found.add(node.name)
        stack.extend(t.children(node))
    return found


def _one_hot_quotient(term: t.Term) -> bool:
    """Whether a formula holds a delta and divides by an array (the derivative
    of `log(P[i,y[i]])`: `δ[k,y[i]] / P[i,y[i]]`), which the factors of the
    next line can cancel."""
    delta = divides = False
    stack = [term]
    while stack:
        node = stack.pop()
        delta = delta or isinstance(node, t.Delta)
        divides = divides or (
            isinstance(node, t.Pow)
            and isinstance(node.exponent, t.Const)
            and node.exponent.value < 0
            and not isinstance(node.base, t.Const | t.SizeOf)
        )
        stack.extend(t.children(node))
    return delta and divides


def _one_hot_inlined(walk: _Walk, built: t.Term) -> t.Term:
    """`built` with each adjoint it reads that is a one-hot quotient (the
    upstream cross-entropy with labels makes: `-δ[k,y[i]] / n / P[i,y[i]]`)
    written out, where the simplified result is then no larger than the
    result with the reference and those lines together: the delta meets the
    sums and divisions around it, and the softmax backward
    `P[i,k] (dL/dP[i,k] - Σ_r P[i,r] dL/dP[i,r])` becomes `(P[i,k] - δ[k,y[i]]) / n`.
    A line written out everywhere is no longer shown (`_referenced`). The
    choice is made before the one simplification that `explain` records."""
    lines = {
        name: walk.lines[name]
        for name in _adjoint_references(built)
        if name in walk.lines
        and _one_hot_quotient(walk.lines[name].formula)
        and _one_size_per_name(walk.lines[name].formula)
    }
    if not lines:
        return built
    scratch = t.FreshNames(set())
    scratch.restore(walk.fresh.state())
    bodies = {name: line.formula for name, line in lines.items()}
    # Fresh names for the lines' inner sums avoid every name already there.
    scratch.taken |= t.index_names(built)
    for body in bodies.values():
        scratch.taken |= t.index_names(body)
    inlined = _inline(built, lines, bodies, scratch)
    # What a reader reads: this formula and the lines it refers to.
    named = t.size_count(simplify(built)) + sum(t.size_count(b) for b in bodies.values())
    if t.size_count(simplify(inlined)) > named:
        return built
    walk.fresh.restore(scratch.state())
    return inlined


def _one_size_per_name(term: t.Term) -> bool:
    """Whether every index name of a formula has one size: `_inline` renames
    a line's inner sums by name, so two sums of one name and different sizes
    (each in its own term) cannot be written out that way."""
    sizes: dict[str, object] = {}
    stack = [term]
    while stack:
        node = stack.pop()
        summed = node.summed if isinstance(node, t.Product) else ()
        for index in (*node.free, *summed):
            if sizes.setdefault(index.name, index.size) != index.size:
                return False
        stack.extend(t.children(node))
    return True


def _referenced(adjoints: tuple[Adjoint, ...], final: t.Term) -> tuple[Adjoint, ...]:
    """The adjoint lines the derivative reads, directly or through other lines
    (one written out into every line that read it is left out)."""
    wanted = _adjoint_references(final)
    for adjoint in reversed(adjoints):  # farthest from A first: each reads nearer ones
        if adjoint.label in wanted:
            wanted |= _adjoint_references(adjoint.formula)
    return tuple(a for a in adjoints if a.label in wanted)


def _inner_names(lhs: tuple[t.Idx, ...], rhs: t.Term) -> tuple[str, ...]:
    """A definition's index names other than its left-hand ones, in order."""
    own = {i.name for i in lhs}
    return tuple(n for n in t.names_in_order(rhs) if n not in own)


def _lone_function(part: t.Term) -> bool:
    """A sum of one term that `_named` would take for the whole definition (a
    softmax, a det or an inverse): kept alone, it would be renamed as the defined array."""
    return (
        isinstance(part, t.Add)
        and len(part.terms) == 1
        and isinstance(part.terms[0], t.IndexedFunc | t.Matrix)
    )


def _named(local: t.Term, consumer: str, c: tuple[t.Idx, ...], rhs: t.Term) -> t.Term:
    """A local derivative with each copy of its definition's softmax, logsumexp
    or norm written as the defined array: `P[i,j] (δ[j,q] - P[i,q])` rather
    than the function spelt out again (the softmax read at another index is
    P there). Only a definition whose whole right-hand side is one such
    function is named this way."""
    if isinstance(rhs, t.Add) and len(rhs.terms) == 1:
        if set(t.names(rhs.terms[0].free)) != set(t.names(rhs.free)):
            # Broadcast over an index the function lacks (`Y[i] = norm[k](x[k])
            # w[i] / w[i]`): a copy of it is no reading of Y, which has that index.
            return local
        rhs = rhs.terms[0]
    if isinstance(rhs, t.Matrix):
        return _named_matrix(local, consumer, c, rhs)
    if not isinstance(rhs, t.IndexedFunc) or not all(a in c for a in rhs.at):
        return local
    if rhs.at and t.plain_positions(rhs) is None:
        # Read at an index its argument also has (a diagonal, d[i] = the
        # softmax of row i read at i): another reading is not d elsewhere.
        return local
    own = key(rhs)
    positions = [c.index(a) for a in rhs.at if isinstance(a, t.Idx)]

    def rename(node: t.Term) -> t.Term | None:
        if (
            isinstance(node, t.IndexedFunc)
            and node.name == rhs.name
            and key(t.IndexedFunc(node.name, node.over, node.arg, rhs.at)) == own
        ):
            indices: list[t.Index] = list(c)
            for position, where in zip(positions, node.at, strict=True):
                indices[position] = where
            return t.Tensor(consumer, tuple(indices))
        return None

    return t.replace_nodes(local, rename)


def _named_matrix(local: t.Term, consumer: str, c: tuple[t.Idx, ...], rhs: t.Matrix) -> t.Term:
    """A local derivative with the definition's own matrix function written as
    the defined array: `D inv(X)[q,p]` for `D = det(X)`, `-Y[i,p] Y[q,j]` for
    `Y[i, j] = inv(X)[i, j]` (read at any indices: `Y[j, i] = inv(X)[i, j]`
    too). An inverse read at a repeated index or a literal names nothing."""
    names = [i.name for i in c]
    if rhs.name == "inv":
        at = [i.name for i in rhs.indices if isinstance(i, t.Idx)]
        if len(set(at)) != 2 or sorted(at) != sorted(names):
            return local
        # Where each of the inverse's positions stands among the defined array's.
        places = [names.index(name) for name in at]

    def rename(node: t.Term) -> t.Term | None:
        if isinstance(node, t.Matrix) and (node.name, node.array) == (rhs.name, rhs.array):
            if rhs.name != "inv":
                return t.Tensor(consumer, ())
            indices: list[t.Index] = list(node.indices)
            for position, place in enumerate(places):
                indices[place] = node.indices[position]
            return t.Tensor(consumer, tuple(indices))
        return None

    return t.replace_nodes(local, rename)


def _by_itself(
    of: str, of_indices: tuple[t.Idx, ...], wrt_indices: tuple[t.Idx, ...], trace: Trace | None
) -> t.Term:
    """dA/dA: one delta per index (1 for a scalar), simplified."""
    deltas = [t.Delta((x, y)) for x, y in zip(of_indices, wrt_indices, strict=True)]
    formula: t.Term = t.Product(tuple(deltas)) if deltas else t.Const(1.0)
    if trace is None:
        return simplify(formula)
    line = t.Tensor(f"d{of}/d{of}", of_indices + wrt_indices, t.ADJOINT)
    trace.line = label(line.name, line.indices)
    trace.local(
        "delta" if deltas else "scalar_self", t.Tensor(of, of_indices), formula, of, wrt_indices
    )
    result = simplify(formula, trace=trace)
    trace.done(line, result)
    return result


def has_reference(term: t.Term) -> bool:
    """Whether a derivative reference (`dA/dB[...]`, `d2A/dB2[...]`) stands in the term."""
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor) and node.kind == t.REFERENCE:
            return True
        stack.extend(t.children(node))
    return False


def _bounded(term: t.Term, label: str) -> t.Term:
    """`term`, unless it is too large to simplify (DerivationTooLarge)."""
    if t.size_count(term, MAX_BUILT_NODES) > MAX_BUILT_NODES:
        raise DerivationTooLarge(
            f"{label} would have more than {MAX_BUILT_NODES:,} nodes before simplification"
        )
    return term


# ---------------------------------------------------------------------------
# Derivatives as values (spec 9.6)


def _substitute_references(deriver: Deriver) -> None:
    """In file order, each derivative reference of a definition is replaced by
    the derivative it names, derived from the definitions above it."""
    for definition in deriver.program.definitions:
        lhs, rhs = deriver.lowered[definition.name]
        if not has_reference(rhs):
            continue
        try:
            rhs = simplify(replace_references(deriver, rhs, t.FreshNames(deriver.taken)))
        except (SecondDerivativeOfLoss, DerivationTooLarge) as error:
            error.definition = definition.name
            raise
        deriver.lowered[definition.name] = (lhs, rhs)
        deriver.taken |= t.index_names(rhs)


def replace_references(
    deriver: Deriver, term: t.Term, fresh: t.FreshNames, spent: Spent | None = None
) -> t.Term:
    """`term` with every `dA/dB[...]` and `d2A/dB2[...]` replaced by the
    derivative fully expanded, read at the reference's indices (simplified
    within `spent`, as `expand`)."""

    def value(node: t.Term) -> t.Term | None:
        if isinstance(node, t.Tensor) and node.kind == t.REFERENCE:
            return _reference_value(deriver, node, fresh, spent)
        return None

    return t.replace_nodes(term, value)


def references_in(term: t.Term) -> list[str]:
    """The name of each derivative reference `dA/dB[...]` in `term`, once per
    occurrence, in the order they are read."""
    found: list[str] = []
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor) and node.kind == t.REFERENCE:
            found.append(node.name)
        stack.extend(reversed(t.children(node)))
    return found


def _reference_value(
    deriver: Deriver, term: t.Tensor, fresh: t.FreshNames, spent: Spent | None
) -> t.Term:
    derivation = deriver.derive(*reference_target(term.name))
    truth = expand(derivation, deriver.taken, spent)
    own = {i.name for i in derivation.indices}
    inner = [name for name in t.names_in_order(truth) if name not in own]
    # The derivation's own names came from fresh names of its own: the inner
    # ones must not be renamed onto them (a sum `v[p] δ[1,p] + v[1]` with p twice).
    fresh.taken |= own | set(t.names_in_order(truth))
    sizes = t.index_sizes(truth)
    truth = t.rename(truth, {name: t.Idx(fresh.take(), sizes[name]) for name in inner})
    # The reference's indices follow the signature (layout) order.
    mapping = dict(zip([i.name for i in derivation.signature], term.indices, strict=True))
    return t.substitute(truth, mapping)


def _second_derivative(deriver: Deriver, of: str, wrt: str) -> Derivation:
    """d2A/dB2: reverse mode over dA/dB written out as a definition. Its
    adjoints would be labelled `ddA/dB/dC`, which is not `.idx`: the result
    is printed whole, as valid input (spec 10)."""
    first = _first_derivative_defined(deriver, of, wrt)
    second = deriver._derive(first, wrt)
    try:
        whole = expand(second, deriver.taken)
    except NotWrittenOut as error:  # said of d2A/dB2, not of ddA/dB/dB
        raise DerivationTooLarge(f"written out whole {error.whole}") from None
    return replace(second, formula=whole, adjoints=(), order=2)


def _first_derivative_defined(deriver: Deriver, of: str, wrt: str) -> str:
    """`dA/dB` as a definition of the Deriver's own, in numerator order, so
    that d2A/dB2 is its derivative by reverse mode (spec 9.6); its name cannot
    clash with an array's (it holds a `/`)."""
    name = f"d{of}/d{wrt}"
    if name not in deriver.lowered:
        first = deriver.derive(of, wrt)
        _check_written_out_size(first, frozenset(), MAX_SECOND_ORDER_BASE)
        formula = simplify(expand(first, deriver.taken))
        deriver.lowered[name] = (first.indices, formula)
        deriver.taken |= t.index_names(formula) | {i.name for i in first.indices}
        deriver.graph.add(name, tuple(sorted(deriver.graph.upstream_of(of) | {wrt})))
    return name


# ---------------------------------------------------------------------------
# Inlining the adjoints


def expand(
    derivation: Derivation,
    fresh_taken: set[str],
    spent: Spent | None = None,
    keep: AbstractSet[str] = frozenset(),
) -> t.Term:
    """The derivative as one formula: every adjoint inlined, then simplified
    (within what `spent` allows, or one budget for the whole, SimplifyLimit
    past it). The lines labelled in `keep` are not inlined: the formula reads
    them (`dL/dh2[k]`) where it reaches them. NotWrittenOut, before anything
    is built, where that would copy the lines past the limits above."""
    _check_written_out_size(derivation, keep)
    spent = spent if spent is not None else Spent()
    taken = fresh_taken | t.index_names(derivation.formula)
    for adjoint in derivation.adjoints:
        taken |= t.index_names(adjoint.formula)
    fresh = t.FreshNames(taken)
    lines = {a.label: a for a in derivation.adjoints if a.label not in keep}
    expanded: dict[str, t.Term] = {}
    # Adjoints are listed nearest A first, so each refers only to earlier ones.
    for adjoint in (a for a in derivation.adjoints if a.label in lines):
        inlined = _inline(adjoint.formula, lines, expanded, fresh)
        expanded[adjoint.label] = simplify(_bounded(inlined, adjoint.label), spent=spent)
    inlined = _inline(derivation.formula, lines, expanded, fresh)
    return simplify(_bounded(inlined, derivation.label), spent=spent)


def lines_size(derivation: Derivation) -> int:
    """The nodes of the derivative and its adjoint lines, as printed."""
    formulas = (derivation.formula, *(a.formula for a in derivation.adjoints))
    return sum(t.size_count(x) for x in formulas)


def copied_over(written_out: int, lines: int, limit: int) -> bool:
    """Whether a formula written out to `written_out` nodes from lines of
    `lines` nodes is too large to build: past `limit` and MAX_COPIES times
    the lines (what copies them, not what is large in itself)."""
    return written_out > limit and written_out > MAX_COPIES * lines


def _check_written_out_size(
    derivation: Derivation, keep: AbstractSet[str], limit: int | None = None
) -> None:
    limit = MAX_WRITTEN_OUT_NODES if limit is None else limit  # read when called
    written_out = written_out_size(derivation, keep)
    lines = lines_size(derivation)
    if copied_over(written_out, lines, limit):
        raise NotWrittenOut(
            derivation.label,
            f"(its adjoint lines inlined) would have {written_out_words(written_out, lines)}; "
            f"the limit is {limit:,}",
            f"it would have {written_out_words(written_out)}; the limit is {limit:,}",
        )


def written_out_words(written_out: int, lines: int | None = None) -> str:
    """`about N terms and factors, K times as many as its lines` (without
    `lines`, the first half), in whole numbers (a count that doubles per
    layer is past any float)."""
    if written_out >= SIZE_CAP:
        return f"more than {SIZE_CAP:.0e} terms and factors".replace("e+", " × 10^")
    if lines is None:
        return f"about {written_out:,} terms and factors"
    times = written_out // max(lines, 1)
    return f"about {written_out:,} terms and factors, {times:,} times as many as its lines"


def written_out_size(derivation: Derivation, keep: AbstractSet[str] = frozenset()) -> int:
    """The nodes of the derivative with every adjoint line inlined (but those
    in `keep`), before it is simplified: about what `expand` builds, counted
    without building it (each line's formula walked once, then counted once
    per reference to it), at most SIZE_CAP. Linear in the lines' sizes, where
    writing out an unrolled loop's derivative is quadratic in its steps or worse."""
    inlined_sizes: dict[str, int] = {}

    def size(term: t.Term) -> int:
        total, stack = 0, [term]
        while stack:
            node = stack.pop()
            if isinstance(node, t.Tensor) and node.kind == t.ADJOINT and node.name in inlined_sizes:
                total += inlined_sizes[node.name]
                continue
            total += 1
            stack.extend(t.children(node))
        # A line read twice per layer doubles per layer: counted up to SIZE_CAP.
        return min(total, SIZE_CAP)

    # Lines are listed nearest A first, so each refers only to earlier ones.
    for adjoint in derivation.adjoints:
        if adjoint.label not in keep:
            inlined_sizes[adjoint.label] = size(adjoint.formula)
    return size(derivation.formula)


def _inline(
    term: t.Term, lines: dict[str, Adjoint], expanded: dict[str, t.Term], fresh: t.FreshNames
) -> t.Term:
    if isinstance(term, t.Tensor) and term.kind == t.ADJOINT and term.name in lines:
        line = lines[term.name]
        body = expanded[term.name]
        # Summed indices of the body get fresh names so they cannot capture
        # the indices at which the adjoint is referenced.
        own = {i.name for i in line.indices}
        sizes = t.index_sizes(body)
        mapping: dict[str, t.Index] = {
            name: t.Idx(fresh.take(), sizes[name])
            for name in t.names_in_order(body)
            if name not in own
        }
        body = t.rename(body, mapping)
        return t.substitute(
            body, dict(zip([i.name for i in line.indices], term.indices, strict=True))
        )
    kids = t.children(term)
    if not kids:
        return term
    return t.with_children(term, tuple(_inline(k, lines, expanded, fresh) for k in kids))
