"""Diagnostic codes are an enum whose members are the table of stable codes."""

from __future__ import annotations

import json

import pytest

from shapecheck.diagnostics import CODES, Code, Diagnostic, diagnostic


def test_every_code_is_in_the_table_and_every_entry_is_a_code() -> None:
    assert list(Code) == list(CODES)


def test_a_code_reads_as_its_text_everywhere() -> None:
    assert Code.E201 == "E201"
    assert f"{Code.E201}" == str(Code.E201) == "E201"
    assert f"{Code.E201:>6}" == "  E201"
    assert json.dumps({"code": Code.E201}) == '{"code": "E201"}'
    assert {"E201": 1}[Code.E201] == 1


def test_a_bare_code_becomes_its_member_and_an_unknown_one_is_refused() -> None:
    made = Diagnostic("E201", "message", None)  # type: ignore[arg-type]
    assert made.code is Code.E201
    with pytest.raises(ValueError, match="unknown diagnostic code"):
        diagnostic("E000", None, "message")  # type: ignore[arg-type]
