"""Sizes for numeric checks, chosen from what the checker recorded.

`with_sizes(check(program), choose_sizes(...))` must equal checking again
with the chosen sizes, so that no stage needs to run twice: for every sample
(with its dims left without values) and for hand-written cases.
"""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import pytest
from support import SAMPLES

from shapecheck.check.checker import check
from shapecheck.check.program import CheckedProgram, SizeNeed
from shapecheck.diagnostics import Diagnostic
from shapecheck.numeric.sizes import choose_sizes, symbolic_sizes, unmet_needs, with_sizes
from shapecheck.source import Source
from shapecheck.syntax import ast
from shapecheck.syntax.parse import parse
from shapecheck.syntax.unroll import unroll


def _check(text: str, sizes: dict[str, int] | None = None) -> tuple[CheckedProgram, list[str]]:
    """Parse, unroll and check as the pipeline does; the program and error codes."""
    program, problems = parse(Source("test.idx", text))
    unrolled, more = unroll(program, sizes)
    checked, found = check(unrolled, sizes)
    every: list[Diagnostic] = problems + more + found
    return checked, [d.code for d in every if d.is_error]


def _first_edition_sizes(program: CheckedProgram) -> dict[str, int]:
    """The first edition's choice, walking the checked expressions (the oracle)."""
    needs: dict[str, int] = {}
    for expression in [d.rhs for d in program.definitions] + [c.rhs for c in program.claims]:
        for node in ast.walk(expression):
            if not isinstance(node, ast.ArrayRef):
                continue
            for index, size in zip(node.indices, program.array(node.name).shape, strict=False):
                if isinstance(index, ast.IndexLiteral) and size.name and size.value is None:
                    needs[size.name] = max(needs.get(size.name, 0), index.value)
    taken = {d.value for d in program.dims if d.value is not None}
    for array in program.arrays:
        taken |= {s.value for s in array.shape if s.name is None and s.value is not None}
    chosen: dict[str, int] = {}
    candidate = 2
    for name in [d.name for d in program.dims if d.value is None]:
        while candidate in taken or candidate < needs.get(name, 0):
            candidate += 1
        chosen[name] = candidate
        taken.add(candidate)
        candidate += 1
    return chosen


def _assert_one_run_suffices(text: str, given: dict[str, int] | None = None) -> dict[str, int]:
    """The whole contract on one file; returns the chosen sizes."""
    checked, errors = _check(text, given)
    assert errors == []
    chosen = choose_sizes(checked)
    assert set(chosen) == {d.name for d in checked.dims if d.value is None}
    assert unmet_needs(checked, chosen) == ()
    assert chosen == _first_edition_sizes(checked) == symbolic_sizes(checked)
    again, errors = _check(text, {**(given or {}), **chosen})
    assert errors == []
    assert with_sizes(checked, chosen) == again
    return chosen


def _without_values(text: str, names: tuple[str, ...]) -> str:
    """The text with `names` declared as `dim name` (no value)."""
    lines = text.split("\n")
    for k, line in enumerate(lines):
        if line.lstrip().startswith("dim "):
            for name in names:
                line = re.sub(rf"\b{name}\s*=\s*\d+", name, line)
            lines[k] = line
    return "\n".join(lines)


def _dims(text: str) -> list[str]:
    return [
        name
        for line in text.splitlines()
        if line.lstrip().startswith("dim ")
        for name in re.findall(r"([A-Za-z_]\w*)\s*=", line)
    ]


SAMPLE_FILES = sorted(SAMPLES.glob("*.idx"))


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.name for p in SAMPLE_FILES])
def test_samples_as_written_need_no_choice(path: Path) -> None:
    checked, errors = _check(path.read_text())
    assert errors == []
    assert choose_sizes(checked) == {}
    assert with_sizes(checked, {}) == checked


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.name for p in SAMPLE_FILES])
def test_samples_with_symbolic_dims_check_once(path: Path) -> None:
    """Every set of the sample's dims left without a value that still checks."""
    text = path.read_text()
    dims = _dims(text)
    for count in range(1, len(dims) + 1):
        for names in combinations(dims, count):
            variant = _without_values(text, names)
            if not _check(variant)[1]:  # a literal value needs its sizes' numbers
                _assert_one_run_suffices(variant)


def test_samples_are_tried_with_symbolic_dims() -> None:
    # Guards the test above against samples none of whose variants check
    # (softmax's has a literal value, which needs the numbers: E106).
    variants = [
        _without_values(text, tuple(_dims(text))) for text in (p.read_text() for p in SAMPLE_FILES)
    ]
    assert sum(1 for v in variants if not _check(v)[1]) >= 5


@pytest.mark.parametrize(
    "text",
    [
        # Distinct from each other and from every valued or literal size.
        "dim n, m, k = 3\ninput A[n, 2], B[m, n]\nparam w[m]\nL = B[i, j] A[j, q] w[i]\n",
        # A literal index along a symbolic dim raises its size.
        "dim n\nparam x[n]\nL = x[5] + x[i] x[i]\n",
        # Literal indices made by unrolling (`t` stands for 1..4).
        "dim n, h = 3\ninput X[n, h]\nfor t in 1..4:\n    y{t}[k] = X[t, k]\nL = y4[k] y4[k]\n",
        # Defined arrays, claims and derive requests carry the sizes too.
        "dim n, d\ninput X[n, d]\nparam w[d]\nY[i] = X[i, j] w[j]\nL = Y[i] Y[i]\n"
        "derive dL/dw, dY/dw\ndL/dw[j] = 2 Y[i] X[i, j]\n",
        # In denominator layout.
        "layout denominator\ndim n, d\ninput X[n, d]\nparam W[d, n]\nY[i, k] = X[i, j] W[j, k]\n"
        "dY/dW[p, q, i, k] = X[i, p] delta[k, q]\n",
        # A delta sized by a symbolic dim, and dims only some of which have values.
        "dim n, c = 2\nparam x[n], z[c]\ny[i, p] = delta[i, p] x[i]\nL = y[i, p] + z[1]\n",
    ],
)
def test_hand_written_cases_check_once(text: str) -> None:
    chosen = _assert_one_run_suffices(text)
    assert chosen


def test_literal_needs_raise_the_chosen_size() -> None:
    assert _assert_one_run_suffices("dim n\nparam x[n]\nL = x[5] + x[i] x[i]\n") == {"n": 5}


def test_sizes_given_on_the_command_line_are_not_chosen() -> None:
    text = "dim n, m\ninput A[n, m]\nL = A[i, j] A[i, j]\n"
    assert _assert_one_run_suffices(text, {"n": 2}) == {"m": 3}


def test_the_checker_records_each_literal_along_a_symbolic_dim() -> None:
    text = "dim n, d = 3\ninput X[n, d]\nL = X[4, 2] + X[i, j] X[i, j]\n"
    checked, errors = _check(text)
    assert errors == []
    [need] = checked.size_needs
    assert (need.dim, need.at_least, need.kind) == ("n", 4, "array")
    assert text[need.span.start : need.span.end] == "4"


def test_a_loop_over_a_symbolic_dim_is_an_error_before_any_choice() -> None:
    # So unrolling never depends on a chosen size: the loop never unrolls.
    _, errors = _check("dim T\ninput x[T]\nfor t in 1..T:\n    y{t} = x[t]\n")
    assert errors == ["E111"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("dim n\nparam x[n]\nL = x[i] x[i]\ndL/dx[p] = 2 x[p] + 0 * dL/dx[5]\n", "derivative"),
        ("dim n\nparam x[n]\ny[i] = x[i] delta[i, 4]\nL = y[i] y[i]\n", "delta"),
    ],
)
def test_literals_the_first_edition_missed(text: str, kind: str) -> None:
    """In a delta or a derivative reference: the first edition's sizes fail a second
    check (E203, one per unmet need); `choose_sizes` meets them."""
    checked, errors = _check(text)
    assert errors == []
    old = symbolic_sizes(checked)
    assert old == _first_edition_sizes(checked) == {"n": 2}
    unmet = unmet_needs(checked, old)
    assert [(n.dim, n.kind) for n in unmet] == [("n", kind)]
    assert _check(text, old)[1] == ["E203"] * len(unmet)
    chosen = choose_sizes(checked)
    assert chosen["n"] >= max(n.at_least for n in checked.size_needs)
    assert with_sizes(checked, chosen) == _check(text, chosen)[0]


def test_with_sizes_leaves_a_program_without_symbolic_dims_alone() -> None:
    checked, _ = _check("dim n = 3\nparam x[n]\nL = x[i] x[i]\n")
    assert choose_sizes(checked) == {}
    assert with_sizes(checked, {}) == checked


def test_unmet_needs_names_each_literal_out_of_range() -> None:
    checked, _ = _check("dim n\nparam x[n]\nL = x[3] + x[7] + x[i]\n")
    unmet = unmet_needs(checked, {"n": 5})
    assert [n.at_least for n in unmet] == [7]
    assert all(isinstance(n, SizeNeed) for n in unmet)
