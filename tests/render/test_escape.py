"""User text in every format: controls and bidi overrides shown, never obeyed.

A comment, a file name or a message must not reach the terminal as an escape
sequence, a CI log as a workflow command, nor break the JSON or the XML.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from rich.console import Console
from typer.testing import CliRunner

from shapecheck import analyze_text
from shapecheck.cli import app
from shapecheck.diagnostics import Label, diagnostic
from shapecheck.pipeline import FileReport, Options
from shapecheck.render import github, junit
from shapecheck.render import json as json_render
from shapecheck.render import text as text_render
from shapecheck.render.diagnostics import render_plain
from shapecheck.render.escape import visible, visible_with_columns, xml_text
from shapecheck.source import Source, Span

HOSTILE_COMMENT = "\x1b]0;pwned\x07\x1b[2J"
EVERY_C0 = "".join(chr(c) for c in range(0x20)) + "\x7f"
# Every character a terminal, a log or an XML parser could take for more than text.
UNSAFE = [*EVERY_C0.replace("\t", ""), *(chr(c) for c in range(0x80, 0xA0))]
BIDI = [*"\u202a\u202b\u202c\u202d\u202e", *"\u2066\u2067\u2068\u2069"]


def _report(name: str, text: str) -> FileReport:
    return analyze_text(name, text, Options())


def _text(reports: list[FileReport], *, markup: bool = False) -> str:
    out = io.StringIO()
    # markup=True too: the renderer must not depend on the caller turning it off.
    console = Console(file=out, width=160, no_color=True, markup=markup, highlight=False)
    text_render.render(reports, console, strict=False, detailed=True)
    return out.getvalue()


def _assert_inert(output: str) -> None:
    for char in [*UNSAFE, *BIDI]:
        if char != "\n":
            assert char not in output, f"{char!r} reached the output"


# ---- the layer itself


def test_c0_controls_become_control_pictures_one_column_each() -> None:
    assert visible("a\x1bb\x07\x00\x7f") == "a␛b␇␀␡"
    assert visible("a\tb") == "a\tb"
    assert visible("a\nb") == "a␊b"
    assert visible("a\nb", keep="\t\n") == "a\nb"
    assert all(len(visible(c, keep="")) == 1 for c in EVERY_C0)


def test_c1_bidi_and_surrogates_are_spelled_out() -> None:
    assert visible("\x9b") == "\\x9b"
    assert visible("abc\u202edef") == "abc\\u202edef"
    assert visible("\u2066") == "\\u2066"
    # An undecodable byte in a file name, as Python carries it (surrogateescape).
    assert visible(os.fsdecode(b"bad\xff.idx")) == "bad\\xff.idx"
    assert visible("\ud800") == "\\ud800"


def test_ordinary_text_is_unchanged() -> None:
    text = "Σ_j X[i,j] W[j,k] — δ[i,p] `j` is h (5) ✓ [bold] :smile:"
    assert visible(text) == text
    assert xml_text(text) == text


def test_printable_text_needs_no_pattern_and_every_unsafe_character_is_unprintable() -> None:
    # `visible` skips its patterns for printable text (compiling them was 3 ms
    # of start-up); that is sound only while nothing they match is printable.
    from shapecheck.render import escape

    escape._unsafe.cache_clear()
    escape._xml_unsafe.cache_clear()
    text = "Σ_j X[i,j] W[j,k] — δ[i,p] ✓"
    assert visible(text) == xml_text(text) == text
    assert visible_with_columns(text)[0] == text
    assert escape._unsafe.cache_info().currsize == escape._xml_unsafe.cache_info().currsize == 0
    unsafe, xml_unsafe = escape._unsafe(), escape._xml_unsafe()
    for char in map(chr, range(0x110000)):
        if unsafe.search(char) or xml_unsafe.search(char):
            assert not char.isprintable(), hex(ord(char))


def test_columns_follow_wide_escapes() -> None:
    shown, columns = visible_with_columns("a\u202eb\tc")
    assert shown == "a\\u202eb c"
    assert columns == (0, 1, 7, 8, 9, 10)


def test_columns_of_a_safe_line_are_its_offsets() -> None:
    assert visible_with_columns("x[i] = y") == ("x[i] = y", tuple(range(9)))


def test_a_line_is_escaped_once_for_all_its_diagnostics() -> None:
    # Regression (fuzzing): every diagnostic of a long line escaped the whole
    # line again, which made the text report quadratic in the line's length.
    line = "y = " + " ".join("a[i]" for _ in range(500)) + " \u202e"
    visible_with_columns.cache_clear()
    for _ in range(50):
        visible_with_columns(line)
    assert visible_with_columns.cache_info().misses == 1


# ---- snippets: carets stay under the characters they mark


def test_carets_stay_under_their_characters_after_escapes() -> None:
    # `ab` comes after a bidi override (six columns shown), an ESC (one) and a
    # tab (one); a label on `cd` comes after it.
    text = "y = \u202e\x1b\tab + cd\n"
    source = Source("t.idx", text)
    first, second = text.index("ab"), text.index("cd")
    problem = diagnostic(
        "E101",
        Span(first, first + 2),
        "unknown name `ab`",
        labels=[Label(Span(second, second + 2), "and `cd` \x1b here")],
    )
    lines = render_plain(source, problem).splitlines()
    assert lines[1] == "  1 | y = \\u202e␛ ab + cd"
    assert lines[2].index("^^") == lines[1].index("ab")
    assert lines[2].rindex("^^") == lines[1].index("cd")
    assert lines[2].endswith("^^ and `cd` ␛ here")


def test_a_mark_past_the_end_of_an_escaped_line() -> None:
    # The missing `]` is marked just after the line's last character.
    report = _report("t.idx", "dim n\nparam x[n]\ny = x[\u202e\n")
    text = render_plain(report.source, report.diagnostics[0])
    lines = text.splitlines()
    assert "\\u202e" in lines[1]
    assert "^" in lines[2]
    assert "\u202e" not in text


# ---- each format


def test_text_format_shows_a_hostile_comment_and_name_inertly() -> None:
    name = "\x1b[31mred[bold].idx"
    report = _report(name, f"param a  # {HOSTILE_COMMENT} [bold]x[/bold]\ny = b\n")
    for markup in (False, True):
        output = _text([report], markup=markup)
        _assert_inert(output)
        assert "␛[31mred[bold].idx" in output
        assert "# ␛]0;pwned␇␛[2J [bold]x[/bold]" in output


def test_text_format_prints_markup_in_comments_literally() -> None:
    report = _report("[bold]x[/bold].idx", "param a  # [bold]loud[/bold] :smile:\ny = b\n")
    output = _text([report], markup=True)
    assert "[bold]x[/bold].idx" in output
    assert "# [bold]loud[/bold] :smile:" in output
    assert "😄" not in output


def test_text_format_escapes_every_control_of_a_message() -> None:
    # E002 quotes the unexpected character itself.
    for char in [*UNSAFE, *BIDI]:
        if char in "\n\r":
            continue
        report = _report(f"f{char}.idx", f"param a\ny = a {char} a\n")
        _assert_inert(_text([report]))


def test_cli_text_output_is_inert(tmp_path: Path) -> None:
    path = tmp_path / "\x1b[31mred.idx"
    path.write_text(f"param a  # {HOSTILE_COMMENT}\ny = a \x1b b\n")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert "\x1b" not in result.output
    assert "␛[31mred.idx:2:7: error[E002]" in result.output


def test_github_annotations_are_inert() -> None:
    report = _report("x\x1b[2J,y:z\n.idx", "param a\ny = a \x1b\u202e b\n")
    output = github.render([report])
    _assert_inert(output)
    assert output.count("\n") == 0
    assert "file=x␛[2J%2Cy%3Az␊.idx" in output


@pytest.mark.parametrize("char", [*UNSAFE, *BIDI, "\ufffe", "\uffff"])
def test_junit_is_well_formed_for_any_character(char: str) -> None:
    report = _report(f"f{char}.idx", f"param a  # {char}\ny = a {char} b\n")
    document = junit.render([report], strict=False)
    root = ET.fromstring(document)
    assert root.find("testsuite") is not None
    _assert_inert(document)


def test_junit_is_well_formed_for_every_control_at_once_and_bad_file_names() -> None:
    everything = EVERY_C0 + "\x1b[2J\ufffe\uffff\x9b\u202e"
    reports = [
        _report(f"all{everything}.idx", f"param a  # {everything}\ny = a\n"),
        _report(os.fsdecode(b"latin1-\xe9.idx"), "param a\ny = b\n"),
        _report("lone-\ud800.idx", "param a\ny = b\n"),
    ]
    root = ET.fromstring(junit.render(reports, strict=False))
    names = [suite.get("name") for suite in root.iter("testsuite")]
    assert names[1] == "latin1-\\xe9.idx"
    assert names[2] == "lone-\\ud800.idx"


def test_json_stays_valid_and_faithful_for_any_name() -> None:
    everything = EVERY_C0 + "\x1b[2J\ufffe\x9b\u202e\u2069"
    names = [f"all{everything}.idx", os.fsdecode(b"bad-\xff.idx"), "lone-\ud800.idx"]
    reports = [_report(name, f"param a  # {everything}\ny = b\n") for name in names]
    document = json_render.render(reports, strict=False, exit_status=1)
    _assert_inert(document)
    document.encode("utf-8")  # printable: no lone surrogate left raw
    parsed = json.loads(document)
    assert [f["path"] for f in parsed["files"]] == names


@pytest.mark.parametrize("output", ["text", "json", "github", "junit"])
def test_an_undecodable_file_name_through_the_command(tmp_path: Path, output: str) -> None:
    import subprocess
    import sys

    folder = os.fsencode(tmp_path)
    with open(folder + b"/bad-\xff\x1b[2J.idx", "wb") as handle:
        handle.write(b"param a\ny = b\n")
    result = subprocess.run(
        [sys.executable, "-m", "shapecheck", "check", "--format", output, tmp_path],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert b"Traceback" not in result.stderr
    assert b"\x1b" not in result.stdout
    assert b"\xff" not in result.stdout
    if output == "json":
        json.loads(result.stdout)
    if output == "junit":
        ET.fromstring(result.stdout)
