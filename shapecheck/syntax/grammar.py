"""The grammar of the syntax stage: the text of `grammar/idx.lark`.

Only `tables.py` (which computes the parse tables from it at build time) and
the tests read it; a run parses with the tables in `_tables.py`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


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
