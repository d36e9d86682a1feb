"""Facts about derivatives shared by the text and JSON renderers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shapecheck.numeric.codegen import CodeError, numpy_code, python_name
from shapecheck.numeric.verdicts import (
    AT_KINK,
    ILL_CONDITIONED,
    ClaimVerdict,
    Mode,
    PointValue,
    Verdict,
    nobodys_fault,
)
from shapecheck.pipeline import ClaimResult, DerivativeResult
from shapecheck.render import matrixform
from shapecheck.render.common import shape_both
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Adjoint, Derivation
from shapecheck.symbolic.formula import formula, indices
from shapecheck.symbolic.matrixform import MatrixExpr

if TYPE_CHECKING:
    from shapecheck.numeric.verdicts import Check


def signature(derivation: Derivation) -> str:
    """`[i,k | p,q]`: the derivative's indices in layout order, A's and B's apart."""
    first, second = derivation.signature_parts
    if not first or not second:
        return indices(first + second) or "scalar"
    return "[" + ",".join(map(str, first)) + " | " + ",".join(map(str, second)) + "]"


def shape(derivation: Derivation) -> str:
    return shape_both([i.size for i in derivation.signature])


def shown_formula(result: DerivativeResult) -> str:
    term = result.expanded if result.expanded is not None else result.derivation.formula
    return formula(term)


def point_value_lines(results: tuple[DerivativeResult, ...]) -> list[str]:
    """`dD/dX[p,q] = [[-4, -6], [-2, 3]]` for each derivative with a value at
    the file's literal point (`Check.value`)."""
    lines = []
    for result in results:
        value = result.check.value if result.check is not None else None
        if value is not None:
            derivation = result.derivation
            lines.append(
                f"{derivation.label}{indices(derivation.signature)} = {value_words(value)}"
            )
    return lines


def point_words(values_from: str) -> str:
    """Where the shown values come from: the file's literals, or an `--at` file."""
    if values_from == "literal values":
        return "the file's literal values"
    return f"the file's literal values and {values_from}"


def value_words(value: PointValue) -> str:
    """The value as nested brackets, one level per axis, numbers as `%.6g`."""
    nested = value.nested()

    def words(level: float | list[Any]) -> str:
        if isinstance(level, list):
            return "[" + ", ".join(words(entry) for entry in level) + "]"
        return f"{level:.6g}"

    return words(nested)


def matrix_form(result: DerivativeResult) -> MatrixExpr | None:
    """The derivative as shown (its formula, or the expanded one) in matrix
    notation, or None where it has none (spec 10: display only)."""
    shown = result.expanded if result.expanded is not None else result.derivation.formula
    return matrixform.derivative_form(result.derivation, shown)


def matrix_lines(results: tuple[DerivativeResult, ...], adjoints: bool) -> list[str]:
    """`dL/dW = Xᵀ (dL/dY)` for each derivative with a matrix form, then (with
    `adjoints`, where the adjoint lines are shown) each adjoint's."""
    lines = []
    for result in results:
        form = matrix_form(result)
        if form is not None:
            lines.append(f"{result.derivation.label} = {matrixform.text(form)}")
    for adjoint in unique_adjoints(results) if adjoints else []:
        form = matrixform.adjoint_form(adjoint)
        if form is not None:
            lines.append(f"{adjoint.label} = {matrixform.text(form)}")
    return lines


def adjoint_line(adjoint: Adjoint) -> str:
    return f"{adjoint.label}{indices(adjoint.indices)} = {formula(adjoint.formula)}"


def _assignment(label: str, term: t.Term, target: tuple[t.Idx, ...]) -> str:
    """`dL_dW = np.einsum(...)`, or a comment saying why there is no such line:
    einsum names each index of a product by one letter, so a product over more
    than 52 indices has no einsum call (the derivative itself is still right)."""
    try:
        return f"{python_name(label)} = {numpy_code(term, target)}"
    except CodeError as error:
        return f"# {python_name(label)}: no numpy line: {error}; einsum takes at most 52 indices"


def adjoint_code(adjoint: Adjoint) -> str:
    return _assignment(adjoint.label, adjoint.formula, adjoint.indices)


def derivative_code(result: DerivativeResult) -> list[str]:
    """Runnable numpy lines: the adjoints it needs, then the derivative itself,
    with axes in the signature's order."""
    derivation = result.derivation
    if result.expanded is not None:
        return [_assignment(derivation.label, result.expanded, derivation.signature)]
    needed = _needed_adjoints(derivation)
    lines = [adjoint_code(a) for a in reversed(derivation.adjoints) if a.label in needed]
    lines.reverse()
    lines.append(_assignment(derivation.label, derivation.formula, derivation.signature))
    return lines


def _needed_adjoints(derivation: Derivation) -> set[str]:
    by_label = {a.label: a for a in derivation.adjoints}
    needed: set[str] = set()
    stack = [derivation.formula]
    while stack:
        node = stack.pop()
        if isinstance(node, t.Tensor) and node.kind == t.ADJOINT and node.name not in needed:
            needed.add(node.name)
            stack.append(by_label[node.name].formula)
        stack.extend(t.children(node))
    return needed


def error_words(check: Check, digits: str) -> str:
    """`rel 3.2e-10`, or `abs 1.1e-17` where every compared value is zero to
    within the absolute tolerance (a relative error would be 0/0)."""
    if check.max_rel_error is None:
        return f"abs {check.max_abs_error + 0.0:{digits}}"
    return f"rel {check.max_rel_error + 0.0:{digits}}"


def check_words(check: Check | None) -> str:
    """`✓ 3.2e-10`, `✗ 0.5`, `? NaN`, `– not verified` for the check column."""
    if check is None:
        return "not run"
    if check.verdict is Verdict.OK:
        notes = [] if check.mode is Mode.FULL else [str(check.mode)]
        if check.undecidable:
            notes.append(f"{check.undecidable} unresolved")
        if check.at_kink:
            notes.append(f"{check.at_kink} at a kink")
        return f"✓ {error_words(check, '.1e')}" + (f" ({', '.join(notes)})" if notes else "")
    if check.verdict is Verdict.FAILED:
        return f"✗ {error_words(check, '.2g')}"
    if check.verdict is Verdict.INCONCLUSIVE and check.reason == AT_KINK:
        return f"– not verified ({AT_KINK})"
    if check.verdict is Verdict.INCONCLUSIVE and nobodys_fault(check.reason):
        return f"– not verified ({ILL_CONDITIONED})"
    if check.verdict is Verdict.INCONCLUSIVE:
        # A warning (W113): the user did nothing wrong, the numbers cannot decide.
        return "– not verified (inconclusive)"
    return "– not verified"


def claim_words(result: ClaimResult) -> str:
    parts = []
    if result.symbolic.matches:
        parts.append("✓ symbolically")
    check = result.check
    if check is None:
        if not result.symbolic.matches:
            parts.append("? not verified (--no-verify)")
    elif check.verdict is ClaimVerdict.OK:
        unresolved, at_kink = check.check.undecidable, check.check.at_kink
        note = f", {unresolved} unresolved" if unresolved else ""
        note += f", {at_kink} at a kink" if at_kink else ""
        parts.append(f"✓ numerically ({error_words(check.check, '.1e')}{note})")
        if result.symbolic.reason:
            parts.append(f"not symbolically: {result.symbolic.reason}")
    elif check.verdict is ClaimVerdict.WRONG:
        parts.append("✗ wrong" + (f": {check.diagnosis}" if check.diagnosis else ""))
    elif result.symbolic.matches:
        parts.append("numerically inconclusive")
    else:
        parts.append("? inconclusive")
    return "; ".join(parts)


def unique_adjoints(results: tuple[DerivativeResult, ...]) -> list[Adjoint]:
    """Adjoint lines of all derivatives, each once (dL/dY serves dL/dW and dL/db)."""
    seen: dict[str, Adjoint] = {}
    for result in results:
        if result.expanded is not None:
            continue
        needed = _needed_adjoints(result.derivation)
        for adjoint in result.derivation.adjoints:
            if adjoint.label in needed:
                seen.setdefault(adjoint.label, adjoint)
    return list(seen.values())
