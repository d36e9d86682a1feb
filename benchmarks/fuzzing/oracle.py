"""Run one case through the tool in-process and record everything it produced.

The file is analysed once (`pipeline.analyze_bytes`, as the CLI does) and
the one report is rendered in every format through the CLI's own emitter,
with standard output captured and NO_COLOR set, so the text is what a user
would see in a pipe. An exception anywhere is kept with its traceback: the
CLI would turn one from the analysis into E999 and one from a renderer into a
traceback, and both are bugs. Every `CLI_EVERY`-th case also goes through the
real command (typer's CliRunner) to check its exit status end to end.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.fuzzing.cases import Case
from benchmarks.fuzzing.claims import exact_claims

FORMATS = ("json", "junit", "github", "text")
CLI_EVERY = 25
CLAIMS_EVERY = 3  # the claim round trip analyses the file again: not for every case
# Every LAYOUT_EVERY-th case renders the text format a second time with Rich
# laying out everything (`render/layout.py` lays out what it can match
# without Rich): the two must be byte-identical.
LAYOUT_EVERY = 5
RICH_TEXT = "text (all by Rich)"


@dataclass
class Outcome:
    exceptions: list[tuple[str, str]] = field(default_factory=list)  # (where, traceback)
    exit_status: int | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    diagnostics: list[tuple[str, str]] = field(default_factory=list)  # (code, message)
    wrong_claims: list[str] = field(default_factory=list)  # exact claims judged wrong
    seconds: float = 0.0


def _traceback(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


def _render(reports: list[object], fmt: str, status: int, detailed: bool) -> str:
    """The document the CLI would write for these reports in this format."""
    from shapecheck.render import output

    text, _ = output.render(
        reports,  # type: ignore[arg-type]
        fmt,  # type: ignore[arg-type]
        strict=False,
        status_of=lambda shown: status,
        detailed=detailed,
    )
    return text


def _analyze(case: Case, outcome: Outcome, expand: bool) -> object:
    from shapecheck.pipeline import Options, analyze_bytes, internal_error_report

    name = f"fuzz-{case.index}.idx"
    try:
        report = analyze_bytes(name, case.data, Options(expand=expand, verify=case.verify))
    except Exception as error:
        outcome.exceptions.append(("analysis (E999 in the CLI)", _traceback(error)))
        return internal_error_report(name, case.data, error)
    outcome.diagnostics = [(d.code, d.message) for d in report.diagnostics]
    return report


def run_case(case: Case) -> Outcome:
    started = time.perf_counter()
    outcome = Outcome()
    report = _analyze(case, outcome, expand=case.valid)
    outcome.exit_status = 1 if report.failed(False) else 0  # type: ignore[attr-defined]
    for fmt in FORMATS:
        try:
            outcome.outputs[fmt] = _render(
                [report], fmt, outcome.exit_status, case.command == "derive"
            )
        except Exception as error:
            outcome.exceptions.append((f"rendering {fmt}", _traceback(error)))
    if case.index % LAYOUT_EVERY == 0 and "text" in outcome.outputs:
        _render_all_by_rich(report, case, outcome)
    if (
        case.valid
        and case.index % CLAIMS_EVERY == 0
        and not any(code.startswith("E") for code, _ in outcome.diagnostics)
    ):
        _check_exact_claims(case, outcome)
    if case.index % CLI_EVERY == 0:
        _through_cli(case, outcome)
    outcome.seconds = time.perf_counter() - started
    return outcome


def _render_all_by_rich(report: object, case: Case, outcome: Outcome) -> None:
    """The text format again, every line and table handed to Rich."""
    from unittest import mock

    from shapecheck.render import layout

    with mock.patch.object(layout, "_plain", lambda item, soft_wrap: None):
        try:
            outcome.outputs[RICH_TEXT] = _render(
                [report], "text", outcome.exit_status or 0, case.command == "derive"
            )
        except Exception as error:
            outcome.exceptions.append(("rendering text by Rich", _traceback(error)))


def _check_exact_claims(case: Case, outcome: Outcome) -> None:
    """Append the tool's own formulas as claims; one judged wrong is a false verdict."""
    from shapecheck.pipeline import Options, analyze_bytes

    json_text = outcome.outputs.get("json")
    # Every other round trip writes the formulas through their adjoint lines.
    through_lines = (case.index // CLAIMS_EVERY) % 2 == 1
    claims = exact_claims(json_text, through_lines) if json_text else []
    if not claims:
        return
    text = case.data.decode() + "\n".join(claims) + "\n"
    first_claim_line = case.data.decode().count("\n")
    try:
        report = analyze_bytes("claims.idx", text.encode(), Options())
    except Exception as error:
        outcome.exceptions.append(("analysis of exact claims (E999 in the CLI)", _traceback(error)))
        return
    codes_by_line: dict[int, set[str]] = {}
    messages: dict[int, str] = {}
    for problem in report.diagnostics:
        if problem.span is None or not problem.is_error:
            continue
        line = text.count("\n", 0, problem.span.start)
        if line >= first_claim_line:
            codes_by_line.setdefault(line, set()).add(problem.code)
            messages.setdefault(line, problem.message)
    lines = text.split("\n")
    for line, codes in sorted(codes_by_line.items()):
        # A claim that also fails to parse or check did not round-trip: skip it.
        if codes == {"E402"}:
            outcome.wrong_claims.append(f"{lines[line]}\n  -> {messages[line]}")


def _through_cli(case: Case, outcome: Outcome) -> None:
    from typer.testing import CliRunner

    from shapecheck.cli import app

    with tempfile.TemporaryDirectory(prefix="fuzz-cli-") as folder:
        path = Path(folder, "case.idx")
        path.write_bytes(case.data)
        flags = [] if case.verify else ["--no-verify"]
        result = CliRunner().invoke(app, [case.command, str(path), "-f", "json", *flags])
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        outcome.exceptions.append(("the CLI (CliRunner)", _traceback(error)))
    elif result.exit_code not in (0, 1):
        outcome.exceptions.append(
            ("the CLI (CliRunner)", f"exit status {result.exit_code}\n{result.output[-2000:]}")
        )
