"""Values for numeric checks: seeded draws per array, literals, `--at` files, `--save`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from support import SAMPLES, run
from typer.testing import CliRunner

from shapecheck.cli import app
from shapecheck.numeric.values import AtProblem, draw_values, load_at, loss_arguments, save

AFFINE = (
    "dim n = 8, d = 3, h = 5\ninput X[n, d]\nparam W[d, h], b[h]\n"
    "Y[i, k] = X[i, j] W[j, k] + b[k]\nL = Y[i, k] Y[i, k]\n"
)


def _checked(text: str):  # type: ignore[no-untyped-def]
    report = run(text, verify=False)
    assert report.checked is not None and report.errors == 0, report.diagnostics
    return report.checked


def test_seeded_values_are_reproducible_and_differ_by_seed() -> None:
    checked = _checked(AFFINE)
    first, again, other = draw_values(checked, 3), draw_values(checked, 3), draw_values(checked, 4)
    assert sorted(first) == ["W", "X", "b"]
    assert all(np.array_equal(first[k], again[k]) for k in first)
    assert not any(np.array_equal(first[k], other[k]) for k in first)
    # PCG64 gives the same numbers on every machine: a known first value.
    assert first["W"].shape == (3, 5)
    assert first["W"][0, 0] == pytest.approx(0.638552365627756, abs=1e-15)


def test_each_array_draws_from_its_own_stream() -> None:
    # Declaring one more array changes no other array's values.
    smaller = draw_values(_checked(AFFINE), 0)
    larger = draw_values(_checked("param extra[7]\n" + AFFINE + "M = extra[i]\n"), 0)
    for name in smaller:
        np.testing.assert_array_equal(smaller[name], larger[name])
    # Two arrays of one shape get different values.
    two = draw_values(_checked("dim n = 4\nparam a[n], b[n]\nL = a[i] b[i]\n"), 0)
    assert not np.array_equal(two["a"], two["b"])


def test_positive_arrays_are_drawn_in_half_to_two() -> None:
    values = draw_values(_checked("dim n = 500\nparam x[n] positive, y[n]\nL = x[i] y[i]\n"), 5)
    assert np.all((values["x"] >= 0.5) & (values["x"] <= 2.0))
    # The other array is standard normal: it has negative entries.
    assert np.any(values["y"] < 0)


def test_literals_and_given_values_are_used_as_they_are() -> None:
    checked = _checked("dim n = 3\nparam x[n], c[2] = [4, 5]\nL = x[i] x[i] + c[1]\n")
    values = draw_values(checked, 0, {"x": np.array([1, 2, 3])})
    np.testing.assert_array_equal(values["c"], [4.0, 5.0])
    np.testing.assert_array_equal(values["x"], [1.0, 2.0, 3.0])
    assert values["x"].dtype == np.float64


def test_each_loss_gets_a_seeded_upstream_gradient() -> None:
    checked = _checked("dim n = 3\nparam x[n]\ny[i] = tanh(x[i])\nL = loss(y)\n")
    assert loss_arguments(checked) == ["y"]
    values = draw_values(checked, 2)
    assert values["dloss/dy"].shape == (3,)
    np.testing.assert_array_equal(values["dloss/dy"], draw_values(checked, 2)["dloss/dy"])
    assert not np.array_equal(values["dloss/dy"], draw_values(checked, 1)["dloss/dy"])


def test_same_seed_same_numbers_in_the_output() -> None:
    runner = CliRunner()
    path = str(SAMPLES / "mlp.idx")
    first = runner.invoke(app, ["check", "--format", "json", "--seed", "7", path]).output
    second = runner.invoke(app, ["check", "--format", "json", "--seed", "7", path]).output
    assert first == second
    other = runner.invoke(app, ["check", "--format", "json", "--seed", "8", path]).output
    assert (
        json.loads(first)["files"][0]["derivatives"] != json.loads(other)["files"][0]["derivatives"]
    )


def test_load_at_returns_the_files_arrays(tmp_path: Path) -> None:
    values = tmp_path / "at.npz"
    np.savez(values, x=np.array([1.0, 2.0, 3.0]))
    loaded = load_at(values, _checked("dim n = 3\nparam x[n]\nL = x[i] x[i]\n"))
    assert sorted(loaded) == ["x"]
    np.testing.assert_array_equal(loaded["x"], [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("arrays", "words"),
    [
        ({}, "lacks values for: p, x"),
        ({"x": np.zeros(3), "p": np.ones(2), "z": np.zeros(2)}, "does not declare: z"),
        ({"x": np.zeros(4), "p": np.ones(2)}, "has shape (4,), but the file declares (3,)"),
        ({"x": np.array(["a", "b", "c"]), "p": np.ones(2)}, "is not numeric"),
        ({"x": np.ones(3), "p": np.array([1.0, -2.0])}, "`p` is declared positive but"),
        ({"x": np.ones(3), "p": np.ones(2), "c": np.ones(2)}, "c has a literal value"),
    ],
)
def test_bad_at_values_are_named(tmp_path: Path, arrays: dict, words: str) -> None:
    values = tmp_path / "at.npz"
    np.savez(values, **arrays)
    checked = _checked(
        "dim n = 3\nparam x[n], p[2] positive, c[2] = [1, 2]\nL = x[i] x[i] + p[j] c[j]\n"
    )
    with pytest.raises(AtProblem) as problem:
        load_at(values, checked)
    assert words in str(problem.value)


def test_unreadable_at_file_is_an_at_problem(tmp_path: Path) -> None:
    values = tmp_path / "at.npz"
    values.write_text("not an archive")
    with pytest.raises(AtProblem, match="cannot read"):
        load_at(values, _checked("dim n = 3\nparam x[n]\nL = x[i] x[i]\n"))


def test_save_writes_float_arrays_by_name(tmp_path: Path) -> None:
    target = tmp_path / "out.npz"
    save(target, {"dL/dx": np.array([1, 2]), "a": 3})
    with np.load(target) as archive:
        assert sorted(archive.files) == ["a", "dL/dx"]
        assert archive["a"].shape == ()
        assert archive["dL/dx"].dtype == np.float64
        np.testing.assert_array_equal(archive["dL/dx"], [1.0, 2.0])


def test_save_writes_exactly_the_path_given(tmp_path: Path) -> None:
    # numpy appends `.npz` to a path without it; `--save out.dat` writes out.dat.
    target = tmp_path / "out.dat"
    save(target, {"a": np.array([1.0, 2.0])})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.dat"]
    with np.load(target) as archive:
        np.testing.assert_array_equal(archive["a"], [1.0, 2.0])


def test_save_through_the_cli_writes_exactly_the_path_given(tmp_path: Path) -> None:
    source = tmp_path / "m.idx"
    source.write_text("dim n = 3\nparam x[n]\nL = x[i] x[i]\nderive dL/dx\n")
    target = tmp_path / "out.dat"
    result = CliRunner().invoke(app, ["check", str(source), "--save", str(target)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.idx", "out.dat"]
    with np.load(target) as archive:
        assert "dL/dx" in archive.files


def _truncated_zip(path: Path) -> None:
    np.savez(path, x=np.arange(3.0))
    path.write_bytes(path.read_bytes()[:40])


def _npy(path: Path) -> None:
    with path.open("wb") as handle:
        np.save(handle, np.arange(3.0))


def _missing_member(path: Path) -> None:
    # A zip whose directory names an array whose data is not there.
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", b"\x93NUMPY\x01\x00")


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_bytes(b""),  # empty: EOFError or ValueError
        lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 30),  # a broken zip
        _npy,  # a .npy, not an archive
        _truncated_zip,
        _missing_member,
    ],
    ids=["empty", "broken-zip", "npy", "truncated", "bad-member"],
)
def test_any_unreadable_at_file_is_an_at_problem(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    values = tmp_path / "at.npz"
    make(values)
    with pytest.raises(AtProblem, match="cannot read"):
        load_at(values, _checked("dim n = 3\nparam x[n]\nL = x[i] x[i]\n"))
