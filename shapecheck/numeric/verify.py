"""Numeric verification: every derivative and claim against finite differences.

How a derivative dA/dB is checked (documented in docs/verification.md):

- **Full** when the Jacobian is small (B has at most FULL_MAX_INPUTS entries and
  the Jacobian at most FULL_MAX_ENTRIES): every entry, by central differences
  of the file's own definitions, with a step scaled to each value,
  h = ε^(1/3) · max(1, |x|).
- **Directions** otherwise: DIRECTIONS random pairs (u, v) compare vᵀ J u. The
  derived side contracts the formula with u and v symbolically before
  evaluating (deltas are eaten), so the Jacobian is never built.
- **Tolerance.** An entry passes when |derived - fd| ≤ atol + rtol · max(|derived|,
  |fd|) + 4 |fd(h) - fd(2h)|. The last term is the finite difference's own
  uncertainty, measured with a second step: it grows with rounding noise in
  large sums (where fixed tolerances fail on correct gradients) and stays tiny
  next to a real mistake, which is off by O(1).
- **Inconclusive, never a pass**, when a NaN or an Inf appears on either side.
- **Memory budget.** Nothing larger than the budget is evaluated: a check that
  would exceed it falls back to directions, and a derivative whose evaluation
  alone would exceed it is not verified, with a `--size` that would fit.
"""

from __future__ import annotations

import itertools
import math
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from shapecheck.check.program import CheckedProgram, Size
from shapecheck.numeric.evaluate import Evaluator, align
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Derivation, Deriver
from shapecheck.symbolic.lower import lower_claim
from shapecheck.symbolic.simplify import simplify

Array = Any

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-8
DEFAULT_BUDGET_BYTES = 256 * 2**20
FULL_MAX_INPUTS = 400
FULL_MAX_ENTRIES = 2**20
# Multiply-adds of all the forward passes a full check may spend (4 per input).
FULL_MAX_WORK = 4 * 10**7
DIRECTIONS = 2
# An argument of relu or abs this close to 0 may be straddled by a step.
KINK_REACH = 1e-4
_EPS = float(np.finfo(np.float64).eps)
_STEP = _EPS ** (1 / 3)

OK, FAILED, INCONCLUSIVE, NOT_VERIFIED = "ok", "failed", "inconclusive", "not verified"


@dataclass(frozen=True)
class Settings:
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    budget_bytes: int = DEFAULT_BUDGET_BYTES
    seed: int = 0


@dataclass(frozen=True)
class Worst:
    """The worst comparison: an entry (1-based, signature order) or a direction."""

    index: tuple[int, ...] | None
    direction: int | None
    derived: float
    reference: float


@dataclass(frozen=True)
class Check:
    verdict: str
    mode: str  # "full", "directions" or "none"
    compared: int = 0
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    worst: Worst | None = None
    reason: str | None = None
    hints: tuple[str, ...] = ()
    suggested_sizes: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class ClaimCheck:
    verdict: str  # ok, wrong, inconclusive
    check: Check
    diagnosis: str | None = None


@dataclass
class _Comparison:
    """Running maxima over compared pairs."""

    settings: Settings
    compared: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    worst_excess: float = -math.inf
    worst: Worst | None = None
    failed: bool = False
    nonfinite: bool = False
    _positions: list[Any] = field(default_factory=list)

    def add(
        self,
        derived: Array,
        reference: Array,
        uncertainty: Array,
        where: Callable[[int], Worst],
    ) -> None:
        reference = np.asarray(reference, dtype=np.float64)
        uncertainty = np.broadcast_to(np.asarray(uncertainty, dtype=np.float64), reference.shape)
        uncertainty = uncertainty.ravel()
        derived = np.asarray(derived, dtype=np.float64).ravel()
        reference = reference.ravel()
        if not (np.all(np.isfinite(derived)) and np.all(np.isfinite(reference))):
            self.nonfinite = True
            return
        self.compared += derived.size
        error = np.abs(derived - reference)
        scale = np.maximum(np.abs(derived), np.abs(reference))
        allowed = self.settings.atol + self.settings.rtol * scale + 4.0 * np.abs(uncertainty)
        relative = error / np.maximum(scale, np.finfo(np.float64).tiny)
        if error.size:
            self.max_abs = max(self.max_abs, float(error.max()))
            self.max_rel = max(self.max_rel, float(np.where(scale > 0, relative, 0.0).max()))
            excess = error - allowed
            position = int(np.argmax(excess))
            if excess[position] > self.worst_excess:
                self.worst_excess = float(excess[position])
                self.worst = where(position)
            if np.any(excess > 0):
                self.failed = True

    def result(self, mode: str) -> Check:
        if self.nonfinite:
            return Check(INCONCLUSIVE, mode, self.compared, reason="NaN or Inf in the comparison")
        return Check(
            FAILED if self.failed else OK,
            mode,
            self.compared,
            self.max_abs,
            self.max_rel,
            self.worst,
        )


def _count(indices: tuple[t.Idx, ...]) -> int:
    return math.prod(int(i.size.value or 0) for i in indices)


def _largest_node(term: t.Term) -> int:
    """Entries of the largest array evaluating `term` makes (a memory estimate)."""
    return _scaled_largest(term, lambda size: int(size.value or 0))


class Verifier:
    """Values, forward passes and checks for one checked program."""

    def __init__(
        self,
        program: CheckedProgram,
        deriver: Deriver,
        values: Mapping[str, Array],
        settings: Settings,
    ) -> None:
        self.program = program
        self.deriver = deriver
        self.settings = settings
        self.leaves = dict(values)
        self.rng = np.random.default_rng([settings.seed, 0x5EED])
        self.forward = self._forward(self.leaves, [d.name for d in program.definitions])
        self.derived_values: dict[str, Array] = {}

    # ---- forward passes
    def _forward(self, leaves: Mapping[str, Array], names: list[str]) -> dict[str, Array]:
        values: dict[str, Array] = dict(leaves)
        evaluator = Evaluator(values)
        for name in names:
            lhs, rhs = self.deriver.lowered[name]
            values[name] = align(evaluator.value(rhs), tuple(i.name for i in rhs.free), lhs)
        return values

    def _recompute(self, wrt: str, value: Array, chain: list[str]) -> Mapping[str, Array]:
        # Only what changes is new; the rest is read through from the forward pass.
        changed: dict[str, Array] = {wrt: value}
        values = ChainMap(changed, self.forward)
        evaluator = Evaluator(values)
        for name in chain:
            lhs, rhs = self.deriver.lowered[name]
            changed[name] = align(evaluator.value(rhs), tuple(i.name for i in rhs.free), lhs)
        return values

    def forward_bytes(self) -> int:
        return 8 * sum(int(np.size(v)) for v in self.forward.values())

    # ---- the derived value
    def _adjoint_values(self, derivation: Derivation) -> dict[str, Array]:
        values: dict[str, Array] = dict(self.forward)
        evaluator = Evaluator(values)
        for adjoint in derivation.adjoints:
            values[adjoint.label] = align(
                evaluator.value(adjoint.formula),
                tuple(i.name for i in adjoint.formula.free),
                adjoint.indices,
            )
        return values

    def derived_value(self, derivation: Derivation) -> Array:
        """The derived Jacobian, numerator order (A's indices, then B's)."""
        cached = self.derived_values.get(derivation.label)
        if cached is None:
            values = self._adjoint_values(derivation)
            cached = align(
                Evaluator(values).value(derivation.formula),
                tuple(i.name for i in derivation.formula.free),
                derivation.indices,
            )
            self.derived_values[derivation.label] = cached
        return cached

    def signature_value(self, derivation: Derivation) -> Array:
        """The derived Jacobian in the file's layout (signature order)."""
        return np.transpose(self.derived_value(derivation), _signature_permutation(derivation))

    def _derived_bytes(self, derivation: Derivation) -> int:
        """Memory to evaluate the derivative in full (adjoints and the Jacobian)."""
        largest = max(
            [_largest_node(derivation.formula), _count(derivation.indices)]
            + [_largest_node(a.formula) for a in derivation.adjoints]
            + [_count(a.indices) for a in derivation.adjoints]
        )
        return 8 * largest * 3

    # ---- the check
    def check(self, derivation: Derivation) -> Check:
        inputs = _count(derivation.wrt_indices)
        entries = _count(derivation.indices)
        budget = self.settings.budget_bytes
        forward = self.forward_bytes()
        chain = self.deriver.on_path(derivation.of, derivation.wrt)
        full = (
            inputs <= FULL_MAX_INPUTS
            and entries <= FULL_MAX_ENTRIES
            and 4 * inputs * self._forward_work(chain) <= FULL_MAX_WORK
            and forward + self._derived_bytes(derivation) + 8 * entries * 3 <= budget
        )
        contracted = None if full else self._contracted(derivation)
        if (
            contracted is not None
            and forward + self._directions_bytes(derivation, contracted) > budget
        ):
            return self._too_large(derivation, contracted)
        try:
            with np.errstate(all="ignore"):
                if contracted is None:
                    result = self._full(derivation, chain)
                else:
                    result = self._directions(derivation, chain, contracted)
        except MemoryError:
            return self._too_large(derivation)
        if result.verdict == INCONCLUSIVE:
            return Check(
                INCONCLUSIVE,
                result.mode,
                result.compared,
                reason=result.reason,
                hints=self._nonfinite_hints(),
            )
        if result.verdict == FAILED:
            kinks = self._kinks([*chain, derivation.of])
            if kinks:
                # No derivative exists there: disagreement proves nothing.
                return replace(
                    result,
                    verdict=INCONCLUSIVE,
                    reason="a function is evaluated at a kink, where it has no derivative",
                    hints=kinks,
                )
        return result

    def _nodes_with_values(
        self, names: Iterable[str], kinds: tuple[type, ...]
    ) -> Iterator[tuple[str, t.Term, Array]]:
        """Each node of those kinds in those definitions (in source order), with
        the forward value of its argument (a function's) or base (a power's)."""
        evaluator = Evaluator(self.forward)
        for name in dict.fromkeys(names):
            if name not in self.deriver.lowered:
                continue
            stack = [self.deriver.lowered[name][1]]
            while stack:
                node = stack.pop()
                if isinstance(node, kinds):
                    inner = node.arg if isinstance(node, t.Func) else node.base  # type: ignore[union-attr]
                    with np.errstate(all="ignore"):
                        yield name, node, np.asarray(evaluator.value(inner))
                stack.extend(reversed(t.children(node)))

    def _kinks(self, names: list[str]) -> tuple[str, ...]:
        """relu or abs evaluated within finite-difference reach of 0."""
        found = [
            f"{node.name} of a value at 0 in `{name}`: check at another point "
            "(--seed, or other literal values)"
            for name, node, argument in self._nodes_with_values(names, (t.Func,))
            if isinstance(node, t.Func)
            and node.name in ("relu", "abs", "step", "sign")
            and np.any(np.abs(argument) <= KINK_REACH)
        ]
        return tuple(dict.fromkeys(found))

    def _forward_work(self, chain: list[str]) -> int:
        """Multiply-adds of one forward pass over `chain` (einsum's naive count)."""
        work = 0
        for name in chain:
            stack = [self.deriver.lowered[name][1]]
            while stack:
                node = stack.pop()
                if isinstance(node, t.Product):
                    indices = {i.name: i for f in node.factors for i in f.free}
                    work += _count(tuple(indices.values()))
                else:
                    work += _count(node.free)
                stack.extend(t.children(node))
        return work

    def _output(self, values: Mapping[str, Array], of: str) -> Array:
        return np.asarray(values[of], dtype=np.float64)

    def _full(self, derivation: Derivation, chain: list[str]) -> Check:
        derived = self.derived_value(derivation)
        base = np.asarray(self.forward[derivation.wrt], dtype=np.float64)
        out_rank = len(derivation.of_indices)
        comparison = _Comparison(self.settings)
        signature_order = _signature_permutation(derivation)
        for position in np.ndindex(base.shape) if base.shape else [()]:
            step = _STEP * max(1.0, abs(float(base[position])))
            columns = []
            for h in (step, 2 * step):
                plus, minus = base.copy(), base.copy()
                plus[position] += h
                minus[position] -= h
                up = self._output(self._recompute(derivation.wrt, plus, chain), derivation.of)
                down = self._output(self._recompute(derivation.wrt, minus, chain), derivation.of)
                columns.append((up - down) / (2 * h))
            fd, fd_wide = columns
            mine = derived[(slice(None),) * out_rank + tuple(position)]

            def where(
                flat: int,
                position: tuple[int, ...] = position,
                mine: Array = mine,
                fd: Array = fd,
            ) -> Worst:
                out_index = np.unravel_index(flat, np.shape(fd)) if np.shape(fd) else ()
                numerator = tuple(int(k) for k in out_index) + tuple(position)
                ordered = tuple(numerator[k] + 1 for k in signature_order)
                return Worst(
                    ordered,
                    None,
                    float(np.ravel(mine)[flat]),
                    float(np.ravel(fd)[flat]),
                )

            comparison.add(mine, fd, fd - fd_wide, where)
        return comparison.result("full")

    def _contracted(self, derivation: Derivation) -> t.Term:
        """vᵀ (dA/dB) u as a term: Σ v[a] F[a,b] u[b], simplified (deltas eaten),
        so that the Jacobian itself is never built."""
        u_indices = tuple(t.Idx(f"#u{k}", i.size) for k, i in enumerate(derivation.wrt_indices))
        v_indices = tuple(t.Idx(f"#v{k}", i.size) for k, i in enumerate(derivation.of_indices))
        mapping: dict[str, t.Index] = {
            i.name: j for i, j in zip(derivation.indices, v_indices + u_indices, strict=True)
        }
        formula = t.rename(derivation.formula, mapping)
        return simplify(
            t.Product(
                (t.Tensor("#v", v_indices), formula, t.Tensor("#u", u_indices)),
                v_indices + u_indices,
            )
        )

    def _directions_bytes(self, derivation: Derivation, contracted: t.Term) -> int:
        adjoints = [max(_largest_node(a.formula), _count(a.indices)) for a in derivation.adjoints]
        return 8 * 3 * max([_largest_node(contracted), *adjoints])

    def _directions(self, derivation: Derivation, chain: list[str], contracted: t.Term) -> Check:
        base = np.asarray(self.forward[derivation.wrt], dtype=np.float64)
        out_shape = tuple(int(i.size.value or 0) for i in derivation.of_indices)
        comparison = _Comparison(self.settings)
        values = self._adjoint_values(derivation)
        scale = max(1.0, float(np.max(np.abs(base))) if base.size else 1.0)
        for direction in range(DIRECTIONS):
            u = self.rng.standard_normal(base.shape)
            u /= max(float(np.linalg.norm(u)), 1e-300)
            v = self.rng.standard_normal(out_shape)
            derived = Evaluator({**values, "#u": u, "#v": v}).value(contracted)
            estimates = []
            for h in (_STEP * scale, 2 * _STEP * scale):
                up = self._output(
                    self._recompute(derivation.wrt, base + h * u, chain), derivation.of
                )
                down = self._output(
                    self._recompute(derivation.wrt, base - h * u, chain), derivation.of
                )
                estimates.append(float(np.sum(v * (up - down))) / (2 * h))

            def where(
                _: int,
                direction: int = direction,
                derived: Array = derived,
                estimate: float = estimates[0],
            ) -> Worst:
                return Worst(None, direction + 1, float(derived), estimate)

            comparison.add(derived, estimates[0], estimates[0] - estimates[1], where)
        return comparison.result("directions")

    def _too_large(self, derivation: Derivation, evaluated: t.Term | None = None) -> Check:
        return too_large(self.program, derivation, self.settings, evaluated)

    def _nonfinite_hints(self) -> tuple[str, ...]:
        """Where a NaN or Inf came from: log or sqrt of a non-positive value."""
        hints: list[str] = []
        positive = {a.name for a in self.program.arrays if a.positive}
        for name, node, value in self._nodes_with_values(self.deriver.order, (t.Func, t.Pow)):
            if isinstance(node, t.Func) and node.name in ("log", "sqrt"):
                if np.any(value <= 0 if node.name == "log" else value < 0):
                    arrays = sorted(
                        {n.name for n in _tensors(node.arg)} - set(self.deriver.order) - positive
                    )
                    target = (
                        f"declare {', '.join(arrays)} positive"
                        if arrays
                        else "keep its argument positive"
                    )
                    hints.append(f"{node.name} of a non-positive value in `{name}`: {target}")
            elif isinstance(node, t.Pow) and np.any(value == 0):
                hints.append(f"division by zero (or 0 to a negative power) in `{name}`")
        return tuple(dict.fromkeys(hints)) or ("the forward values overflow or divide by zero",)

    # ---- claims
    def check_claim(self, derivation: Derivation, claim: Any, truth_ok: bool) -> ClaimCheck:
        """A claim's value against the true derivative (the derived one, which is
        itself checked against finite differences)."""
        entries = _count(derivation.indices)
        if (
            self.forward_bytes() + 8 * entries * 6 + self._derived_bytes(derivation)
            > self.settings.budget_bytes
        ):
            too_large = self._too_large(derivation)
            return ClaimCheck(INCONCLUSIVE, too_large, "too large to evaluate")
        if not truth_ok:
            return ClaimCheck(
                INCONCLUSIVE,
                Check(INCONCLUSIVE, "full", reason="the true derivative could not be verified"),
            )
        with np.errstate(all="ignore"):
            truth = self.signature_value(derivation)
            claimed = self._claim_value(claim, derivation)
        comparison = _Comparison(self.settings)

        def where(flat: int) -> Worst:
            index = np.unravel_index(flat, truth.shape) if truth.shape else ()
            return Worst(
                tuple(int(k) + 1 for k in index),
                None,
                float(np.ravel(claimed)[flat]),
                float(np.ravel(truth)[flat]),
            )

        comparison.add(claimed, truth, 0.0, where)
        check = comparison.result("full")
        if check.verdict == INCONCLUSIVE:
            return ClaimCheck(
                INCONCLUSIVE,
                Check(INCONCLUSIVE, "full", reason=check.reason, hints=self._nonfinite_hints()),
            )
        if check.verdict == OK:
            return ClaimCheck(OK, check)
        return ClaimCheck("wrong", check, diagnose(claimed, truth, claim.indices, self.program))

    def _claim_value(self, claim: Any, derivation: Derivation) -> Array:
        lhs, rhs = lower_claim(claim)
        values: dict[str, Array] = dict(self.forward)
        stack = [rhs]
        while stack:
            node = stack.pop()
            if isinstance(node, t.Tensor) and node.kind == t.REFERENCE and node.name not in values:
                of, wrt = node.name[1:].split("/d", 1)
                referenced = self.deriver.derive(of, wrt)
                values[node.name] = self.signature_value(referenced)
            stack.extend(t.children(node))
        value = Evaluator(values).value(rhs)
        return align(value, tuple(i.name for i in rhs.free), lhs)


def forward_entries(program: CheckedProgram, count: Callable[[Size], int] | None = None) -> int:
    """Entries of every array of a forward pass (declared, defined, upstream)."""
    measure = count or (lambda size: int(size.value or 1))
    return sum(math.prod(measure(s) for s in a.shape) for a in program.arrays) * 2


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
        NOT_VERIFIED,
        "none",
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

    def count(size: Size) -> int:
        if size.name is not None and size.name in changed:
            return changed[size.name]
        return int(size.value or 1)

    def estimate() -> int:
        terms = [evaluated or derivation.formula] + [a.formula for a in derivation.adjoints]
        derived = max(_scaled_largest(term, count) for term in terms)
        adjoints = max(
            [math.prod(count(i.size) for i in a.indices) for a in derivation.adjoints],
            default=1,
        )
        return 8 * (forward_entries(program, count) + 3 * max(derived, adjoints))

    for _ in range(200):
        if estimate() <= budget_bytes:
            break
        name = max(sizes, key=lambda n: changed.get(n, sizes[n] or 1))
        current = changed.get(name, sizes[name] or 1)
        if current <= 2:
            break
        changed[name] = max(2, current // 2)
    return tuple(sorted(changed.items()))


def _scaled_largest(term: t.Term, count: Callable[[Size], int]) -> int:
    """The largest array evaluating `term` makes, with sizes given by `count`:
    a node's own result, or for a product the outer product einsum may hold."""
    largest = 1
    stack = [term]
    while stack:
        node = stack.pop()
        indices = node.free
        if isinstance(node, t.Product):
            indices = tuple({i.name: i for f in node.factors for i in f.free}.values())
        largest = max(largest, math.prod(count(i.size) for i in indices))
        stack.extend(t.children(node))
    return largest


def _tensors(term: t.Term) -> list[t.Tensor]:
    found = []
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor):
            found.append(node)
        stack.extend(t.children(node))
    return found


def _signature_permutation(derivation: Derivation) -> tuple[int, ...]:
    """Axis order taking a numerator-order array to signature (layout) order."""
    names = [i.name for i in derivation.indices]
    return tuple(names.index(i.name) for i in derivation.signature)


# ---------------------------------------------------------------------------
# How a wrong claim is wrong


def _close(a: Array, b: Array) -> bool:
    scale = max(float(np.max(np.abs(b))) if np.size(b) else 0.0, 1e-300)
    return bool(np.all(np.abs(a - b) <= 1e-6 * scale + 1e-12))


def diagnose(
    claimed: Array, truth: Array, indices: tuple[str, ...], program: CheckedProgram
) -> str | None:
    """Say how a claim differs from the truth, where one of these explains it."""
    if truth.ndim >= 2:
        for order in itertools.permutations(range(truth.ndim)):
            if order == tuple(range(truth.ndim)):
                continue
            if (
                all(claimed.shape[k] == truth.shape[k] for k in range(truth.ndim))
                and np.shape(np.transpose(claimed, order)) == truth.shape
                and _close(np.transpose(claimed, order), truth)
            ):
                right = [indices[k] for k in np.argsort(order)]
                return (
                    "it is the transpose of the true derivative: its indices are in the wrong "
                    f"order (the claim's [{','.join(indices)}] should be read as "
                    f"[{','.join(right)}])"
                )
    norm = float(np.sum(truth * truth))
    if norm > 0:
        factor = float(np.sum(claimed * truth)) / norm
        if abs(factor - 1) > 1e-6 and _close(claimed, factor * truth):
            if abs(factor + 1) < 1e-6:
                return "it has the wrong sign: it is minus the true derivative"
            sizes = {d.value: d.name for d in program.dims if d.value}
            for size, name in sizes.items():
                if size > 1 and abs(factor * size - 1) < 1e-6:
                    return (
                        f"it is the true derivative divided by {size} (= {name}): "
                        f"is a sum over an index of size {name} missing?"
                    )
                if size > 1 and abs(factor - size) < 1e-6:
                    return (
                        f"it is the true derivative times {size} (= {name}): "
                        f"is there a sum over an index of size {name} too many?"
                    )
            return f"it is the true derivative times a constant, {factor:.6g}"
    for axis in range(truth.ndim):
        if _close(claimed.sum(axis=axis), truth.sum(axis=axis)) and not _close(claimed, truth):
            return (
                f"it agrees with the true derivative only once summed over `{indices[axis]}`: "
                f"right only up to a broadcast over `{indices[axis]}`"
            )
    return None
