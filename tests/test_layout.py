"""The layout's limits (design.md): no function over cyclomatic complexity 15
and no class over about 200 lines anywhere in the package, measured with radon,
so that a new feature lands as a module or a function, not as a branch in a
500-line class."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from radon.complexity import cc_visit

PACKAGE = Path(__file__).resolve().parent.parent / "shapecheck"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_COMPLEXITY = 15
MAX_CLASS_LINES = 200


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_is_too_complex(path: Path) -> None:
    blocks = cc_visit(path.read_text(encoding="utf-8"))
    functions = [b for b in blocks if type(b).__name__ == "Function"]
    functions += [m for b in blocks if type(b).__name__ == "Class" for m in b.methods]
    too_complex = [(f.name, f.complexity) for f in functions if f.complexity > MAX_COMPLEXITY]
    assert too_complex == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_class_is_too_long(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        (node.name, (node.end_lineno or node.lineno) - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_CLASS_LINES
    ]
    assert long == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_says_its_place(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path.name} has no module docstring"
