"""Machine-readable output: the versioned schema documented in docs/json.md.

`schema_version` changes only when a field changes meaning or disappears;
new fields may be added within a version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shapecheck import __version__
from shapecheck.diagnostics import Diagnostic
from shapecheck.pipeline import FileReport
from shapecheck.render.common import size_json
from shapecheck.render.notation import notation
from shapecheck.source import Source, Span

SCHEMA_VERSION = 1


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
    else:
        entry.update({"line": None, "column": None, "end_line": None, "end_column": None})
    entry["labels"] = [
        {**_position(source, label.span), "message": label.message} for label in problem.labels
    ]
    entry["hints"] = list(problem.hints)
    entry["context"] = problem.context
    return entry


def file_json(report: FileReport, strict: bool) -> dict[str, Any]:
    checked = report.checked
    data: dict[str, Any] = {
        "path": report.source.name,
        "ok": not (report.errors or (strict and report.warnings)),
        "errors": report.errors,
        "warnings": report.warnings,
        "diagnostics": [_diagnostic(report.source, d) for d in report.diagnostics],
    }
    if checked is None:
        data.update({"layout": None, "dims": [], "arrays": [], "definitions": []})
        return data
    data["layout"] = checked.layout
    data["dims"] = [{"name": d.name, "value": d.value} for d in checked.dims]
    data["arrays"] = [
        {
            "name": a.name,
            "kind": a.kind,
            "shape": [str(s) for s in a.shape],
            "sizes": [s.value for s in a.shape],
            "positive": a.positive,
            "has_value": a.value is not None,
        }
        for a in checked.arrays
    ]
    data["definitions"] = [
        {
            "name": d.name,
            "indices": list(d.indices),
            "shape": [str(s) for s in checked.array(d.name).shape],
            "sizes": [s.value for s in checked.array(d.name).shape],
            "index_sizes": {name: size_json(size) for name, size in d.sizes},
            "summed": list(d.summed),
            "broadcast": [list(names) for names in d.broadcast],
            "formula": notation(d.rhs),
            "idx": str(d.rhs),
            "line": report.source.position(d.span.start)[0],
            "unrolled": dict(d.loop),
        }
        for d in checked.definitions
    ]
    return data


def render(reports: Sequence[FileReport], *, strict: bool, exit_status: int) -> str:
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "shapecheck", "version": __version__},
        "files": [file_json(r, strict) for r in reports],
        "summary": {
            "files": len(reports),
            "failed": sum(1 for r in reports if r.errors or (strict and r.warnings)),
            "errors": sum(r.errors for r in reports),
            "warnings": sum(r.warnings for r in reports),
            "exit_status": exit_status,
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
