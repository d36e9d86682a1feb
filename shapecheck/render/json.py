"""Machine-readable output: the versioned schema documented in docs/json.md.

`schema_version` changes only when a field changes meaning or disappears;
new fields may be added within a version. The document is valid JSON and
safe to print for any input: DEL, C1 controls, bidi overrides and lone
surrogates (from undecodable file names) are written as `\\uXXXX` escapes,
which decode back to the same strings.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shapecheck import __version__
from shapecheck.check.program import ArrayInfo, CheckedDefinition, CheckedProgram
from shapecheck.diagnostics import Diagnostic
from shapecheck.pipeline import ClaimResult, DerivativeResult, FileReport
from shapecheck.render import derivatives as facts
from shapecheck.render import matrixform
from shapecheck.render.common import size_json
from shapecheck.render.notation import left_side, notation
from shapecheck.source import Source, Span
from shapecheck.symbolic.formula import formula
from shapecheck.symbolic.matrixform import MatrixExpr

if TYPE_CHECKING:
    from shapecheck.numeric.report import Verification
    from shapecheck.numeric.verify import Check

SCHEMA_VERSION = 3
# json.dumps escapes C0 controls itself; these it would pass through raw (they
# can only occur inside strings, so replacing them keeps the document valid).
_RAW_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _position(source: Source, span: Span) -> dict[str, int]:
    line, column = source.position(span.start)
    end_line, end_column = source.position(span.end)
    return {"line": line, "column": column, "end_line": end_line, "end_column": end_column}


def _diagnostic(source: Source, problem: Diagnostic) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "code": problem.code,
        "severity": problem.severity.value,
        "message": problem.message,
    }
    if problem.span is not None:
        entry.update(_position(source, problem.span))
    elif problem.position is not None:
        # No text to hold a span (an invalid byte): the one character there.
        line, column = problem.position
        entry.update({"line": line, "column": column, "end_line": line, "end_column": column + 1})
    else:
        entry.update({"line": None, "column": None, "end_line": None, "end_column": None})
    entry["labels"] = [
        {**_position(source, label.span), "message": label.message} for label in problem.labels
    ]
    entry["hints"] = list(problem.hints)
    entry["context"] = problem.context
    return entry


def file_json(report: FileReport, strict: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": report.source.name,
        "ok": not report.failed(strict),
        "errors": report.errors,
        "warnings": report.warnings,
        "diagnostics": [_diagnostic(report.source, d) for d in report.diagnostics],
    }
    checked = report.checked
    if checked is None:
        # A file that could not be read: the same keys, empty.
        data.update(
            {
                "layout": None,
                "dims": [],
                "arrays": [],
                "definitions": [],
                "derivatives": [],
                "claims": [],
                "verification": None,
            }
        )
        return data
    data["layout"] = checked.layout
    data["dims"] = [{"name": d.name, "value": d.value} for d in checked.dims]
    data["arrays"] = [_array(a) for a in checked.arrays]
    data["definitions"] = [_definition(report, checked, d) for d in checked.definitions]
    data["derivatives"] = [_derivative(r) for r in report.derivatives]
    data["claims"] = [_claim(report.source, c) for c in report.claims]
    data["verification"] = _verification(report.verification)
    return data


def _array(array: ArrayInfo) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": array.name,
        "kind": array.kind,
        "shape": [str(s) for s in array.shape],
        "sizes": [s.value for s in array.shape],
        "positive": array.positive,
        "has_value": array.value is not None,
    }
    if array.classes is not None:
        # Only integer arrays carry their range (spec 9.3): other arrays' output
        # stays as it was.
        data["in"] = str(array.classes)
        data["in_size"] = array.classes.value
    return data


def _definition(
    report: FileReport, checked: CheckedProgram, definition: CheckedDefinition
) -> dict[str, Any]:
    shape = checked.array(definition.name).shape
    return {
        "name": definition.name,
        "indices": list(definition.indices),
        "shape": [str(s) for s in shape],
        "sizes": [s.value for s in shape],
        "index_sizes": {name: size_json(size) for name, size in definition.sizes},
        "summed": list(definition.summed),
        "broadcast": [list(names) for names in definition.broadcast],
        "lhs": left_side(definition.name, definition.written_indices),
        "formula": notation(definition.rhs),
        "idx": str(definition.rhs),
        "line": report.source.position(definition.span.start)[0],
        "unrolled": dict(definition.loop),
    }


def _claim(source: Source, result: ClaimResult) -> dict[str, Any]:
    claim = result.symbolic.claim
    check = result.check
    return {
        "label": claim.label,
        "line": source.position(claim.span.start)[0],
        "indices": list(claim.indices),
        "claimed": notation(claim.rhs),
        "symbolic_match": result.symbolic.matches,
        "symbolic_reason": result.symbolic.reason,
        "confirmed": result.confirmed,
        "verdict": check.verdict.value if check is not None else None,
        "diagnosis": check.diagnosis if check is not None else None,
        "check": _check(check.check) if check is not None else None,
    }


def _verification(info: Verification | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {
        "seed": info.seed,
        "sizes": {name: value for name, value, _ in info.sizes},
        "chosen_sizes": [name for name, _, chosen in info.sizes if chosen],
        "rtol": info.rtol,
        "atol": info.atol,
        "memory_budget_bytes": info.budget_bytes,
        "values_from": info.values_from,
        "saved_to": info.saved_to,
    }


def _number(value: float) -> float | str:
    # JSON has no NaN or Inf: those are written as strings; -0.0 is written 0.0.
    return value + 0.0 if math.isfinite(value) else str(value)


def _check(check: Check | None) -> dict[str, Any] | None:
    if check is None:
        return None
    worst = check.worst
    return {
        "verdict": check.verdict.value,
        "mode": check.mode.value,
        "compared": check.compared,
        "undecidable": check.undecidable,
        "at_kink": check.at_kink,
        "redraws": check.redraws,
        "value": check.value.nested() if check.value is not None else None,
        "max_abs_error": _number(check.max_abs_error),
        # null where every compared value is zero (a relative error is 0/0).
        "max_rel_error": None if check.max_rel_error is None else _number(check.max_rel_error),
        "worst": None
        if worst is None
        else {
            "index": list(worst.index) if worst.index is not None else None,
            "direction": worst.direction,
            "derived": _number(worst.derived),
            "reference": _number(worst.reference),
        },
        "reason": check.reason,
        "hints": list(check.hints),
        "suggested_sizes": dict(check.suggested_sizes),
    }


def _derivative(result: DerivativeResult) -> dict[str, Any]:
    derivation = result.derivation
    # A second derivative d2A/dB2 also says its order (spec 9.6).
    order = {"order": 2} if derivation.order == 2 else {}
    return {
        "label": derivation.label,
        "of": derivation.first_of,
        **order,
        "wrt": derivation.wrt,
        "default": result.request.default,
        "layout": derivation.layout,
        "signature": [i.name for i in derivation.signature],
        "shape": [str(i.size) for i in derivation.signature],
        "sizes": [i.size.value for i in derivation.signature],
        "formula": formula(derivation.formula),
        "expanded": formula(result.expanded) if result.expanded is not None else None,
        "matrix": _matrix(facts.matrix_form(result)),
        "numpy": facts.derivative_code(result),
        "check": _check(result.check),
        "adjoints": [
            {
                "label": a.label,
                "indices": [i.name for i in a.indices],
                "formula": formula(a.formula),
                "matrix": _matrix(matrixform.adjoint_form(a)),
                "numpy": facts.adjoint_code(a),
            }
            for a in derivation.adjoints
        ],
    }


def _matrix(form: MatrixExpr | None) -> str | None:
    """The matrix notation (display only), or null where the result has none."""
    return matrixform.text(form) if form is not None else None


def render(reports: Sequence[FileReport], *, strict: bool, exit_status: int) -> str:
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "shapecheck", "version": __version__},
        "files": [file_json(r, strict) for r in reports],
        "summary": summary(reports, strict, exit_status),
    }
    return escape_unsafe(json.dumps(document, indent=2, ensure_ascii=False))


def escape_unsafe(text: str) -> str:
    """JSON text with DEL, C1 controls, bidi overrides and lone surrogates
    written as `\\uXXXX` escapes (json.dumps leaves them raw)."""
    return _RAW_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def summary(reports: Sequence[FileReport], strict: bool, exit_status: int) -> dict[str, Any]:
    """The closing counts of a run (JSON's `summary`, JSON Lines' last line)."""
    return {
        "files": len(reports),
        "failed": sum(1 for r in reports if r.failed(strict)),
        "errors": sum(r.errors for r in reports),
        "warnings": sum(r.warnings for r in reports),
        "exit_status": exit_status,
    }
