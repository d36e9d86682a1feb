"""The documentation stays true to the code."""

from __future__ import annotations

import re

import pytest
from support import ROOT

from shapecheck import Options, analyze_text
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


# ---- every example of the language reference runs as it says


def _idx_examples() -> list[tuple[int, str, str | None]]:
    """(line, text, layout) of every ```idx block of docs/language.md; a
    `<!-- run: check --layout X -->` line above a block runs it with that option."""
    lines = (ROOT / "docs" / "language.md").read_text(encoding="utf-8").splitlines()
    examples: list[tuple[int, str, str | None]] = []
    start: int | None = None
    for number, line in enumerate(lines, 1):
        if start is None and line.strip() == "```idx":
            start = number
        elif start is not None and line.strip() == "```":
            directive = _LAYOUT_OPTION.search(lines[start - 2]) if start >= 2 else None
            layout = directive.group(1) if directive else None
            examples.append((start, "\n".join(lines[start : number - 1]) + "\n", layout))
            start = None
    return examples


_LAYOUT_OPTION = re.compile(r"<!-- run: check --layout (\w+) -->")


_EXPECTED_CODE = re.compile(r"#\s*([EW]\d{3})\b")


@pytest.mark.parametrize(("line", "text", "layout"), _idx_examples(), ids=lambda v: str(v)[:12])
def test_every_language_example_runs_as_documented(
    line: int, text: str, layout: str | None
) -> None:
    """An example with a code in a comment (`# E201`) gives that code; every
    other example passes with no error and no warning."""
    report = analyze_text(f"language.md:{line}", text, Options(layout=layout))
    found = {str(d.code) for d in report.diagnostics}
    expected = set(_EXPECTED_CODE.findall(text))
    if expected:
        assert expected <= found, f"docs/language.md line {line}: expected {expected}, got {found}"
    else:
        assert not found, f"docs/language.md line {line}: {[d.message for d in report.diagnostics]}"
