"""The documentation stays true to the code."""

from __future__ import annotations

from support import ROOT

from shapecheck.diagnostics import CODES


def test_every_code_is_documented() -> None:
    text = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    for code, (severity, title) in CODES.items():
        assert f"| {code} | {severity.value} | {title} |" in text


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'pip install ".[test]"' in readme
    assert "shapecheck derive samples/affine.idx" in readme
    assert "\npytest\n" in readme
