"""No traceback from a renderer: a numpy line einsum cannot write becomes a
note, and any other renderer failure an E999 diagnostic of that file."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from shapecheck import analyze_text
from shapecheck.cli import app
from shapecheck.pipeline import FileReport, Options
from shapecheck.render import derivatives as facts
from shapecheck.render import output as document
from shapecheck.render import text as text_render

# 100 factors: dL/da is a product over 99 free indices, and einsum names
# each index of a product by one of 52 letters.
BIG_PRODUCT = (
    "dim k = 2\nparam a[k]\nL = " + " ".join(f"a[i{n}]" for n in range(100)) + "\nderive dL/da\n"
)
NOTE = "# dL_da: no numpy line: a product with 99 indices; einsum takes at most 52 indices"


def _status(reports: object) -> int:
    return 0


def test_a_product_over_too_many_indices_has_a_note_instead_of_code() -> None:
    report = analyze_text("big.idx", BIG_PRODUCT, Options(verify=False))
    assert facts.derivative_code(report.derivatives[0]) == [NOTE]


@pytest.mark.parametrize("output", ["text", "json"])
def test_derive_prints_the_note(tmp_path: Path, output: str) -> None:
    path = tmp_path / "big.idx"
    path.write_text(BIG_PRODUCT)
    result = CliRunner().invoke(app, ["derive", str(path), "--no-verify", "--format", output])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.exit_code == 0, result.output
    if output == "json":
        (derivative,) = json.loads(result.output)["files"][0]["derivatives"]
        assert derivative["numpy"] == [NOTE]
    else:
        assert "  " + NOTE in result.output


def _broken_report() -> list[FileReport]:
    return [
        analyze_text("good.idx", "param a\ny = a a\n", Options(verify=False)),
        analyze_text("bad.idx", "param b\nz = b b\n", Options(verify=False)),
    ]


def _fail_on_bad(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
    """Make one renderer function raise on the analysed report of bad.idx only
    (not on the E999 report that replaces it)."""
    original = getattr(module, name)

    def failing(*args: object, **kwargs: object) -> object:
        reports = [a for a in args if isinstance(a, FileReport)]
        reports += [r for a in args if isinstance(a, list) for r in a]
        if any(r.source.name == "bad.idx" and r.checked is not None for r in reports):
            raise RuntimeError("renderer bug")
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, failing)


@pytest.mark.parametrize("output", ["text", "json", "github", "junit"])
def test_a_renderer_failure_is_an_e999_of_that_file(
    monkeypatch: pytest.MonkeyPatch, output: document.Format
) -> None:
    from shapecheck.render import github, junit
    from shapecheck.render import json as json_render

    module = {"text": text_render, "json": json_render, "github": github, "junit": junit}[output]
    _fail_on_bad(monkeypatch, module, "_report" if output == "text" else "render")
    shown, status = document.render(
        _broken_report(), output, strict=False, status_of=lambda r: int(any(x.errors for x in r))
    )
    assert status == 1
    assert "internal error while rendering this file: RuntimeError: renderer bug" in shown
    if output == "json":
        files = json.loads(shown)["files"]
        assert [f["path"] for f in files] == ["good.idx", "bad.idx"]
        assert files[1]["diagnostics"][0]["code"] == "E999"
        assert files[0]["diagnostics"] == []
    if output == "text":
        assert "✓ good.idx" in shown
        assert "✗ bad.idx" in shown
    if output == "junit":
        ET.fromstring(shown)


def test_a_renderer_that_always_fails_still_prints_one_line_per_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("always")

    from shapecheck.render import json as json_render

    monkeypatch.setattr(json_render, "render", broken)
    shown, status = document.render(
        _broken_report(), "json", strict=False, status_of=lambda r: int(any(x.errors for x in r))
    )
    assert shown.splitlines() == [
        "good.idx: error[E999]: internal error while rendering: RuntimeError: always",
        "bad.idx: error[E999]: internal error while rendering: RuntimeError: always",
    ]
    assert status == 1


@pytest.mark.parametrize("output", ["text", "json", "github", "junit"])
def test_the_command_never_shows_a_renderer_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, output: str
) -> None:
    from shapecheck.render import diagnostics

    def broken(*args: object, **kwargs: object) -> str:
        raise KeyError("oops")

    # Used by text and junit; json and github fail in their own helpers.
    monkeypatch.setattr(diagnostics, "snippet", broken)
    monkeypatch.setattr(diagnostics, "location", broken)
    from shapecheck.render import json as json_render

    monkeypatch.setattr(json_render, "_diagnostic", broken)
    from shapecheck.render import github

    monkeypatch.setattr(github, "_escape_property", broken)
    path = tmp_path / "f.idx"
    path.write_text("param a\ny = b\n")
    result = CliRunner().invoke(app, ["check", str(path), "--format", output])
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert "E999" in result.output
    assert "Traceback" not in result.output
