"""The grammar of the syntax stage: `grammar/idx.lark` made into one LALR parser.

`parse.py` asks for `line_parser()` once per run; it is Lark's LALR parser over
the grammar of one statement, with `lexer.ScannerLexer` as its lexer and
`build.AstBuilder` embedded as its transformer.
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path

from lark import Lark

from shapecheck.syntax.build import AstBuilder
from shapecheck.syntax.lexer import ScannerLexer


def grammar_text() -> str:
    """The text of `grammar/idx.lark`, wherever the package was installed from."""
    # Installed: shipped inside the package by the wheel's force-include.
    # From a source checkout: the top-level grammar/ folder.
    packaged = resources.files("shapecheck").joinpath("grammar").joinpath("idx.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "idx.lark").read_text(
        encoding="utf-8"
    )


def _cache_file() -> str | bool:
    """Where Lark keeps the built LALR tables between runs.

    Building them takes ~0.15 s, loading them ~5 ms, which decides whether
    `shapecheck check` starts fast. The cache lives in the user's own cache
    folder (a pickle in a shared temporary folder could be planted by another
    user); Lark keys it by grammar and options and rebuilds on any change.
    Where no cache folder can be made, the tables are built every run.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "shapecheck")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False
    if not os.access(folder, os.W_OK):
        return False
    return os.path.join(folder, "idx-grammar.lark-cache")


@functools.lru_cache(maxsize=1)
def line_parser() -> tuple[Lark, AstBuilder]:
    """The parser of one logical line, and the builder it calls (to set its `offset`)."""
    builder = AstBuilder()
    parser = Lark(
        grammar_text(),
        parser="lalr",
        lexer=ScannerLexer,
        transformer=builder,
        maybe_placeholders=False,
        cache=_cache_file(),
    )
    return parser, builder
