"""`[tool.shapecheck]` in pyproject.toml: a course's settings, read and validated.

Each checked file takes the table of the nearest pyproject.toml above it that
has one (as ruff finds `[tool.ruff]`), so one course repository can hold
folders with their own settings; command-line options override it. Every key
is checked here, once per pyproject.toml: an unknown key or a wrong type is a
problem with the command (exit 2) naming the file and the key, before any
`.idx` file is analysed. docs/ci.md documents every key.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shapecheck.run.usage import UsageProblem

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass

_LAYOUTS = ("numerator", "denominator")
_MAX_SIZE = 2**31 - 1


@dataclass(frozen=True)
class Config:
    """One `[tool.shapecheck]` table; the defaults are those of an empty table.

    `None` means "not set here": the command line or the built-in default decides.
    """

    path: Path | None = None  # the pyproject.toml it came from
    rtol: float | None = None
    atol: float | None = None
    seed: int | None = None
    sizes: tuple[tuple[str, int], ...] = ()
    strict: bool | None = None
    layout: str | None = None
    exclude: tuple[str, ...] = ()
    allow_ignore: bool = True
    # Grading, for the autograder formats: points per claim label, a
    # default for claims not listed, and the claims a file must contain.
    points: tuple[tuple[str, float], ...] = ()
    default_points: float | None = None
    required_claims: tuple[str, ...] = ()

    @property
    def folder(self) -> Path | None:
        return self.path.parent if self.path is not None else None

    def points_of(self, label: str) -> float | None:
        """The points a claim with this label is worth, or None when ungraded."""
        return dict(self.points).get(label, self.default_points)


DEFAULT = Config()


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _problem(where, f"expected a finite number, not {value!r}")
    return float(value)


def _tolerance(where: str, value: Any) -> float:
    number = _number(where, value)
    if number < 0:
        raise _problem(where, f"expected a number >= 0, not {value!r}")
    return number


def _seed(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _problem(where, f"expected a whole number >= 0, not {value!r}")
    return value


def _bool(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _problem(where, f"expected true or false, not {value!r}")
    return value


def _layout(where: str, value: Any) -> str:
    if value not in _LAYOUTS:
        raise _problem(where, f'expected "numerator" or "denominator", not {value!r}')
    return str(value)


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _problem(where, f"expected a list of non-empty strings, not {value!r}")
    return tuple(value)


def _sizes(where: str, value: Any) -> tuple[tuple[str, int], ...]:
    if not isinstance(value, dict):
        raise _problem(where, f"expected a table such as {{ n = 4 }}, not {value!r}")
    sizes = []
    for name, size in value.items():
        if not name.isidentifier():
            raise _problem(f"{where}.{name}", "expected a dim name")
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= _MAX_SIZE:
            raise _problem(f"{where}.{name}", f"expected a whole number 1..{_MAX_SIZE}")
        sizes.append((name, size))
    return tuple(sizes)


def _points(where: str, value: Any) -> tuple[tuple[tuple[str, float], ...], float | None]:
    """`points = 1` (every claim) or `points = { "dL/dW" = 2, default = 1 }`."""
    if not isinstance(value, dict):
        return (), _tolerance(where, value)
    table = {label: _tolerance(f'{where}."{label}"', v) for label, v in value.items()}
    default = table.pop("default", None)
    return tuple(table.items()), default


_Reader = Callable[[str, Any], Any]
# key -> (field of Config, reader)
_KEYS: dict[str, tuple[str, _Reader]] = {
    "rtol": ("rtol", _tolerance),
    "atol": ("atol", _tolerance),
    "seed": ("seed", _seed),
    "sizes": ("sizes", _sizes),
    "strict": ("strict", _bool),
    "layout": ("layout", _layout),
    "exclude": ("exclude", _strings),
    "allow-ignore": ("allow_ignore", _bool),
    "required-claims": ("required_claims", _strings),
}


class _ConfigProblem(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")


def _problem(where: str, message: str) -> _ConfigProblem:
    return _ConfigProblem(where, message)


def parse_table(path: Path, table: Mapping[str, Any]) -> Config:
    """The validated configuration of one `[tool.shapecheck]` table."""
    values: dict[str, Any] = {"path": path}
    try:
        for key, value in table.items():
            where = f"[tool.shapecheck] {key}"
            if key == "points":
                values["points"], values["default_points"] = _points(where, value)
            elif key in _KEYS:
                name, reader = _KEYS[key]
                values[name] = reader(where, value)
            else:
                known = ", ".join(sorted([*_KEYS, "points"]))
                raise _problem(where, f"unknown key (known keys: {known})")
    except _ConfigProblem as problem:
        raise UsageProblem(f"{path}: {problem}") from None
    return Config(**values)


def load(path: Path) -> Config | None:
    """The `[tool.shapecheck]` table of one pyproject.toml, or None if it has none."""
    # Imported here: a run with no pyproject.toml on the way up reads no TOML.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise UsageProblem(f"{path}: cannot read it: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageProblem(f"{path}: not valid TOML: {error}") from None
    tool = document.get("tool", {})
    table = tool.get("shapecheck") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise UsageProblem(f"{path}: [tool.shapecheck] must be a table")
    return parse_table(path, table)


class ConfigFinder:
    """The configuration of each file: its folder's nearest `[tool.shapecheck]`.

    Answers are remembered per folder, so a thousand files in one folder read
    their pyproject.toml once.
    """

    def __init__(self) -> None:
        self._by_folder: dict[Path, Config] = {}

    def for_file(self, path: Path | None) -> Config:
        if path is None:  # standard input: the current folder's
            return self.for_folder(Path.cwd())
        return self.for_folder(path.absolute().parent)

    def for_folder(self, folder: Path) -> Config:
        if folder in self._by_folder:
            return self._by_folder[folder]
        candidate = folder / "pyproject.toml"
        found = load(candidate) if candidate.is_file() else None
        if found is None:
            parent = folder.parent
            found = DEFAULT if parent == folder else self.for_folder(parent)
        self._by_folder[folder] = found
        return found

    def excludes(self, path: Path) -> bool:
        """Whether the file's configuration leaves it out (`exclude`)."""
        from shapecheck.run.globs import excluded

        config = self.for_file(path)
        if not config.exclude or config.folder is None:
            return False
        try:
            relative = path.absolute().relative_to(config.folder)
        except ValueError:
            return False
        return excluded(relative, config.exclude)
