"""Classify what one run produced: crash, hang, invalid output or false verdict.

A pure function of the input bytes and the recorded `Outcome`, so that it can
be tested on hand-made outcomes. Each finding carries a `cause`, a short key
without the input's particulars (the exception type and the innermost
shapecheck frame; which output and which check), by which the campaign
deduplicates failures.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from benchmarks.fuzzing.oracle import RICH_TEXT, Outcome

CRASH, HANG, INVALID, FALSE = "crash", "hang", "invalid output", "false verdict"
KINDS = (CRASH, HANG, INVALID, FALSE)

TOP_FIELDS = ("schema_version", "tool", "files", "summary")
SUMMARY_FIELDS = ("files", "failed", "errors", "warnings", "exit_status")
FILE_FIELDS: tuple[str, ...] = ("path", "ok", "errors", "warnings", "diagnostics", "layout")
FILE_FIELDS += ("dims", "arrays", "definitions", "derivatives", "claims", "verification")

# C0 controls but \t and \n, C1 controls, and the bidi embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x80-\x9f\u202a-\u202e\u2066-\u2069]")
_FRAME = re.compile(r'File "[^"]*?(shapecheck/[^"]+)", line \d+, in (\S+)')


@dataclass(frozen=True)
class Finding:
    kind: str
    cause: str  # deduplication key
    detail: str


def crash_cause(where: str, trace: str) -> str:
    """`where: ExceptionType at shapecheck/module.py:function`."""
    frames = _FRAME.findall(trace)
    lines = [line for line in trace.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "?"
    kind = last.split(":")[0].strip() if not last.startswith("exit status") else last
    place = f" at {frames[-1][0]}:{frames[-1][1]}" if frames else ""
    return f"{where}: {kind}{place}"


def _control_kind(char: str) -> str:
    if char == "\x1b":
        return "ESC"
    if "\u202a" <= char <= "\u2069":
        return "bidi control"
    if char == "\r":
        return "CR"
    return "C1 control" if "\x80" <= char <= "\x9f" else "C0 control"


def check_controls(fmt: str, output: str, data: bytes) -> list[Finding]:
    source = data.decode("utf-8", errors="replace")
    kinds: dict[str, str] = {}
    for match in _CONTROL.finditer(output):
        char = match.group()
        origin = "from the input" if char in source else "not in the input"
        kinds.setdefault(f"{_control_kind(char)} {origin}", f"U+{ord(char):04X}")
    return [
        Finding(INVALID, f"{fmt}: raw {kind}", f"{fmt} output holds {code}")
        for kind, code in sorted(kinds.items())
    ]


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def check_json(output: str) -> list[Finding]:
    try:
        document = json.loads(output, parse_constant=_reject_constant)
    except ValueError as error:
        return [Finding(INVALID, "json: does not parse", str(error))]
    missing = [f for f in TOP_FIELDS if not isinstance(document, dict) or f not in document]
    if not missing:
        summary, files = document["summary"], document["files"]
        missing += [f"summary.{f}" for f in SUMMARY_FIELDS if f not in summary]
        for file in files if isinstance(files, list) else []:
            missing += [f"files[].{f}" for f in FILE_FIELDS if f not in file]
    return [Finding(INVALID, f"json: lacks {name}", output[:300]) for name in sorted(set(missing))]


def check_junit(output: str) -> list[Finding]:
    try:
        root = ET.fromstring(output)
    except ET.ParseError as error:
        message = re.sub(r"line \d+, column \d+", "line L, column C", str(error))
        return [Finding(INVALID, f"junit: not well-formed XML ({message})", str(error))]
    if root.tag not in ("testsuites", "testsuite"):
        return [Finding(INVALID, f"junit: root element <{root.tag}>", output[:300])]
    return []


def _output_findings(data: bytes, outcome: Outcome) -> list[Finding]:
    findings: list[Finding] = []
    if "json" in outcome.outputs:
        findings += check_json(outcome.outputs["json"])
    if "junit" in outcome.outputs:
        findings += check_junit(outcome.outputs["junit"])
    for fmt in ("text", "github"):
        if fmt in outcome.outputs:
            findings += check_controls(fmt, outcome.outputs[fmt], data)
    by_rich = outcome.outputs.get(RICH_TEXT)
    if by_rich is not None and by_rich != outcome.outputs.get("text"):
        findings.append(_layout_finding(outcome.outputs.get("text", ""), by_rich))
    return findings


def _layout_finding(plain: str, by_rich: str) -> Finding:
    """The first line where the text format differs from Rich's own layout."""
    ours, rich = plain.splitlines(), by_rich.splitlines()
    line = next(
        (n for n, (a, b) in enumerate(zip(ours, rich, strict=False)) if a != b),
        min(len(ours), len(rich)),
    )
    ours_line, rich_line = ours[line : line + 1], rich[line : line + 1]
    shown = f"line {line + 1}\n  without Rich: {ours_line!r}\n  Rich: {rich_line!r}"
    return Finding(INVALID, "text: laid out without Rich, not as Rich", shown)


def classify(data: bytes, valid: bool, outcome: Outcome) -> list[Finding]:
    """Every finding of one run; an empty list is a pass."""
    findings = [
        Finding(CRASH, crash_cause(where, trace), trace) for where, trace in outcome.exceptions
    ]
    findings += [
        Finding(CRASH, "E999 diagnostic", message)
        for code, message in outcome.diagnostics
        if code == "E999"
    ]
    if outcome.exit_status not in (0, 1):
        findings.append(Finding(CRASH, f"exit status {outcome.exit_status}", ""))
    findings += _output_findings(data, outcome)
    if valid:
        findings += [
            Finding(FALSE, "E401 on a valid program", message)
            for code, message in outcome.diagnostics
            if code == "E401"
        ]
        findings += [
            Finding(FALSE, "E402 on the tool's own formula", c) for c in outcome.wrong_claims
        ]
    return findings
