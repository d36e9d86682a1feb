"""JSON Lines: each line parses alone; the file lines are `--format json`'s
`files` objects and the last line its summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ci_inputs import SAMPLE_PATHS, assert_inert, every_report, sample

from shapecheck.pipeline import FileReport
from shapecheck.render import json as json_render
from shapecheck.render import jsonl


def _check(reports: list[FileReport], strict: bool = False) -> None:
    document = jsonl.render(reports, strict=strict, exit_status=1)
    assert_inert(document)
    document.encode("utf-8")
    # A reader that cuts at any line break Python knows still gets one object a line.
    lines = document.splitlines()
    assert lines == document.split("\n")
    assert len(lines) == len(reports) + 1
    parsed = [json.loads(line) for line in lines]
    whole = json.loads(json_render.render(reports, strict=strict, exit_status=1))
    assert parsed[:-1] == whole["files"]
    assert parsed[-1] == {k: whole[k] for k in ("schema_version", "tool", "summary")}


@pytest.mark.parametrize("path", SAMPLE_PATHS, ids=lambda p: p.name)
def test_every_sample_and_mistake(path: Path) -> None:
    _check([sample(path)])
    _check([sample(path)], strict=True)


def test_hostile_input_and_all_files_at_once_are_valid_and_deterministic() -> None:
    _check(every_report())
    assert jsonl.render(every_report(), strict=False, exit_status=1) == jsonl.render(
        every_report(), strict=False, exit_status=1
    )


def test_no_files_is_one_summary_line() -> None:
    (line,) = jsonl.render([], strict=False, exit_status=0).split("\n")
    assert json.loads(line)["summary"]["files"] == 0
