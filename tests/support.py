"""Shared test helpers: run the pipeline on text and look at what came out."""

from __future__ import annotations

from pathlib import Path

from shapecheck.pipeline import FileReport, Options, analyze_source
from shapecheck.render.diagnostics import render_plain
from shapecheck.source import Source

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def run(text: str, **options: object) -> FileReport:
    return analyze_source(Source("test.idx", text), Options(**options))  # type: ignore[arg-type]


def codes(text: str, **options: object) -> list[str]:
    """Diagnostic codes, leaving out W101 (unused declaration): test headers
    declare more than each test uses."""
    return [d.code for d in run(text, **options).diagnostics if d.code != "W101"]


def rendered(report: FileReport) -> str:
    shown = [d for d in report.diagnostics if d.code != "W101"]
    return "\n\n".join(render_plain(report.source, d) for d in shown)
