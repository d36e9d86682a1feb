"""The IPython extension: the magic line, and the cell magic in a real shell."""

from __future__ import annotations

import subprocess
import sys

import pytest

import shapecheck
from shapecheck import notebook

CELL = "dim n, d = 3\ninput X[n, d]\nparam w[d]\ny[i] = X[i, j] w[j]\nL = y[i] y[i]\n"
BROKEN = "dim n, d = 3\ninput X[n, d]\nparam w[n]\ny[i] = X[i, j] w[j]\n"


def test_the_magic_line_reads_like_the_command_line() -> None:
    asked = notebook.parse_line("--size n=4 --size=d=2 --no-verify --seed 7 --layout denominator")
    assert asked == notebook.MagicLine(
        sizes=(("n", 4), ("d", 2)), layout="denominator", verify=False, seed=7
    )
    assert notebook.parse_line("") == notebook.MagicLine()
    for bad in ("--size n", "--size", "--layout sideways", "--seed x", "--frobnicate", "'"):
        with pytest.raises(notebook.MagicLineError):
            notebook.parse_line(bad)


def test_errors_point_into_the_cell() -> None:
    text = notebook.cell_markdown("", BROKEN)
    assert "`cell:4:18` **error\\[E201\\]**" in text


def test_the_command_line_never_imports_ipython() -> None:
    code = (
        "import sys, shapecheck.cli, shapecheck.notebook, shapecheck.render.markdown;"
        "assert 'IPython' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def shell():  # type: ignore[no-untyped-def]
    pytest.importorskip("IPython")
    from IPython.testing.globalipapp import get_ipython

    ip = get_ipython()
    notebook.load_ipython_extension(ip)
    return ip


def test_the_cell_magic_shows_markdown_with_math(shell) -> None:  # type: ignore[no-untyped-def]
    from IPython.display import Markdown

    shown = shell.run_cell_magic("shapecheck", "--size n=4", CELL)
    assert isinstance(shown, Markdown)
    assert "$y_{i} = \\sum_{j} X_{i,j} w_{j}$" in shown.data
    assert "$n \\times d = 4 \\times 3$" in shown.data
    assert "✓ rel" in shown.data  # verified numerically
    markdown_it = pytest.importorskip("markdown_it")
    dollarmath = pytest.importorskip("mdit_py_plugins.dollarmath")
    parser = markdown_it.MarkdownIt("commonmark").enable("table").use(dollarmath.dollarmath_plugin)
    kinds = {t.type for t in parser.parse(shown.data)}
    assert {"table_open", "fence"} <= kinds


def test_the_cell_magic_locates_errors(shell) -> None:  # type: ignore[no-untyped-def]
    shown = shell.run_cell_magic("shapecheck", "--no-verify", BROKEN)
    assert "`cell:4:18`" in shown.data and "E201" in shown.data


def test_a_bad_magic_line_is_a_usage_error(shell) -> None:  # type: ignore[no-untyped-def]
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="--size"):
        shell.run_cell_magic("shapecheck", "--size n", CELL)


@pytest.mark.skipif(
    not hasattr(shapecheck, "load_ipython_extension"),
    reason="shapecheck/__init__.py does not forward load_ipython_extension yet",
)
def test_load_ext_registers_the_magic(shell) -> None:  # type: ignore[no-untyped-def]
    shell.run_line_magic("load_ext", "shapecheck")
    assert "shapecheck" in shell.magics_manager.magics["cell"]
