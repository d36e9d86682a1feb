"""Golden diagnostics: each file of samples/mistakes/ against its expected text.

The expected text lives in tests/golden/<name>.txt and is compared as a whole
string. After an intended change of wording, regenerate with
`UPDATE_GOLDEN=1 pytest tests/golden/test_golden.py` and read the diff before
committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import ROOT, SAMPLES

from shapecheck.pipeline import Options, analyze_path
from shapecheck.render.diagnostics import render_plain

GOLDEN = Path(__file__).resolve().parent
MISTAKES = sorted((SAMPLES / "mistakes").glob("*.idx"))


def _render(path: Path) -> str:
    report = analyze_path(path.relative_to(ROOT), Options())
    return "\n\n".join(render_plain(report.source, d) for d in report.diagnostics) + "\n"


@pytest.mark.parametrize("path", MISTAKES, ids=lambda p: p.stem)
def test_mistake_diagnostics(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    expected_file = GOLDEN / f"{path.stem}.txt"
    actual = _render(path)
    if os.environ.get("UPDATE_GOLDEN"):
        expected_file.write_text(actual, encoding="utf-8")
    assert actual == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", MISTAKES, ids=lambda p: p.stem)
def test_every_mistake_is_an_error(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert analyze_path(path.relative_to(ROOT), Options()).errors > 0
