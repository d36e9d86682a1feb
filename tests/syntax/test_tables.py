"""The committed parse tables: in step with the grammar, Lark's own parse, and no pickle."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedToken
from support import sample_lines

from shapecheck.syntax import _tables
from shapecheck.syntax.grammar import grammar_text
from shapecheck.syntax.lalr import LineParser, Rejected
from shapecheck.syntax.lexer import NoTerminal
from shapecheck.syntax.lexer import Token as OurToken
from shapecheck.syntax.tables import generate

ROOT = Path(__file__).resolve().parents[2]


def test_committed_tables_are_the_grammars_own() -> None:
    # If this fails, run `python -m shapecheck.syntax.tables --write`.
    assert generate() == Path(_tables.__file__).read_text(encoding="utf-8")


class _TreeBuilder:
    """Builds Lark's own tree shape, as plain tuples, to compare the two parsers."""

    def __getattr__(self, name: str) -> Any:
        return lambda children: (name, *children)


def _ours(text: str) -> object:
    try:
        return _shape(_PARSER.parse(text))
    except NoTerminal as error:
        return ("no terminal", error.position)
    except Rejected as error:
        return ("rejected", error.token.type, error.token.start_pos, sorted(error.expected))


def _larks(text: str) -> object:
    try:
        return _shape(_LARK.parse(text))
    except UnexpectedCharacters as error:
        return ("no terminal", error.pos_in_stream)
    except UnexpectedToken as error:
        start = len(text) if error.token.type == "$END" else error.token.start_pos
        return ("rejected", error.token.type, start, sorted(error.expected))


def _shape(node: Any) -> object:
    if isinstance(node, Tree):
        return (node.data, *(_shape(child) for child in node.children))
    if isinstance(node, Token | OurToken):
        return (node.type, node.value, node.start_pos, node.end_pos)
    if isinstance(node, tuple):
        return (node[0], *(_shape(child) for child in node[1:]))
    raise AssertionError(node)


_PARSER = LineParser(_TreeBuilder())
_LARK = Lark(grammar_text(), parser="lalr", lexer="basic", maybe_placeholders=False)


@pytest.mark.parametrize(
    "text",
    [
        *sample_lines(),
        "dim n = 2^3 * 4, d",
        "param W[d, 3] positive = [[1, -2], [3, 4.5]]",
        "derive dL/dW, dL/db",
        "for t in 1..n:",
        "y = ",
        "y[i = x[i]",
        "y = a b c (d) -e",
        "derive dL / dW",
        "y = 2.",
        "sum = 3",
        "y = x[i]]",
    ],
)
def test_same_parse_and_same_rejections_as_lark(text: str) -> None:
    assert _ours(text) == _larks(text)


# Any run of the language's words and symbols: mostly nonsense, so that the
# two parsers are compared on rejections as much as on parses.
_WORDS = ["x", "W", "[", "]", "(", ")", ",", "i", "2", "+", "-", "*", "/", "^", "=", "tanh"]
_WORDS += ["sum", "delta", "dA/dB", "loss", "dim", "param", "for", "in", "..", ":", "$", "."]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=14))
def test_same_parse_as_lark_for_any_words(words: list[str]) -> None:
    text = " ".join(words) or "x"
    assert _ours(text) == _larks(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_WORDS[:16]), max_size=14))
def test_same_parse_as_lark_for_definitions(words: list[str]) -> None:
    text = "y[i] = " + " ".join(words)
    assert _ours(text) == _larks(text)


class _Plant:
    """Unpickling this creates the file at `marker`: what a planted cache could do."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"open({self.marker!r}, 'w').close()",))


def test_a_pickle_planted_in_the_old_cache_is_never_loaded(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    payload = b"0" * 64 + b"\n" + pickle.dumps(_Plant(str(marker))) * 2
    for base in (tmp_path / "xdg", tmp_path / "home" / ".cache"):
        (base / "shapecheck").mkdir(parents=True)
        (base / "shapecheck" / "idx-grammar.lark-cache").write_bytes(payload)
    sample = tmp_path / "one.idx"
    sample.write_text("dim n = 2\nparam a[n]\nL = a[i] a[i]\n", encoding="utf-8")
    env = {
        **os.environ,
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path),
    }
    run = subprocess.run(
        [sys.executable, "-m", "shapecheck", "check", str(sample)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert not marker.exists()


def test_a_check_run_never_imports_lark() -> None:
    code = (
        "import sys\n"
        "from shapecheck.pipeline import Options, analyze_source\n"
        "from shapecheck.source import Source\n"
        "analyze_source(Source('a.idx', 'dim n = 2\\nparam a[n]\\nL = a[i] a[i]\\n'), Options())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'lark'))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
