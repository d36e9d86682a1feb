"""The LaTeX report, read back by a LaTeX parser: the document and every
formula parse, environments balance, and the formulas say what the notes say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shapecheck.pipeline import FileReport, Options, analyze_path, analyze_source
from shapecheck.render import latex
from shapecheck.render import math as latex_math
from shapecheck.source import Source

latexwalker = pytest.importorskip("pylatexenc.latexwalker")

ROOT = Path(__file__).resolve().parents[2]
FILES = (
    sorted((ROOT / "samples").glob("*.idx"))
    + sorted((ROOT / "samples/mistakes").glob("*.idx"))
    + sorted((ROOT / "samples/course").glob("*.idx"))
)


@pytest.fixture(scope="module")
def reports() -> dict[Path, FileReport]:
    return {path: analyze_path(path, Options()) for path in FILES}


def _walk(nodes: list[object]) -> list[object]:
    out: list[object] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(getattr(node, "nodelist", None) or [])
    return out


def _parse(document: str) -> list[object]:
    nodes, _, _ = latexwalker.LatexWalker(document, tolerant_parsing=False).get_latex_nodes()
    return _walk(nodes)


def _balanced(document: str) -> None:
    stack: list[str] = []
    for kind, name in re.findall(r"\\(begin|end)\{([^}]*)\}", document):
        if kind == "begin":
            stack.append(name)
        else:
            assert stack and stack.pop() == name
    assert stack == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_document_parses_and_balances(path: Path, reports: dict) -> None:
    document = latex.render([reports[path]], strict=False)
    assert document.startswith("\\documentclass{article}\n")
    assert document.endswith("\\end{document}\n")
    nodes = _parse(document)
    _balanced(document)
    environments = [n for n in nodes if n.isNodeType(latexwalker.LatexEnvironmentNode)]  # type: ignore[attr-defined]
    names = {e.environmentname for e in environments}  # type: ignore[attr-defined]
    assert "document" in names
    # Every formula parses on its own too.
    for node in nodes:
        if node.isNodeType(latexwalker.LatexMathNode):  # type: ignore[attr-defined]
            _parse(node.latex_verbatim())  # type: ignore[attr-defined]
    for environment in environments:
        if environment.environmentname == "align*":  # type: ignore[attr-defined]
            body = environment.latex_verbatim()  # type: ignore[attr-defined]
            for line in body.split("\\\\\n"):
                assert line.count("&=") == 1
    report = reports[path]
    assert document.count("\\paragraph{$\\frac") == len(report.derivatives)


def test_a_fragment_has_no_preamble(reports: dict) -> None:
    report = reports[ROOT / "samples" / "affine.idx"]
    fragment = latex.render([report], strict=False, fragment=True)
    assert "\\documentclass" not in fragment and "\\begin{document}" not in fragment
    _parse(fragment)
    _balanced(fragment)


def test_the_derivatives_read_as_in_the_notes(reports: dict) -> None:
    document = latex.render([reports[ROOT / "samples" / "affine.idx"]], strict=False)
    assert (
        "\\frac{\\partial L}{\\partial W_{j,k}} &= "
        "\\sum_{i} X_{i,j} \\frac{\\partial L}{\\partial Y_{i,k}}"
    ) in document
    assert "\\frac{\\partial Y_{i,k}}{\\partial X_{p,q}} &= W_{q,k} \\delta_{i,p}" in document
    assert "Y_{i,k} &= \\sum_{j} X_{i,j} W_{j,k} + b_{k}" in document
    # An adjoint of a matrix by a vector: P's indices on top, S's below (the
    # softmax sample's dP/dS, a quotient with a delta, is written out now).
    scaled = analyze_source(
        Source(
            "scaled.idx",
            "dim n = 3, c = 2\ninput Z[n, c]\nS[i] = Z[i, e]^2\n"
            "P[i, k] = Z[i, k] S[i]\nderive dP/dZ\n",
        ),
        Options(),
    )
    assert "\\frac{\\partial P_{i,k}}{\\partial S_{r}} &= " in latex.render([scaled], strict=False)


def test_user_text_is_escaped() -> None:
    nasty = "a_b{c}$%#&~^\\d--e ✓ ☃"
    shown = latex.text(nasty)
    nodes = _parse(shown)
    # Only the empty groups that end `\\textbackslash{}` and the like; no user braces.
    groups = [n for n in nodes if n.isNodeType(latexwalker.LatexGroupNode)]  # type: ignore[attr-defined]
    assert all(not g.nodelist for g in groups)  # type: ignore[attr-defined]
    math = [n for n in nodes if n.isNodeType(latexwalker.LatexMathNode)]  # type: ignore[attr-defined]
    assert [m.latex_verbatim() for m in math] == ["$\\checkmark$"]  # type: ignore[attr-defined]
    assert "{}-" in shown and "[U+2603]" in shown
    report = analyze_source(Source("odd_$name%.idx", "param x_1\ny = x_1 x_1\n"), Options())
    document = latex.render([report], strict=False)
    _parse(document)
    assert "\\mathit{x\\_1}" in document


def test_names_in_math() -> None:
    assert latex_math.name("W") == "W"
    assert latex_math.name("W1") == "\\mathit{W1}"
    assert latex_math.name("x_0") == "\\mathit{x\\_0}"
    assert latex_math.subscript(["i", "k"]) == "_{i,k}"


def test_the_same_input_gives_the_same_bytes(reports: dict) -> None:
    path = ROOT / "samples" / "mlp.idx"
    again = analyze_path(path, Options())
    assert latex.render([reports[path]], strict=False) == latex.render([again], strict=False)
