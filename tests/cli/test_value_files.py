"""`--at` and `--save` paths that cannot work: exit 2 and one clear line,
before any file is analysed (never an E999 "bug in shapecheck")."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from support import ROOT
from typer.testing import CliRunner

from shapecheck.cli import app

SOURCE = "dim n = 3\nparam a[n]\ny = a[i] a[i]\n"


@pytest.fixture
def idx(tmp_path: Path) -> Path:
    path = tmp_path / "f.idx"
    path.write_text(SOURCE)
    return path


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def _never_analysed(monkeypatch: pytest.MonkeyPatch) -> None:
    from shapecheck.run import runner

    def fail(*args: object) -> None:
        raise AssertionError("a file was analysed")

    monkeypatch.setattr(runner, "analyze_files", fail)


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("missing/out.npz", "folder {tmp}/missing does not exist"),
        (".", "is a folder, not a file"),
        ("f.idx/out.npz", "{tmp}/f.idx is not a folder"),
    ],
)
def test_a_save_path_that_cannot_be_written(
    monkeypatch: pytest.MonkeyPatch, idx: Path, target: str, words: str
) -> None:
    _never_analysed(monkeypatch)
    tmp = idx.parent
    code, output = _invoke("check", str(idx), "--save", str(tmp / target))
    assert code == 2, output
    assert words.format(tmp=tmp) in output
    assert output.startswith("shapecheck: --save ")
    assert "E999" not in output


def test_a_save_folder_without_write_permission(monkeypatch: pytest.MonkeyPatch, idx: Path) -> None:
    # os.access, not chmod: the tests may run as root, who may write anywhere.
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == idx.parent else real_access(p, mode)
    )
    _never_analysed(monkeypatch)
    code, output = _invoke("check", str(idx), "--save", str(idx.parent / "out.npz"))
    assert code == 2
    assert f"cannot write in folder {idx.parent}" in output


def test_a_save_that_fails_while_writing(monkeypatch: pytest.MonkeyPatch, idx: Path) -> None:
    # The path passed the checks, then the disk filled up.
    from shapecheck.numeric import values

    target = idx.parent / "out.npz"

    def full(path: Path, arrays: object, labels: object = frozenset()) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(values, "save", full)
    code, output = _invoke("check", str(idx), "--save", str(target))
    assert code == 2
    assert output == f"shapecheck: --save {target}: cannot write it: No space left on device\n"


def test_a_save_path_that_works(idx: Path) -> None:
    code, output = _invoke("check", str(idx), "--save", str(idx.parent / "out.npz"))
    assert code == 0, output
    assert (idx.parent / "out.npz").exists()


def _at_files(folder: Path) -> dict[str, tuple[Path, str]]:
    good = folder / "good.npz"
    np.savez(good, a=np.ones(3))
    corrupt = folder / "corrupt.npz"
    data = bytearray(good.read_bytes())
    data[60:80] = b"\xff" * 20  # inside the member: its CRC no longer matches
    corrupt.write_bytes(bytes(data))
    truncated = folder / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:100])
    npy = folder / "values.npy"
    np.save(npy, np.ones(3))
    text = folder / "values.txt"
    text.write_text("a = 1, 2, 3\n")
    pickled = folder / "pickled.npz"
    np.savez(pickled, a=np.array([{"x": 1}], dtype=object))
    not_npy = folder / "zip.npz"
    with zipfile.ZipFile(not_npy, "w") as archive:
        archive.writestr("a.npy", "not an array")
    return {
        "missing": (folder / "missing.npz", "no such file"),
        "folder": (folder, "is a folder, not an .npz file"),
        "corrupt": (corrupt, "not a valid .npz file"),
        "truncated": (truncated, "not a valid .npz file"),
        "npy": (npy, "not a valid .npz file (it is not a zip archive)"),
        "text": (text, "not a valid .npz file (it is not a zip archive)"),
        "pickled": (pickled, "not a valid .npz file"),
        "not_npy": (not_npy, "not a valid .npz file"),
    }


@pytest.mark.parametrize(
    "case", ["missing", "folder", "corrupt", "truncated", "npy", "text", "pickled", "not_npy"]
)
def test_an_at_file_that_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch, idx: Path, case: str
) -> None:
    path, words = _at_files(idx.parent)[case]
    _never_analysed(monkeypatch)
    code, output = _invoke("check", str(idx), "--at", str(path))
    assert code == 2, output
    assert output.startswith(f"shapecheck: --at {path}: {words}"), output
    assert "E999" not in output


def test_an_unreadable_at_file(monkeypatch: pytest.MonkeyPatch, idx: Path) -> None:
    good = idx.parent / "good.npz"
    np.savez(good, a=np.ones(3))
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == good else real_access(p, mode)
    )
    code, output = _invoke("derive", str(idx), "--at", str(good))
    assert code == 2
    # click's own check of a Path option may answer first; either says so.
    assert f"--at {good}: cannot read the file" in output or "is not readable" in output


def test_a_good_at_file_is_used(idx: Path) -> None:
    good = idx.parent / "good.npz"
    np.savez(good, a=np.ones(3))
    code, output = _invoke("check", str(idx), "--at", str(good), "--format", "json")
    assert code == 0, output
    assert f'"values_from": "{good}"' in output


@pytest.mark.parametrize("option", ["--at", "--save"])
def test_as_a_subprocess(idx: Path, option: str) -> None:
    target = idx.parent / "missing" / "x.npz"
    result = subprocess.run(
        [sys.executable, "-m", "shapecheck", "derive", str(idx), option, str(target)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"shapecheck: {option} {target}: ")
    assert "Traceback" not in result.stderr


def test_the_upstream_gradient_of_loss_is_saved_and_may_be_given(tmp_path: Path) -> None:
    """`dloss/dA` of `loss(A)` is written by `--save` and read by `--at`, so a
    run can be repeated and a gradient through it recomputed by hand."""
    source = tmp_path / "u.idx"
    source.write_text("dim n = 3\nparam w[n]\ny[i] = tanh(w[i])\nL = loss(y)\nderive dL/dw\n")
    saved = tmp_path / "saved.npz"
    assert _invoke("check", str(source), "--save", str(saved))[0] == 0
    with np.load(saved) as archive:
        values = {name: archive[name] for name in archive.files}
    upstream = values["dloss/dy"]
    np.testing.assert_allclose(values["dL/dw"], upstream * (1 - np.tanh(values["w"]) ** 2))
    given = tmp_path / "given.npz"
    np.savez(given, w=values["w"], **{"dloss/dy": 2 * upstream})
    again = tmp_path / "again.npz"
    assert _invoke("check", str(source), "--at", str(given), "--save", str(again))[0] == 0
    with np.load(again) as archive:
        np.testing.assert_allclose(archive["dL/dw"], 2 * values["dL/dw"])
    np.savez(given, w=values["w"], **{"dloss/dy": np.ones(2)})
    code, output = _invoke("check", str(source), "--at", str(given))
    assert code == 2
    assert "`dloss/dy`" in output and "has shape (2,)" in output
