"""Which files a `check PATH...` means, and reading them."""

from __future__ import annotations

from pathlib import Path

import pytest

from shapecheck.run.discover import collect_files, read_file
from shapecheck.run.usage import UsageProblem


def test_folder_is_searched_in_a_stable_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.idx").write_text("param a\ny = a\n")
    (tmp_path / "one.idx").write_text("param a\ny = a\n")
    (tmp_path / "notes.txt").write_text("not idx")
    assert collect_files([tmp_path]) == [tmp_path / "b" / "two.idx", tmp_path / "one.idx"]


def test_files_are_taken_as_given_in_the_order_given(tmp_path: Path) -> None:
    first, second = tmp_path / "z.txt", tmp_path / "a.idx"
    first.write_text("")
    second.write_text("")
    assert collect_files([first, second, first]) == [first, second, first]


def test_folder_without_idx_files_is_a_usage_problem(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not idx")
    with pytest.raises(UsageProblem, match=r"no \.idx files under"):
        collect_files([tmp_path])


def test_missing_path_is_a_usage_problem(tmp_path: Path) -> None:
    with pytest.raises(UsageProblem, match=r"nope\.idx: no such file or folder"):
        collect_files([tmp_path / "nope.idx"])


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_neither_file_nor_folder_is_a_usage_problem() -> None:
    with pytest.raises(UsageProblem, match="is neither a file nor a folder"):
        collect_files([Path("/dev/null")])


def test_read_file_gives_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.idx"
    path.write_bytes(b"param a\xff\n")
    assert read_file(path) == b"param a\xff\n"


def test_unreadable_file_is_a_usage_problem(tmp_path: Path) -> None:
    with pytest.raises(UsageProblem, match="cannot read"):
        read_file(tmp_path)  # a folder cannot be read as a file
