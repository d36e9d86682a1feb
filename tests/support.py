"""Shared test helpers: run the pipeline on text and look at what came out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shapecheck.numeric.verdicts import Verdict
from shapecheck.pipeline import FileReport, Options, analyze_source
from shapecheck.render.diagnostics import render_plain
from shapecheck.render.notation import notation
from shapecheck.source import Source

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

Array = Any


def run(text: str, **options: object) -> FileReport:
    return analyze_source(Source("test.idx", text), Options(**options))  # type: ignore[arg-type]


def codes(text: str, **options: object) -> list[str]:
    """Diagnostic codes, leaving out W101 (unused declaration): test headers
    declare more than each test uses."""
    return [d.code for d in run(text, **options).diagnostics if d.code != "W101"]


def rendered(report: FileReport) -> str:
    shown = [d for d in report.diagnostics if d.code != "W101"]
    return "\n\n".join(render_plain(report.source, d) for d in shown)


def notation_of(text: str, name: str = "out") -> str:
    """How `name`'s right-hand side is shown, once `text` checks without errors."""
    report = run(text)
    assert [d.code for d in report.diagnostics if d.is_error] == [], rendered(report)
    assert report.checked is not None
    definition = report.checked.definition(name)
    assert definition is not None
    return notation(definition.rhs)


def saved(text: str, tmp_path: Path, **options: object) -> tuple[Any, dict[str, Array]]:
    """Run `text` saving values and derivatives; the report and the saved arrays."""
    path = tmp_path / "out.npz"
    report = run(text, save=path, **options)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    return report, arrays


def central(function: Any, values: Array, h: float = 1e-6) -> Array:
    """d function / d values by central differences, written here (numpy only)."""
    base = np.asarray(values, dtype=np.float64)
    out = np.asarray(function(base))
    gradient = np.zeros(out.shape + base.shape)
    for position in np.ndindex(base.shape):
        up, down = base.copy(), base.copy()
        up[position] += h
        down[position] -= h
        gradient[(..., *position)] = (function(up) - function(down)) / (2 * h)
    return gradient


def assert_clean(report: Any) -> None:
    """No diagnostics but W101, and every derivative verified OK."""
    assert [d.code for d in report.diagnostics if d.code != "W101"] == [], report.diagnostics
    for result in report.derivatives:
        assert result.check is not None and result.check.verdict is Verdict.OK
