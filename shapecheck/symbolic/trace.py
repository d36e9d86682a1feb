"""Recording a derivation as it is worked out, for `shapecheck explain`.

The derivation engine (`derive.py`: reverse mode and the local rules) and the
simplifier (`simplify.py`) take an optional `Trace`. Given one, they record
each thing they do as a frozen `Step`: a definition as lowered, the chain rule
that defines an adjoint, one local derivative rule, the local derivatives put
into the chain rule, one rewrite rule applied to one subterm, and the finished
line. The steps are what the engine did, in the order it did them, not a
second derivation made for display. Without a trace (every run but `explain`)
the only cost is a `None` check at each of those places.

A trace keeps at most `limit` steps and counts the rest, so that explaining a
long recurrence stays bounded; the finished derivative is always kept, so an
explanation always ends at the formula `derive` prints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shapecheck.symbolic import terms as t

DEFAULT_LIMIT = 500

# Step kinds
DEFINITION, CHAIN, LOCAL, SUBSTITUTE, REWRITE, RESULT = (
    "definition",
    "chain",
    "local",
    "substitute",
    "rewrite",
    "result",
)
# Tensor kind of an unevaluated local derivative ∂C/∂Y in a chain step; its
# indices are C's, then Y's. Such tensors live only in traces.
PARTIAL = "partial"

# What each rule is called in an explanation. Keys are the names of the
# simplifier's rule functions and of the local rules in derive.py.
RULE_WORDS: dict[str, str] = {
    # reverse mode
    "definition": "definition",
    "chain_rule": "chain rule",
    "substitute": "local derivatives put in",
    "adjoint": "adjoint found",
    "derivative": "derivative found",
    "no_path": "no definition leads from one to the other: zero",
    # local rules
    "delta": "∂X/∂X: one Kronecker delta per index",
    "scalar_self": "∂x/∂x = 1",
    "sum_rule": "sum rule",
    "product_rule": "product rule",
    "product_rule_grouped": "product rule (equal factors grouped)",
    "function": "chain rule through an element-wise function",
    "opaque_function": "chain rule through an `fn` function: one more prime",
    "power_rule": "power rule",
    "softmax": "softmax: s (e' - Σ s e')",
    "logsumexp": "logsumexp: Σ softmax e'",
    "norm": "norm: Σ e e' / norm",
    "max": "max[j]: the derivative at the first position that attains it (argmax)",
    "min": "min[j]: the derivative at the first position that attains it (argmin)",
    "argmax": "argmax[j] is an integer, flat wherever it does not jump: zero",
    "argmin": "argmin[j] is an integer, flat wherever it does not jump: zero",
    "loss": "loss: the opaque upstream gradient",
    "det": "det: det(X) inv(X)[q,p] (Jacobi's formula)",
    "inv": "inv: -inv(X)[i,p] inv(X)[q,j]",
    "trace": "trace: δ[p,q]",
    "constant": "constant: zero",
    "comparison": "a comparison is flat wherever it does not jump: zero",
    "extremum": "max/min: the derivative of the argument it selects (a tie goes to the first)",
    # rewrite rules (rules.py)
    "flatten_add": "nested sums flattened",
    "drop_zero_terms": "zero terms dropped",
    "unwrap_add": "a sum of one term is the term",
    "lift_broadcast": "broadcast lifted out of a function",
    "unwrap_broadcast": "broadcast factor unwrapped",
    "distribute_constant": "constant distributed over a sum",
    "flatten_product": "nested products flattened",
    "zero_product": "a zero factor makes the product zero",
    "eat_deltas": "a delta eats a summed index",
    "unused_sum": "a sum over an unused index is its size",
    "fold_constants": "constants folded",
    "fold_piecewise": "a comparison, max or min of numbers folded",
    "merge_powers": "equal bases: powers merged",
    "single_factor": "a product of one factor is the factor",
    "fold_functions": "function of a constant evaluated",
    "merge_like_terms": "collect like terms",
    "sort_factors": "factors put in canonical order",
    "distribute": "product distributed over a sum",
    "distribute_over_delta": "a sum split so that a delta in it meets its sum",
    "negate_difference": "a minus sign turns a difference round",
    "factor_common": "a common factor pulled out",
    "cancel_through_delta": "a factor read where a delta sets its index, to cancel",
    "distribute_to_cancel": "a factor taken into a sum where it cancels",
    "positive_first": "a sum starts with a positive term",
    "pull_common_scale": "a coefficient every term has taken out",
    # results in the file's names (fold.py)
    "fold_names": "in the file's names (each definition's right-hand side written as its array)",
}

# Rules that only move a broadcast wrapper (an Add of one term), which the
# notation does not show: their steps would read `x → x`, so they are not kept.
SILENT = frozenset({"unwrap_add", "unwrap_broadcast", "lift_broadcast"})


@dataclass(frozen=True)
class Step:
    """One thing the engine did.

    `adjoint` labels the line it belongs to (`dL/dW[j,k]`, or `Y[i,k]` for a
    definition). `before` → `after` is an identity for SUBSTITUTE and REWRITE
    steps; a LOCAL step's `after` is ∂`before`/∂`wrt`; a CHAIN, DEFINITION
    or RESULT step says what a named line (`before`) is.
    """

    kind: str
    rule: str
    adjoint: str
    after: t.Term
    before: t.Term | None = None
    wrt: t.Tensor | None = None

    @property
    def words(self) -> str:
        if self.rule == "eat_deltas":
            return _delta_words(self.before, self.after)
        if self.rule == "function" and isinstance(self.before, t.Func):
            return f"chain rule through {self.before.name}"
        if self.rule == "opaque_function" and isinstance(self.before, t.Opaque):
            return f"chain rule through {self.before.written}"
        if self.rule == "fold_functions" and isinstance(self.before, t.Pow):
            return "power simplified"
        if self.rule == "merge_like_terms" and isinstance(self.after, t.Const):
            return "constants folded"
        return RULE_WORDS.get(self.rule, self.rule.replace("_", " "))


def _summed(term: t.Term | None) -> tuple[str, ...]:
    if isinstance(term, t.Add) and len(term.terms) == 1:
        term = term.terms[0]  # the engine's broadcast wrapper
    return t.names(term.summed) if isinstance(term, t.Product) else ()


def _delta_words(before: t.Term | None, after: t.Term) -> str:
    """Which of eat_deltas' identities fired, from what it did."""
    gone = [name for name in _summed(before) if name not in _summed(after)]
    if gone:
        return f"a delta eats the summed index {gone[0]}"
    if isinstance(after, t.Zero):
        return "a delta of two different literals is 0"
    return "a delta with a repeated index: δ[i,i] = 1"


def shown(term: t.Term) -> t.Term:
    """The term as an explanation shows it: without broadcast wrappers (sums
    of one term), which the notation cannot show except as parentheses."""
    while isinstance(term, t.Add) and len(term.terms) == 1:
        term = term.terms[0]
    kids = t.children(term)
    if not kids:
        return term
    new = tuple(shown(k) for k in kids)
    return term if new == kids else t.with_children(term, new)


def label(name: str, indices: Iterable[t.Index]) -> str:
    """`dL/dW[j,k]`, `Y[i,k]`, `L`: how a line is named in steps."""
    shown = ",".join(str(i) for i in indices)
    return f"{name}[{shown}]" if shown else name


class Trace:
    """Collects the steps of one derivation (a recorder, hence mutable)."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self.steps: list[Step] = []
        self.omitted = 0
        self.line = ""  # the label steps are recorded under
        self.definitions: dict[str, Trace] = {}

    def record(
        self,
        kind: str,
        rule: str,
        after: t.Term,
        before: t.Term | None = None,
        wrt: t.Tensor | None = None,
        *,
        always: bool = False,
    ) -> None:
        if len(self.steps) < self.limit or always:
            self.steps.append(Step(kind, rule, self.line, after, before, wrt))
        else:
            self.omitted += 1

    def rewrite(self, rule: str, before: t.Term, after: t.Term) -> None:
        if rule in SILENT:
            return
        if len(self.steps) < self.limit and shown(before) == shown(after):
            return  # e.g. nested sums flattened inside a wrapper: nothing to see
        self.record(REWRITE, rule, after, before)

    def local(
        self, rule: str, before: t.Term, after: t.Term, name: str, at: tuple[t.Idx, ...]
    ) -> None:
        """∂before/∂name[at] = after, by the local rule `rule`."""
        self.record(LOCAL, rule, after, before, t.Tensor(name, at))

    # ---- definitions: recorded once, when the Deriver lowers them, and
    # replayed for the definitions that a derivative passes through
    def definition(self, name: str, lhs: tuple[t.Idx, ...], rhs: t.Term) -> Trace:
        """A trace for simplifying the definition `name`, kept for `replay`."""
        inner = Trace(self.limit)
        inner.line = label(name, lhs)
        inner.record(DEFINITION, "definition", rhs, t.Tensor(name, lhs))
        self.definitions[name] = inner
        return inner

    def replay(self, names: Iterable[str]) -> None:
        """The recorded steps of these definitions, in the order given."""
        for name in names:
            inner = self.definitions.get(name)
            if inner is None:
                continue
            room = max(self.limit - len(self.steps), 0)
            self.steps.extend(inner.steps[:room])
            self.omitted += max(len(inner.steps) - room, 0) + inner.omitted

    # ---- reverse mode
    def chain(
        self,
        line: t.Tensor,
        links: list[tuple[str, tuple[t.Idx, ...], t.Tensor | None]],
        name: str,
        at: tuple[t.Idx, ...],
    ) -> t.Term:
        """Record the chain rule that defines `line` (dA/dNAME[a, at]) and return
        its right-hand side: Σ over consumers C of dA/dC[a, c] ∂C[c]/∂NAME[at],
        each link being (C, c, the adjoint dA/dC[a, c] or None when C is A)."""
        self.line = label(line.name, line.indices)
        parts: list[t.Term] = []
        for consumer, indices, reference in links:
            local = t.Tensor(f"∂{consumer}/∂{name}", indices + at, PARTIAL)
            parts.append(local if reference is None else t.Product((reference, local), indices))
        chain = t.add(parts, line.free)
        self.record(CHAIN, "chain_rule", chain, line)
        return chain

    def finished(
        self, line: t.Tensor, chain: t.Term, built: t.Term, result: t.Term, *, final: bool
    ) -> None:
        """The local derivatives put into the chain rule, and the simplified line."""
        self.record(SUBSTITUTE, "substitute", built, chain)
        self.record(RESULT, "derivative" if final else "adjoint", result, line, always=final)

    def done(self, line: t.Tensor, result: t.Term) -> None:
        """The derivative itself: always kept, so an explanation ends at it."""
        self.line = label(line.name, line.indices)
        self.record(RESULT, "derivative", result, line, always=True)

    def folded(self, line: t.Tensor, before: t.Term, after: t.Term, *, final: bool) -> None:
        """A finished line written with the file's names (`fold.py`); the
        derivative's is always kept, so an explanation ends at what `derive` prints."""
        del before  # the line's previous step shows it
        self.line = label(line.name, line.indices)
        self.record(RESULT, "fold_names", after, line, always=final)

    def unconnected(self, name: str, zero: t.Zero) -> None:
        """A derivative with no path from B to A: identically zero."""
        self.line = name
        self.record(RESULT, "no_path", zero, t.Tensor(name, zero.free, t.ADJOINT), always=True)
