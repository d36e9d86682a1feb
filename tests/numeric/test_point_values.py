"""A derivative's value where the file fixes every value it depends on
(numeric/point.py): shown in text, JSON and Markdown, never where a value is
drawn, and equal to numbers computed independently of the derivation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from support import SAMPLES, run
from typer.testing import CliRunner

from shapecheck.cli import app
from shapecheck.numeric.point import point_value
from shapecheck.numeric.verdicts import PointValue

TANH = (
    "param x[3] = [0.5, -1, 2]\nparam w[3] = [1, 2, 3]\nL = tanh(x[i] w[i])\nderive dL/dx, dL/dw\n"
)


def test_the_determinant_sample_shows_the_cofactor_matrix() -> None:
    report = run((SAMPLES / "determinant.idx").read_text(encoding="utf-8"))
    (result,) = report.derivatives
    assert result.check is not None and result.check.value is not None
    # The cofactor matrix of [[3, 2], [6, -4]], by hand: [[d, -c], [-b, a]].
    assert result.check.value.nested() == [[-4.0, -6.0], [-2.0, 3.0]]


def test_values_match_a_hand_written_gradient() -> None:
    report = run(TANH)
    x, w = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 3.0])
    slope = 1 - np.tanh(x @ w) ** 2
    expected = {"dL/dx": slope * w, "dL/dw": slope * x}
    for result in report.derivatives:
        assert result.check is not None and result.check.value is not None
        shown = np.array(result.check.value.nested())
        np.testing.assert_allclose(shown, expected[result.derivation.label], rtol=1e-12)


def test_nothing_is_shown_where_a_value_is_drawn() -> None:
    report = run("param x[3] = [0.5, -1, 2]\nparam w[3]\nL = tanh(x[i] w[i])\nderive dL/dx\n")
    (result,) = report.derivatives
    assert result.check is not None and result.check.value is None


def test_an_unused_drawn_array_does_not_hide_the_value() -> None:
    text = "param x[2] = [1, 2]\nparam z[2]\nL = x[i] x[i]\nM = z[i]\nderive dL/dx\n"
    (result,) = run(text).derivatives
    assert result.check is not None and result.check.value is not None
    assert result.check.value.nested() == [2.0, 4.0]


def test_a_drawn_upstream_gradient_hides_the_value_until_at_gives_it(tmp_path: Path) -> None:
    text = "param x[2] = [1, 2]\ny[i] = x[i]^2\nL = loss(y)\nderive dL/dx\n"
    (result,) = run(text).derivatives
    assert result.check is not None and result.check.value is None
    at = tmp_path / "at.npz"
    np.savez(at, **{"dloss/dy": np.array([3.0, -1.0])})
    (given,) = run(text, at=at).derivatives
    assert given.check is not None and given.check.value is not None
    assert given.check.value.nested() == [6.0, -4.0]  # 2 x · dloss/dy


def test_text_json_and_markdown_show_the_values(tmp_path: Path) -> None:
    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, list(args))
        return result.exit_code, result.output

    path = tmp_path / "t.idx"
    path.write_text("param x[2] = [1, 2]\nL = x[i] x[i]\nderive dL/dx\n", encoding="utf-8")
    _, shown = invoke("derive", str(path))
    assert "Values at the file's literal values" in shown
    assert "dL/dx[i] = [2, 4]" in shown
    _, document = invoke("derive", str(path), "--format", "json")
    (derivative,) = json.loads(document)["files"][0]["derivatives"]
    assert derivative["check"]["value"] == [2.0, 4.0]
    _, markdown = invoke("derive", str(path), "--format", "markdown")
    assert "- `dL/dx[i] = [2, 4]`" in markdown


def test_large_or_non_finite_values_are_not_shown() -> None:
    assert point_value(np.zeros(65)) is None
    assert point_value(np.array([1.0, np.nan])) is None
    assert point_value(np.array(-0.0)) == PointValue((), (0.0,))
    assert PointValue((2, 1), (1.0, 2.0)).nested() == [[1.0], [2.0]]
