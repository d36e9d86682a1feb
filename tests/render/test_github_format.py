"""GitHub workflow commands, read back by a parser of the syntax GitHub's
runner accepts (`::command key=value,key=value::data`, toolkit escaping)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ci_inputs import SAMPLE_PATHS, assert_inert, every_report, sample
from support import SAMPLES

from shapecheck import analyze_text
from shapecheck.pipeline import FileReport, Options
from shapecheck.render import github
from shapecheck.render.escape import visible

_COMMAND = re.compile(r"::(?P<command>[a-z]+)(?: (?P<properties>[^:]*))?::(?P<data>.*)")
_PROPERTY_UNESCAPES = {"%25": "%", "%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ","}
_DATA_UNESCAPES = {"%25": "%", "%0D": "\r", "%0A": "\n"}


def _unescape(text: str, table: dict[str, str]) -> str:
    return re.sub("%(?:25|0D|0A|3A|2C)", lambda m: table.get(m.group(), m.group()), text)


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    """One workflow command, as the runner reads it."""
    assert "\r" not in line and "\n" not in line
    match = _COMMAND.fullmatch(line)
    assert match, line
    properties: dict[str, str] = {}
    for item in (match["properties"] or "").split(","):
        key, _, value = item.partition("=")
        assert key not in properties
        properties[key] = _unescape(value, _PROPERTY_UNESCAPES)
    return match["command"], properties, _unescape(match["data"], _DATA_UNESCAPES)


def _annotations(reports: list[FileReport]) -> list[tuple[str, dict[str, str], str]]:
    output = github.render(reports)
    assert_inert(output)
    # The runner reads a command per "\n"; U+2028 and friends are text to it.
    lines = output.split("\n") if output else []
    assert len(lines) == sum(len(r.diagnostics) for r in reports)
    parsed = [_parse(line) for line in lines]
    problems = [(r, d) for r in reports for d in r.diagnostics]
    for (command, properties, message), (report, problem) in zip(parsed, problems, strict=True):
        assert command == problem.severity.value
        assert properties["file"] == visible(report.source.name, keep="")
        assert properties["title"] == problem.code
        assert message.startswith(visible(problem.message))
        for label in problem.labels:
            assert visible(label.message) in message
        for hint in problem.hints:
            assert f"help: {visible(hint)}" in message
    return parsed


@pytest.mark.parametrize("path", SAMPLE_PATHS, ids=lambda p: p.name)
def test_every_sample_and_mistake_parses(path: Path) -> None:
    _annotations([sample(path)])


def test_hostile_input_and_all_files_at_once_parse_and_are_deterministic() -> None:
    _annotations(every_report())
    assert github.render(every_report()) == github.render(every_report())


def test_every_label_is_a_line_of_the_message_with_its_place() -> None:
    ((command, properties, message),) = _annotations(
        [sample(SAMPLES / "mistakes" / "size_mismatch.idx")]
    )
    assert command == "error"
    assert (properties["line"], properties["col"]) == ("5", "24")
    assert (properties["endLine"], properties["endColumn"]) == ("5", "25")
    assert message.splitlines() == [
        "index `j` has two sizes",
        "note: line 5, column 16: `j` is d (3) here",
        "note: line 5, column 24: `j` is h (5) here",
        "help: the second index of X and the second index of W must have one size",
    ]


def test_separators_in_a_file_name_and_message_stay_in_their_field() -> None:
    report = analyze_text("a,b:c%0A%.idx", "param a\ny = a % b\n", Options())
    ((_, properties, message), *_) = _annotations([report])
    assert properties["file"] == "a,b:c%0A%.idx"
    assert "%" in message
