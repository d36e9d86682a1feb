"""The memory budget of numeric verification: estimates before anything is evaluated.

`verify` asks here whether a derivative may be checked entry by entry, along
random directions, or not at all; a derivative too large for the budget gets a
`not verified` check with `--size` values that would fit. Estimates count the
largest array evaluating a term makes, 8 bytes an entry, times 3 for the
temporaries around it. For a product that is what the einsum `evaluate` will
run allocates: `verify` passes `ProductMeasure` measuring the planned path
(numpy's `einsum_path`, on shapes only); without it (no numpy here) the bound
is the outer product of all factors, which for `Σ u[j,k] X[i,j] Y[i,k]` at
n = 512, d = h = 1024 is 4 GB where the planned path holds 4 MB.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from shapecheck.check.program import CheckedProgram, Size
from shapecheck.numeric.verdicts import Check, Mode, Settings, Verdict
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Derivation, Deriver

FULL_MAX_INPUTS = 400
FULL_MAX_ENTRIES = 2**20
# Perturbed copies of each input finite differences evaluate: x ± h, x ± 2h,
# x ± 4h (`differences`), besides one unperturbed copy per evaluation.
POINTS = 6
# Multiply-adds of all the forward passes a full check may spend (POINTS per
# input): 10⁷ per perturbed copy, as when there were 4.
FULL_MAX_WORK = POINTS * 10**7


def count(indices: tuple[t.Idx, ...]) -> int:
    """Entries of an array over these indices."""
    return math.prod(int(i.size.value or 0) for i in indices)


# Below this many entries the outer product of a product's factors is the
# bound used: measuring the planned path costs more than evaluating it.
PLAN_FROM = 2**16

# Entries of the largest array a product's evaluation makes, given the
# product and its factors' shapes.
ProductMeasure = Callable[[t.Product, Sequence[tuple[int, ...]]], int]


def outer_product(product: t.Product, shapes: Sequence[tuple[int, ...]]) -> int:
    """The bound without a plan: the outer product of all factors."""
    sizes: dict[str, int] = {}
    for factor, shape in zip(product.factors, shapes, strict=True):
        sizes.update(zip((i.name for i in factor.free), shape, strict=True))
    return math.prod(sizes.values())


def largest_node(term: t.Term, product: ProductMeasure = outer_product) -> int:
    """Entries of the largest array evaluating `term` makes (a memory estimate)."""
    return _scaled_largest(term, lambda size: int(size.value or 0), product)


def _scaled_largest(
    term: t.Term, measure: Callable[[Size], int], product: ProductMeasure = outer_product
) -> int:
    """The largest array evaluating `term` makes, with sizes given by `measure`:
    a node's own result, or for a product what `product` says it holds."""
    largest = 1
    stack = [term]
    seen: set[int] = set()  # terms share subterms: walk each object once
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        largest = max(largest, _scaled_largest_node(node, measure, product))
        stack.extend(t.children(node))
    return largest


def _scaled_largest_node(
    node: t.Term, measure: Callable[[Size], int], product: ProductMeasure
) -> int:
    """The largest array evaluating this node itself makes (not its children)."""
    entries = math.prod(measure(i.size) for i in node.free)
    if isinstance(node, t.Product):
        shapes = [tuple(measure(i.size) for i in f.free) for f in node.factors]
        outer = outer_product(node, shapes)
        # A small outer product is itself a fine bound; only large ones are planned.
        entries = max(entries, outer if outer <= PLAN_FROM else product(node, shapes))
    return entries


def forward_work(terms: Iterable[t.Term]) -> int:
    """Multiply-adds of one forward pass over these right-hand sides (einsum's naive count)."""
    work = 0
    for term in terms:
        stack = [term]
        while stack:
            node = stack.pop()
            if isinstance(node, t.Product):
                indices = {i.name: i for f in node.factors for i in f.free}
                work += count(tuple(indices.values()))
            else:
                work += count(node.free)
            stack.extend(t.children(node))
    return work


def derived_bytes(derivation: Derivation, product: ProductMeasure = outer_product) -> int:
    """Memory to evaluate the derivative in full: the adjoints, which are all kept,
    and the largest array along the way (temporaries included)."""
    largest = max(
        [largest_node(derivation.formula, product), count(derivation.indices)]
        + [largest_node(a.formula, product) for a in derivation.adjoints]
    )
    return 8 * (_adjoint_entries(derivation) + 3 * largest)


def directions_bytes(
    derivation: Derivation, contracted: t.Term, product: ProductMeasure = outer_product
) -> int:
    """Memory to evaluate the contracted derivative vᵀ J u and the adjoints."""
    adjoints = [largest_node(a.formula, product) for a in derivation.adjoints]
    return 8 * (
        _adjoint_entries(derivation) + 3 * max([largest_node(contracted, product), *adjoints])
    )


def _adjoint_entries(derivation: Derivation) -> int:
    return sum(count(a.indices) for a in derivation.adjoints)


def rerun_bytes(
    wrt: str,
    wrt_indices: tuple[t.Idx, ...],
    chain: Sequence[tuple[str, tuple[t.Idx, ...], t.Term]],
    product: ProductMeasure = outer_product,
) -> tuple[int, int]:
    """Memory of a batched rerun of the definitions in `chain` (name, left-hand
    indices, right-hand side): bytes per perturbed input, and bytes once per
    evaluation. Per input: the input and every recomputed value, which are
    kept, plus 3× the largest step that depends on the input; subterms that do
    not are evaluated once for the whole stack (see `batched`)."""
    batched = {wrt}
    kept = count(wrt_indices)
    steps = [1]
    once = [1]
    arrays = _ArrayNames()
    for name, lhs, rhs in chain:
        if not arrays.of(rhs) & batched:
            once.append(largest_node(rhs, product))
            continue
        batched.add(name)
        kept += count(lhs)
        steps.append(_largest_batched(rhs, batched, product, arrays))
        once.append(_largest_unbatched(rhs, batched, product, arrays))
    return 8 * (kept + 3 * max(steps)), 8 * 3 * max(once)


class _ArrayNames:
    """The arrays each term mentions, remembered by object: a recurrence's
    definitions are walked once, not once per earlier definition."""

    def __init__(self) -> None:
        # By identity, with the term kept so that its id is never reused.
        self.known: dict[int, tuple[t.Term, frozenset[str]]] = {}

    def of(self, term: t.Term) -> frozenset[str]:
        cached = self.known.get(id(term))
        names = None if cached is None else cached[1]
        if names is None:
            own: frozenset[str] = frozenset()
            if isinstance(term, t.Tensor):
                own = frozenset((term.name,))
            elif isinstance(term, t.Loss | t.Matrix):
                own = frozenset((term.array,))
            names = own.union(*(self.of(c) for c in t.children(term)))
            self.known[id(term)] = (term, names)
        return names


def _largest_batched(
    term: t.Term, batched: set[str], product: ProductMeasure, arrays: _ArrayNames
) -> int:
    """Entries of the largest array per perturbed input among the nodes that depend
    on the input (what `batched` evaluates with the batch axis)."""
    largest = 1
    stack = [term]
    while stack:
        node = stack.pop()
        if arrays.of(node) & batched:
            largest = max(largest, _node_entries(node, product))
            stack.extend(t.children(node))
    return largest


def _largest_unbatched(
    term: t.Term, batched: set[str], product: ProductMeasure, arrays: _ArrayNames
) -> int:
    """Entries of the largest subterm that does not depend on the input (evaluated once)."""
    largest = 1
    stack = [term]
    while stack:
        node = stack.pop()
        if arrays.of(node) & batched:
            stack.extend(t.children(node))
        else:
            largest = max(largest, largest_node(node, product))
    return largest


def _node_entries(node: t.Term, product: ProductMeasure) -> int:
    return _scaled_largest_node(node, lambda size: int(size.value or 0), product)


def kink_search_chunk(
    derivation: Derivation,
    steps: Sequence[tuple[str, tuple[t.Idx, ...], t.Term]],
    forward_bytes: int,
    budget_bytes: int,
    product: ProductMeasure = outer_product,
) -> int:
    """Perturbed inputs per rerun when finding which entries of a claim sit at a
    kink (`kinks`): what the budget leaves beside the forward pass and what a
    claim check holds (the Jacobian, 6 copies beside it). MemoryError when not
    even one entry's POINTS + 1 points fit (a fuzzed claim's 55-row rerun
    once took 1.6 GB under the 256 MB budget)."""
    per_input, once = rerun_bytes(derivation.wrt, derivation.wrt_indices, steps, product)
    held = once + derived_bytes(derivation, product) + 8 * 6 * count(derivation.indices)
    chunk = (budget_bytes - forward_bytes - held) // max(per_input, 1)
    if chunk < POINTS + 1:
        raise MemoryError("the kink search does not fit the memory budget")
    return int(chunk)


def full_fits(
    derivation: Derivation,
    chain: Iterable[t.Term],
    forward_bytes: int,
    budget_bytes: int,
    per_input: int = 0,
    derived: int | None = None,
) -> bool:
    """Whether every Jacobian entry may be checked: few inputs, few entries, little
    work for the POINTS forward passes per input, and the Jacobian, the finite
    differences' columns and a rerun of POINTS perturbed inputs and the centre
    (`per_input` bytes each) within the budget. `derived` is
    `derived_bytes(derivation)` when known."""
    inputs = count(derivation.wrt_indices)
    if derived is None:
        derived = derived_bytes(derivation)
    entries = count(derivation.indices)
    return (
        inputs <= FULL_MAX_INPUTS
        and entries <= FULL_MAX_ENTRIES
        and POINTS * inputs * forward_work(chain) <= FULL_MAX_WORK
        and forward_bytes + derived + 8 * entries * 3 + (POINTS + 1) * per_input <= budget_bytes
    )


def forward_entries(program: CheckedProgram, measure: Callable[[Size], int] | None = None) -> int:
    """Entries of every array of a forward pass (declared, defined, upstream)."""
    sized = measure or (lambda size: int(size.value or 1))
    return sum(math.prod(sized(s) for s in a.shape) for a in program.arrays) * 2


def forward_pass_bytes(
    program: CheckedProgram, deriver: Deriver, product: ProductMeasure = outer_product
) -> int:
    """Memory of a forward pass: every array it holds, and the largest array
    evaluating a definition makes on the way (a definition that writes a
    derivative out can contract a chain of 20 matrices through 15 indices at
    once: 8 GiB for an array of 4 entries, a MemoryError)."""
    formulas = (deriver.lowered[name][1] for name in deriver.graph.order)
    largest = max((largest_node(formula, product) for formula in formulas), default=1)
    return 8 * (forward_entries(program) + 3 * largest)


def too_large(
    program: CheckedProgram,
    derivation: Derivation,
    settings: Settings,
    evaluated: t.Term | None = None,
) -> Check:
    """The verdict for a derivative that does not fit the budget, with sizes that would."""
    suggestion = fitting_sizes(program, derivation, settings.budget_bytes, evaluated)
    words = ", ".join(f"--size {name}={value}" for name, value in suggestion)
    return Check(
        Verdict.NOT_VERIFIED,
        Mode.NONE,
        reason=f"evaluating it would need more than the memory budget "
        f"({settings.budget_bytes / 2**20:.0f} MB)",
        hints=(f"check it at a smaller size: {words}",) if suggestion else (),
        suggested_sizes=suggestion,
    )


def fitting_sizes(
    program: CheckedProgram,
    derivation: Derivation,
    budget_bytes: int,
    evaluated: t.Term | None = None,
) -> tuple[tuple[str, int], ...]:
    """Halve the largest dims until the forward pass and the derivative fit."""
    sizes = {d.name: d.value for d in program.dims if d.value}
    if not sizes:
        return ()
    changed: dict[str, int] = {}

    def measure(size: Size) -> int:
        if size.name is not None and size.name in changed:
            return changed[size.name]
        return int(size.value or 1)

    def estimate() -> int:
        terms = [evaluated or derivation.formula] + [a.formula for a in derivation.adjoints]
        derived = max(_scaled_largest(term, measure) for term in terms)
        adjoints = max(
            [math.prod(measure(i.size) for i in a.indices) for a in derivation.adjoints],
            default=1,
        )
        return 8 * (forward_entries(program, measure) + 3 * max(derived, adjoints))

    for _ in range(200):
        if estimate() <= budget_bytes:
            break
        name = max(sizes, key=lambda n: changed.get(n, sizes[n] or 1))
        current = changed.get(name, sizes[name] or 1)
        if current <= 2:
            break
        changed[name] = max(2, current // 2)
    return tuple(sorted(changed.items()))
