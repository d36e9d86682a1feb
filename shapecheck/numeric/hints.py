"""Why a numeric check proves nothing: kinks, and where a NaN or an Inf came from.

`verify` names a function evaluated near a kink (relu, abs, step or sign
within 10⁻⁴ of 0) in the hints of a check that left entries out (the entries
themselves are found by `kinks`), and words an inconclusive check's hints
from the forward values: log or sqrt of a non-positive value, or division by
zero.
A norm at a zero vector is a kink too (its derivative e / norm is 0 / 0
there; `kinks` leaves it out), and the hints say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from shapecheck.check.program import CheckedProgram
from shapecheck.numeric.evaluate import Evaluator
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Deriver

Array = Any

# An argument of relu or abs this close to 0 may be straddled by a step.
KINK_REACH = 1e-4
_KINKED = ("relu", "abs", "step", "sign")


def _nodes_with_values(
    deriver: Deriver, forward: Mapping[str, Array], names: Iterable[str], powers: bool
) -> Iterator[tuple[str, t.Func | t.Pow, Array]]:
    """Each function (and, if `powers`, power) node in those definitions, in
    source order, with the forward value of its argument (a power's: its base)."""
    evaluator = Evaluator(forward)
    for name in dict.fromkeys(names):
        if name not in deriver.lowered:
            continue
        stack = [deriver.lowered[name][1]]
        while stack:
            node = stack.pop()
            match node:
                case t.Func(arg=inner) | t.Pow(base=inner) if powers or isinstance(node, t.Func):
                    with np.errstate(all="ignore"):
                        yield name, node, np.asarray(evaluator.value(inner))
            stack.extend(reversed(t.children(node)))


def _zero_norms(
    deriver: Deriver, forward: Mapping[str, Array], names: Iterable[str]
) -> Iterator[str]:
    """A hint for each definition holding a norm that is within reach of 0."""
    evaluator = Evaluator(forward)
    for name in dict.fromkeys(names):
        if name not in deriver.lowered:
            continue
        for node in t.preorder(deriver.lowered[name][1]):
            if isinstance(node, t.IndexedFunc) and node.name == "norm":
                with np.errstate(all="ignore"):
                    value = np.asarray(evaluator.value(node))
                if np.any(np.abs(value) <= KINK_REACH):
                    yield (
                        f"norm of a zero vector in `{name}`: its derivative e / norm is "
                        "undefined there; check at another point (--seed, or other literal values)"
                    )


def kinks(deriver: Deriver, forward: Mapping[str, Array], names: list[str]) -> tuple[str, ...]:
    """relu or abs evaluated within finite-difference reach of 0, or a norm of 0."""
    found = [
        f"{node.name} of a value at 0 in `{name}`: check at another point "
        "(--seed, or other literal values)"
        for name, node, argument in _nodes_with_values(deriver, forward, names, powers=False)
        if isinstance(node, t.Func)
        and node.name in _KINKED
        and np.any(np.abs(argument) <= KINK_REACH)
    ]
    found.extend(_zero_norms(deriver, forward, names))
    return tuple(dict.fromkeys(found))


def nonfinite_hints(
    program: CheckedProgram, deriver: Deriver, forward: Mapping[str, Array]
) -> tuple[str, ...]:
    """Where a NaN or Inf came from: log or sqrt of a non-positive value."""
    hints: list[str] = []
    for name, node, value in _nodes_with_values(deriver, forward, deriver.graph.order, powers=True):
        if isinstance(node, t.Func):
            hint = _domain_hint(program, deriver, name, node, value)
        else:
            hint = (
                f"division by zero (or 0 to a negative power) in `{name}`"
                if np.any(value == 0)
                else None
            )
        if hint is not None:
            hints.append(hint)
    return tuple(dict.fromkeys(hints)) or ("the forward values overflow or divide by zero",)


def _domain_hint(
    program: CheckedProgram, deriver: Deriver, name: str, node: t.Func, value: Array
) -> str | None:
    """log of a value ≤ 0 or sqrt of a value < 0, and which arrays to declare positive."""
    if node.name not in ("log", "sqrt"):
        return None
    if not np.any(value <= 0 if node.name == "log" else value < 0):
        return None
    positive = {a.name for a in program.arrays if a.positive}
    arrays = sorted({n.name for n in _tensors(node.arg)} - set(deriver.graph.order) - positive)
    target = f"declare {', '.join(arrays)} positive" if arrays else "keep its argument positive"
    return f"{node.name} of a non-positive value in `{name}`: {target}"


def _tensors(term: t.Term) -> list[t.Tensor]:
    found = []
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor):
            found.append(node)
        stack.extend(t.children(node))
    return found
