"""Analysing the files of one run: a report per file, in order, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import SAMPLES

from shapecheck import pipeline
from shapecheck.pipeline import Options
from shapecheck.run import runner
from shapecheck.run.runner import analyze_files
from shapecheck.run.usage import UsageProblem


def test_one_report_per_file_in_the_order_given() -> None:
    files = [SAMPLES / "dot.idx", SAMPLES / "mistakes" / "size_mismatch.idx", SAMPLES / "dot.idx"]
    reports = analyze_files(files, Options(verify=False))
    assert [r.source.name for r in reports] == [str(f) for f in files]
    assert [r.errors for r in reports] == [0, 1, 0]


def test_a_crash_on_one_file_is_an_e999_report(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def crash(name: str, data: bytes, options: Options) -> pipeline.FileReport:
        raise RuntimeError("boom")

    monkeypatch.setattr(runner, "analyze_bytes", crash)
    path = tmp_path / "a.idx"
    path.write_text("param a\ny = a\n")
    (report,) = analyze_files([path], Options())
    assert [d.code for d in report.diagnostics] == ["E999"]
    assert "RuntimeError: boom" in report.diagnostics[0].message
    assert report.source.text == "param a\ny = a\n"


def test_values_that_do_not_fit_are_a_usage_problem(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    values = tmp_path / "values.npz"
    np.savez(values, Z=np.zeros(2))
    with pytest.raises(UsageProblem, match="lacks values for: W, X, b"):
        analyze_files([SAMPLES / "affine.idx"], Options(at=values))


def test_an_unreadable_file_is_an_e020_report(tmp_path: Path) -> None:
    (report,) = analyze_files([tmp_path], Options())  # a folder cannot be read as a file
    assert [d.code for d in report.diagnostics] == ["E020"]
    assert report.diagnostics[0].message == "cannot read it: not a regular file"
