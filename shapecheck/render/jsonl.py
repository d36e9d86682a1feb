"""JSON Lines for streaming consumers: one line per file, then a summary line.

Each file line is the very object of `--format json`'s `files` array (built by
`render.json`, documented in docs/json.md); the last line is
`{"schema_version": ..., "tool": ..., "summary": ...}` with the summary of
`--format json`. Every line parses alone with `json.loads`; a consumer tells
the summary from a file by its `summary` key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shapecheck import __version__
from shapecheck.pipeline import FileReport

# The JSON renderer's own builders and escaping, so that both formats say the
# same thing about a file (they are private there; one definition is the point).
from shapecheck.render.json import SCHEMA_VERSION, escape_unsafe, file_json, summary

if TYPE_CHECKING:
    from shapecheck.render.output import RunContext

# Line and paragraph separators are valid raw in JSON, but `str.splitlines`
# and some line readers cut a line there: a line must stay one line.
_SEPARATORS = {"\u2028": "\\u2028", "\u2029": "\\u2029"}


def _line(data: dict[str, Any]) -> str:
    # Compact: a newline inside a string is escaped by json.dumps, so each
    # object is one line whatever the file holds.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = escape_unsafe(text)
    for char, escape in _SEPARATORS.items():
        text = text.replace(char, escape)
    return text


def render(reports: Sequence[FileReport], *, strict: bool, exit_status: int) -> str:
    lines = [_line(file_json(report, strict)) for report in reports]
    tool = {"name": "shapecheck", "version": __version__}
    closing = {"schema_version": SCHEMA_VERSION, "tool": tool}
    lines.append(_line({**closing, "summary": summary(reports, strict, exit_status)}))
    return "\n".join(lines)


def render_run(reports: Sequence[FileReport], context: RunContext) -> str:
    """The document of a run (the registry's entry point, render.output)."""
    return render(reports, strict=context.strict, exit_status=context.exit_status) + "\n"
