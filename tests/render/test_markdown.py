"""The Markdown report, read back by a Markdown parser: tables are tables,
every `$…$` is a math span that parses as LaTeX, and the Mermaid graph has
a node per array and an edge per use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shapecheck.pipeline import FileReport, Options, analyze_path, analyze_source
from shapecheck.render import markdown
from shapecheck.source import Source

markdown_it = pytest.importorskip("markdown_it")
dollarmath = pytest.importorskip("mdit_py_plugins.dollarmath")
latexwalker = pytest.importorskip("pylatexenc.latexwalker")

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").glob("*.idx")) + sorted((ROOT / "samples/course").glob("*.idx"))
MISTAKES = sorted((ROOT / "samples" / "mistakes").glob("*.idx"))


def _parser() -> object:
    # GitHub's rules: no space just inside the dollars, `$5` is money.
    return (
        markdown_it.MarkdownIt("commonmark")
        .enable("table")
        .use(dollarmath.dollarmath_plugin, allow_space=False, allow_digits=False)
    )


def _inline(tokens: list[object]) -> list[object]:
    out = []
    for token in tokens:
        out.append(token)
        out.extend(getattr(token, "children", None) or [])
    return out


def _report(path: Path) -> FileReport:
    return analyze_path(path, Options())


@pytest.fixture(scope="module")
def reports() -> dict[Path, FileReport]:
    return {path: _report(path) for path in SAMPLES + MISTAKES}


def _check_document(document: str) -> list[object]:
    tokens = _inline(_parser().parse(document))  # type: ignore[attr-defined]
    math = [t for t in tokens if t.type == "math_inline"]  # type: ignore[attr-defined]
    for span in math:
        latexwalker.LatexWalker(span.content, tolerant_parsing=False).get_latex_nodes()
        assert "|" not in span.content
    # No math was left as text: every `$` outside code is escaped or a delimiter.
    for token in tokens:
        if token.type == "text":  # type: ignore[attr-defined]
            assert "$" not in token.content, token.content  # type: ignore[attr-defined]
    # Every unescaped `$` of the source opened or closed a math span.
    prose = re.sub(r"(?s)```.*?```|~~~.*?~~~", "", document)
    prose = re.sub(r"(?<!\\)(`+).*?(?<!`)\1(?!`)", "", prose)  # code spans
    dollars = len(re.findall(r"(?<!\\)\$", prose))
    assert dollars == 2 * len(math)
    return tokens


def _tables(tokens: list[object]) -> list[list[list[str]]]:
    """Each table as rows of cells, each cell its inline source."""
    tables: list[list[list[str]]] = []
    row: list[str] = []
    inside = False
    for token in tokens:
        kind = token.type  # type: ignore[attr-defined]
        if kind in ("table_open", "table_close"):
            inside = kind == "table_open"
            tables += [[]] if inside else []
        elif kind == "tr_open":
            row = []
        elif kind == "inline" and inside:
            row.append(token.content)  # type: ignore[attr-defined]
        elif kind == "tr_close":
            tables[-1].append(row)
    return tables


@pytest.mark.parametrize("path", SAMPLES + MISTAKES, ids=lambda p: p.name)
def test_each_file_parses_with_tables_and_math(path: Path, reports: dict) -> None:
    report = reports[path]
    document = markdown.render([report], strict=False, detailed=True)
    tokens = _check_document(document)
    tables = _tables(tokens)
    checked = report.checked
    if checked is not None and checked.arrays:
        arrays = tables[0]
        assert arrays[0] == ["array", "kind", "shape", "notes"]
        assert len(arrays) == len(checked.arrays) + 1
        for row, array in zip(arrays[1:], checked.arrays, strict=True):
            assert row[0].startswith("$") and row[1] == array.kind
    for table in tables:
        assert all(len(row) == len(table[0]) for row in table)
    for problem in report.diagnostics:
        assert problem.code in document


def _mermaid(tokens: list[object]) -> tuple[dict[str, str], set[tuple[str, str]]]:
    blocks = [t for t in tokens if t.type == "fence" and t.info == "mermaid"]  # type: ignore[attr-defined]
    assert len(blocks) == 1
    lines = blocks[0].content.splitlines()  # type: ignore[attr-defined]
    assert lines[0] == "graph TD"
    nodes: dict[str, str] = {}
    edges: set[tuple[str, str]] = set()
    for line in lines[1:]:
        node = re.fullmatch(r'  (\w+)\["(\w+) : (.+)"\]', line)
        edge = re.fullmatch(r"  (\w+) --> (\w+)", line)
        assert node or edge, line
        if node:
            nodes[node[1]] = node[2]
        else:
            assert edge is not None
            edges.add((nodes[edge[1]], nodes[edge[2]]))
    return nodes, edges


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_the_graph_has_every_definition_and_use(path: Path, reports: dict) -> None:
    report = reports[path]
    checked = report.checked
    assert checked is not None
    tokens = _check_document(markdown.render([report], strict=False))
    nodes, edges = _mermaid(tokens)
    assert sorted(nodes.values()) == sorted(a.name for a in checked.arrays)
    expected = {(used, d.name) for d in checked.definitions for used in d.depends_on}
    assert edges == expected
    assert expected  # every sample defines something from something


def test_a_run_opens_with_a_summary_table(reports: dict) -> None:
    chosen = [reports[p] for p in SAMPLES + MISTAKES]
    document = markdown.render(chosen, strict=False)
    tokens = _check_document(document)
    summary = _tables(tokens)[0]
    assert summary[0] == ["file", "status", "errors", "warnings", "claims"]
    assert len(summary) == len(chosen) + 1
    for row, report in zip(summary[1:], chosen, strict=True):
        assert row[0] == f"`{report.source.name}`"
        assert row[1] == ("✗ failed" if report.errors else "✓ ok")
        assert row[2] == str(report.errors)
    assert document.count("<details>") == sum(1 for r in chosen if r.checked and r.checked.arrays)


def test_hostile_names_stay_text() -> None:
    text = "param W[3, 3]\nL = W[i, j] W[i, j]\n"
    report = analyze_source(Source("a|b$c$`d`*e*<x>.idx", text), Options(verify=False))
    other = analyze_source(Source("plain.idx", text), Options(verify=False))
    document = markdown.render([report, other], strict=False)
    tokens = _check_document(document)
    summary = _tables(tokens)[0]
    assert len(summary) == 3 and all(len(row) == 5 for row in summary)
    assert "a|b$c$`d`*e*<x>.idx" in summary[1][0]
    assert not [t for t in tokens if t.type in ("html_inline", "em_open")]  # type: ignore[attr-defined]


def test_messages_keep_their_names_as_code() -> None:
    assert markdown._message("index `j` has two sizes") == "index `j` has two sizes"
    assert markdown.code("a`b") == "``a`b``"
    assert markdown.text("$x$ | *y*") == r"\$x\$ \| \*y\*"


def test_the_same_input_gives_the_same_bytes(reports: dict) -> None:
    report = reports[ROOT / "samples" / "softmax.idx"]
    again = _report(ROOT / "samples" / "softmax.idx")
    first = markdown.render([report], strict=False, detailed=True)
    assert first == markdown.render([again], strict=False, detailed=True)
