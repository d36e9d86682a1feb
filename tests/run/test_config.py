"""`[tool.shapecheck]`: found like ruff finds `[tool.ruff]`, every key validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from shapecheck.pipeline import Options
from shapecheck.run.config import DEFAULT, Config, ConfigFinder, parse_table
from shapecheck.run.plan import Given, options_for
from shapecheck.run.usage import UsageProblem

FULL = """
[tool.shapecheck]
rtol = 1e-4
atol = 0
seed = 7
sizes = { n = 4, d = 2 }
strict = true
layout = "denominator"
exclude = ["drafts", "old/*.idx"]
allow-ignore = false
points = { "dL/dW" = 3, default = 1 }
required-claims = ["dL/dW", "dL/db"]
"""


def test_every_key_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(FULL)
    config = ConfigFinder().for_file(tmp_path / "a.idx")
    assert config == Config(
        path=tmp_path / "pyproject.toml",
        rtol=1e-4,
        atol=0.0,
        seed=7,
        sizes=(("n", 4), ("d", 2)),
        strict=True,
        layout="denominator",
        exclude=("drafts", "old/*.idx"),
        allow_ignore=False,
        points=(("dL/dW", 3.0),),
        default_points=1.0,
        required_claims=("dL/dW", "dL/db"),
    )
    assert config.points_of("dL/dW") == 3.0
    assert config.points_of("dL/dX") == 1.0


def test_the_nearest_table_wins_and_tableless_files_are_passed_over(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.shapecheck]\nseed = 1\n")
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "a" / "b" / "pyproject.toml").write_text("[tool.shapecheck]\nseed = 2\n")
    finder = ConfigFinder()
    assert finder.for_file(tmp_path / "a" / "x.idx").seed == 1
    assert finder.for_file(tmp_path / "a" / "b" / "x.idx").seed == 2


def test_points_may_be_one_number_for_every_claim() -> None:
    config = parse_table(Path("p.toml"), {"points": 2})
    assert config.points_of("dL/dW") == 2.0


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"rtoll": 1}, r"p\.toml: \[tool\.shapecheck\] rtoll: unknown key"),
        ({"rtol": "small"}, r"\[tool\.shapecheck\] rtol: expected a finite number"),
        ({"rtol": -1}, r"rtol: expected a number >= 0"),
        ({"seed": True}, r"seed: expected a whole number"),
        ({"strict": "yes"}, r"strict: expected true or false"),
        ({"layout": "sideways"}, r"layout: expected \"numerator\" or \"denominator\""),
        ({"sizes": {"n": 0}}, r"sizes\.n: expected a whole number"),
        ({"sizes": [4]}, r"sizes: expected a table"),
        ({"exclude": "drafts"}, r"exclude: expected a list of non-empty strings"),
        ({"allow-ignore": 1}, r"allow-ignore: expected true or false"),
        ({"points": {"dL/dW": "many"}}, r'points\."dL/dW": expected a finite number'),
        ({"required-claims": [1]}, r"required-claims: expected a list"),
    ],
)
def test_wrong_keys_and_types_name_the_file_and_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(UsageProblem, match=message):
        parse_table(Path("p.toml"), table)


def test_invalid_toml_is_a_usage_problem(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.shapecheck\n")
    with pytest.raises(UsageProblem, match=r"pyproject\.toml: not valid TOML"):
        ConfigFinder().for_file(tmp_path / "a.idx")


def test_the_command_line_overrides_the_configuration() -> None:
    config = Config(
        rtol=1e-3, seed=5, sizes=(("n", 4), ("d", 2)), strict=True, layout="denominator"
    )
    base = Options(sizes=(("n", 9),), rtol=1e-6, seed=0)
    merged = options_for(base, Given(rtol=True), config)
    assert merged.rtol == 1e-6  # given
    assert merged.seed == 5  # from the configuration
    assert dict(merged.sizes) == {"n": 9, "d": 2}
    assert merged.strict is True
    assert merged.layout == "denominator"
    assert options_for(base, Given(), DEFAULT) == base


def test_config_exclude_is_relative_to_its_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.shapecheck]\nexclude = ["old/*.idx"]\n')
    finder = ConfigFinder()
    assert finder.excludes(tmp_path / "old" / "a.idx")
    assert not finder.excludes(tmp_path / "new" / "a.idx")
