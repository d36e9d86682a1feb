"""The round trip (spec 10, docs/language.md 13.1): every printed `.idx` formula
is valid input with the same meaning.

For every shipped sample, each formula `derive --format json` prints (the
derivatives, with and without `--expand`, their adjoints, the claims as shown,
the definitions with their sums written out) is pasted back into a copy of the
file: a derivative, adjoint or claim as a claim of the same derivative, a
definition as the definition of a fresh name with the same left-hand side. The
copy must check with no error on the pasted lines; each pasted claim must be
confirmed (numerically at least); each pasted definition must check to the
same tree as the original. The test reads whatever is printed, not a list of
today's strings, so that it holds whatever the printer becomes.

Where a pasted formula is confirmed symbolically today, it must stay so: the
(file, kind, label) triples in tests/data/round_trip_symbolic.txt.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import ROOT, SAMPLES, spanless

from shapecheck.diagnostics import Severity
from shapecheck.pipeline import FileReport, Options, analyze_source
from shapecheck.render.json import file_json
from shapecheck.source import Source

FILES = sorted(
    [
        *SAMPLES.glob("*.idx"),
        *(SAMPLES / "course").glob("*.idx"),
        *(SAMPLES / "cookbook").glob("*.idx"),
    ]
)
SYMBOLIC = ROOT / "tests" / "data" / "round_trip_symbolic.txt"


@dataclass(frozen=True)
class Pasted:
    """One printed formula pasted back: where it came from, and the line."""

    kind: str  # derivative, expanded, adjoint, claim or definition
    label: str  # the derivative's label, or the definition's name
    line: str


def _claim_line(label: str, indices: list[str], formula: str) -> str:
    return f"{label}{'[' + ', '.join(indices) + ']' if indices else ''} = {formula}"


def _printed(plain: dict[str, Any], expanded: dict[str, Any]) -> list[Pasted]:
    """Every `.idx` formula of the two JSON reports, once each."""
    found: dict[str, Pasted] = {}

    def add(kind: str, label: str, line: str) -> None:
        found.setdefault(line, Pasted(kind, label, line))

    for derivative in plain.get("derivatives") or []:
        label, signature = derivative["label"], derivative["signature"]
        add("derivative", label, _claim_line(label, signature, derivative["formula"]))
        for adjoint in derivative["adjoints"]:
            line = _claim_line(adjoint["label"], adjoint["indices"], adjoint["formula"])
            add("adjoint", adjoint["label"], line)
    for derivative in expanded.get("derivatives") or []:
        if derivative["expanded"] is not None:
            line = _claim_line(derivative["label"], derivative["signature"], derivative["expanded"])
            add("expanded", derivative["label"], line)
    for claim in plain.get("claims") or []:
        add(
            "claim", claim["label"], _claim_line(claim["label"], claim["indices"], claim["claimed"])
        )
    for position, definition in enumerate(plain.get("definitions") or []):
        fresh = f"rt{position}_{definition['lhs']}"
        add("definition", definition["name"], f"{fresh} = {definition['formula']}")
    return list(found.values())


@dataclass(frozen=True)
class RoundTrip:
    """A sample with its printed formulas pasted back, and what came of it."""

    original: FileReport
    pasted: list[Pasted]
    report: FileReport
    first_pasted_line: int  # 1-based

    def errors_on_pasted_lines(self) -> list[str]:
        found = []
        for problem in self.report.diagnostics:
            if problem.severity is not Severity.ERROR or problem.span is None:
                continue
            line = self.report.source.position(problem.span.start)[0]
            if line >= self.first_pasted_line:
                text = self.report.source.text.splitlines()[line - 1]
                found.append(f"{problem.code} {problem.message}\n    {text}")
        return found

    def claims(self) -> list[tuple[Pasted, dict[str, Any]]]:
        """Each pasted derivative, adjoint or claim with its JSON claim record
        (an empty one where the line did not read as a claim)."""
        by_line = {
            claim["line"]: claim
            for claim in file_json(self.report, False).get("claims") or []
            if claim["line"] >= self.first_pasted_line
        }
        return [
            (pasted, by_line.get(self.first_pasted_line + k, {}))
            for k, pasted in enumerate(self.pasted)
            if pasted.kind != "definition"
        ]


def round_trip(path: Path) -> RoundTrip:
    text = path.read_text(encoding="utf-8")
    name = str(path.relative_to(ROOT))
    original = analyze_source(Source(name, text), Options())
    expanded = analyze_source(Source(name, text), Options(expand=True))
    pasted = _printed(file_json(original, False), file_json(expanded, False))
    # Claims first, then definitions: a claim's line is then its place in `pasted`.
    pasted.sort(key=lambda p: p.kind == "definition")
    base = text if text.endswith("\n") else text + "\n"
    copy = base + "".join(p.line + "\n" for p in pasted)
    report = analyze_source(Source(name, copy), Options())
    return RoundTrip(original, pasted, report, base.count("\n") + 1)


_CACHE: dict[Path, RoundTrip] = {}


def _cached(path: Path) -> RoundTrip:
    if path not in _CACHE:
        _CACHE[path] = round_trip(path)
    return _CACHE[path]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_printed_formula_reads_back_without_error(path: Path) -> None:
    trip = _cached(path)
    assert trip.pasted, "a sample prints at least one formula"
    assert trip.errors_on_pasted_lines() == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_printed_derivative_pasted_as_a_claim_is_confirmed(path: Path) -> None:
    trip = _cached(path)
    wrong = [
        f"{pasted.line}: {claim.get('verdict')} {claim.get('diagnosis')}"
        for pasted, claim in trip.claims()
        if not claim.get("confirmed")
    ]
    assert wrong == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_every_printed_definition_reads_back_as_the_same_tree(path: Path) -> None:
    trip = _cached(path)
    assert trip.original.checked is not None and trip.report.checked is not None
    for position, original in enumerate(trip.original.checked.definitions):
        copy = trip.report.checked.definition(f"rt{position}_{original.name}")
        assert copy is not None, original.name
        assert copy.indices == original.indices
        assert spanless(copy.rhs) == spanless(original.rhs), original.name


def _symbolic_today() -> set[str]:
    lines = SYMBOLIC.read_text(encoding="utf-8").splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def _key(path: Path, pasted: Pasted) -> str:
    return f"{path.relative_to(SAMPLES)} {pasted.kind} {pasted.label}"


def test_what_is_confirmed_symbolically_stays_so() -> None:
    """Every (file, kind, label) whose pasted formulas were all confirmed
    symbolically when this test was written still is. `UPDATE_ROUND_TRIP=1`
    rewrites the list (read its diff: a line may only go where the printed
    formula changed for the better)."""
    confirmed: set[str] = set()
    missed: set[str] = set()
    for path in FILES:
        for pasted, claim in _cached(path).claims():
            (confirmed if claim.get("symbolic_match") else missed).add(_key(path, pasted))
    confirmed -= missed
    if os.environ.get("UPDATE_ROUND_TRIP"):
        header = "# (file, kind, label) confirmed symbolically when pasted back\n"
        SYMBOLIC.write_text(header + "".join(f"{k}\n" for k in sorted(confirmed)), encoding="utf-8")
    assert sorted(_symbolic_today() - confirmed) == []
