"""The README and the docs stay true: examples, links, formats, the hook, the layout.

Every ```console block of the README is a terminal transcript: `$ shapecheck
...` and the output that command prints (standard output and standard error,
as a terminal shows them), optionally followed by `$ echo $?` and the exit
status. Each is run from the repository's root as a subprocess with
`NO_COLOR=1` and `COLUMNS=100` and compared line by line. Spaces at the ends
of lines (Rich pads table cells) and blank lines at the very end are not
compared: Markdown editors strip them.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

from shapecheck.cli import _OutputFormat

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
# A fence of three or more backticks, closed by the same run (a transcript of
# Markdown output holds ``` fences of its own inside a ```` fence).
_FENCE = re.compile(r"^(`{3,})(\w*)\n(.*?)^\1$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _transcripts() -> list[tuple[str, str, int | None]]:
    """(command, expected output, expected exit status or None) per console block."""
    found = []
    for match in _FENCE.finditer(_text(README)):
        if match.group(2) != "console":
            continue
        first, *rest = match.group(3).rstrip("\n").split("\n")
        assert first.startswith("$ shapecheck "), f"a console block runs shapecheck: {first}"
        status = None
        if len(rest) >= 2 and rest[-2] == "$ echo $?":
            status = int(rest[-1])
            rest = rest[:-2]
        found.append((first[2:], "\n".join(rest), status))
    return found


def _normal(output: str) -> str:
    return "\n".join(line.rstrip() for line in output.split("\n")).rstrip("\n")


def test_the_readme_has_transcripts() -> None:
    commands = [command for command, _, _ in _transcripts()]
    assert len(commands) >= 5
    assert any("--format github" in c for c in commands)
    assert any(c.startswith("shapecheck derive samples/affine.idx") for c in commands)


@pytest.mark.parametrize(("command", "expected", "status"), _transcripts())
def test_a_readme_example_is_the_real_output(
    command: str, expected: str, status: int | None
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"FORCE_COLOR", "CLICOLOR_FORCE"}}
    env.update(NO_COLOR="1", COLUMNS="100")
    argv = shlex.split(command)
    result = subprocess.run(
        [sys.executable, "-m", "shapecheck", *argv[1:]],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        env=env,
        check=False,
    )
    assert _normal(result.stdout) == _normal(expected)
    if status is not None:
        assert result.returncode == status


def test_install_comes_first_in_order() -> None:
    readme = _text(README)
    steps = [
        "python3 -m venv .venv && . .venv/bin/activate",
        'pip install ".[test]"',
        "shapecheck derive samples/affine.idx",
        "\npytest\n",
    ]
    places = [readme.find(step) for step in steps]
    assert -1 not in places and places == sorted(places)
    # Near the top: before anything about the language.
    assert places[-1] < readme.find("## What it reads")
    for words in ("shapecheck-idx", '".[notebook]"', "pip install ."):
        assert words in readme[: readme.find("## What it reads")]
    assert "\npytest\n" in _text(ROOT / ".ci" / "run")


def test_the_readme_names_every_format() -> None:
    readme = _text(README)
    for fmt in _OutputFormat:
        assert f"`{fmt.value}`" in readme, fmt.value
    for option in (
        "--emit numpy",
        "--fragment",
        "--report FORMAT=FILE",
        "--quiet",
        "--jobs",
        "--exclude",
        "--stdin-filename",
        "[tool.shapecheck]",
        "E020",
    ):
        assert option in readme, option


def test_the_readme_links_every_doc() -> None:
    linked = set(_links(README))
    for doc in DOCS:
        assert f"docs/{doc.name}" in linked, doc.name


def _links(path: Path) -> list[str]:
    prose = _CODE_SPAN.sub("", _FENCE.sub("", _text(path)))
    return [m.group(1) for m in _LINK.finditer(prose)]


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading."""
    words = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return words.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", _text(path))
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.MULTILINE)}


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: p.name)
def test_links_stay_in_the_repository_and_resolve(path: Path) -> None:
    assert "shared/" not in _text(path)
    for link in _links(path):
        if re.match(r"[a-z]+:", link):  # https:, mailto:
            continue
        target, _, anchor = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        assert file.is_relative_to(ROOT), link
        assert file.exists(), link
        if anchor:
            assert anchor in _anchors(file), link


def _hook() -> dict[str, str]:
    """.pre-commit-hooks.yaml, parsed strictly: one hook, `key: value` lines."""
    lines = _text(ROOT / ".pre-commit-hooks.yaml").splitlines()
    first, *rest = lines
    assert first.startswith("- id: ")
    hook = {"id": first.removeprefix("- id: ")}
    for line in rest:
        key, sep, value = line.removeprefix("  ").partition(": ")
        assert line.startswith("  ") and sep and re.fullmatch(r"[a-z_]+", key), line
        assert key not in hook
        hook[key] = value
    return hook


def test_the_pre_commit_hook() -> None:
    hook = _hook()
    assert hook == {
        "id": "shapecheck",
        "name": "shapecheck",
        "description": hook["description"],
        "entry": "shapecheck check",
        "language": "python",
        "files": r"\.idx$",
        "require_serial": "false",
    }
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        parsed = yaml.safe_load(_text(ROOT / ".pre-commit-hooks.yaml"))
        assert parsed == [{**hook, "require_serial": False}]
    pattern = re.compile(hook["files"])
    assert pattern.search("hw/affine.idx") and not pattern.search("affine.idx.bak")
    assert '\nshapecheck = "shapecheck.cli:main"\n' in _text(ROOT / "pyproject.toml")
    assert "- id: shapecheck" in _text(ROOT / "docs" / "ci.md")


@pytest.mark.parametrize(
    ("files", "status"),
    [(["affine.idx", "dot.idx"], 0), (["dot.idx", "mistakes/wrong_rank.idx"], 1)],
)
def test_the_hook_runs_as_pre_commit_runs_it(files: list[str], status: int) -> None:
    """pre-commit runs the entry followed by the staged files' names."""
    entry = shlex.split(_hook()["entry"])
    result = subprocess.run(
        [sys.executable, "-m", "shapecheck", *entry[1:], *(f"samples/{f}" for f in files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert result.returncode == status, result.stderr


def _architecture_rows() -> dict[str, str]:
    """The package table of docs/architecture.md: {first cell: the rest of the row}."""
    rows = {}
    for line in _text(ROOT / "docs" / "architecture.md").splitlines():
        cells = line.split(" | ", 1)
        if line.startswith("| `") and len(cells) == 2:
            rows[cells[0].removeprefix("| ")] = cells[1]
    return rows


def test_the_architecture_names_every_module_and_only_modules_that_exist() -> None:
    package = ROOT / "shapecheck"
    named: set[Path] = set()
    for first, rest in _architecture_rows().items():
        folder = re.fullmatch(r"`(\w+)/`", first)
        where = package / folder.group(1) if folder else package
        for name in re.findall(r"`(\w+\.py)`", first + rest):
            assert (where / name).is_file(), f"{first}: {name}"
            named.add(where / name)
    every = {p for p in package.rglob("*.py") if p.name != "__init__.py" or p.parent == package}
    assert sorted(every - named) == []
