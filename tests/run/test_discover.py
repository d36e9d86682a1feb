"""Which files a `check PATH...` means: every one, each once, none lost."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from shapecheck.run.discover import Target, collect_targets, read_file, read_target
from shapecheck.run.usage import UsageProblem

GOOD = "param a\ny = a\n"


def _names(targets: list[Target]) -> list[str]:
    return [t.name for t in targets]


def test_folder_is_searched_in_a_stable_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "two.idx").write_text(GOOD)
    (tmp_path / "one.idx").write_text(GOOD)
    (tmp_path / "notes.txt").write_text("not idx")
    assert _names(collect_targets([tmp_path])) == [
        str(tmp_path / "b" / "two.idx"),
        str(tmp_path / "one.idx"),
    ]


def test_files_are_taken_as_given_each_once_under_the_first_spelling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first, second = tmp_path / "z.txt", tmp_path / "a.idx"
    first.write_text("")
    second.write_text("")
    targets = collect_targets([first, second, Path("z.txt"), Path("./a.idx"), tmp_path])
    assert _names(targets) == [str(first), str(second)]


def test_a_named_file_inside_a_named_folder_is_checked_once(tmp_path: Path) -> None:
    (tmp_path / "a.idx").write_text(GOOD)
    (tmp_path / "b.idx").write_text(GOOD)
    targets = collect_targets([tmp_path / "b.idx", tmp_path])
    assert _names(targets) == [str(tmp_path / "b.idx"), str(tmp_path / "a.idx")]


def test_folder_without_idx_files_is_a_usage_problem(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not idx")
    with pytest.raises(UsageProblem, match=r"no \.idx files under"):
        collect_targets([tmp_path])


def test_a_missing_path_is_a_target_with_a_problem(tmp_path: Path) -> None:
    (target,) = collect_targets([tmp_path / "nope.idx"])
    assert target.problem == "no such file or folder"
    assert target.name == str(tmp_path / "nope.idx")


def test_skipped_folders_and_excludes(tmp_path: Path) -> None:
    for folder in (".git", ".venv", "node_modules", "__pycache__", "drafts", "keep"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.idx").write_text(GOOD)
    (tmp_path / "keep" / "old.idx").write_text(GOOD)
    targets = collect_targets([tmp_path], exclude=["drafts", "keep/old*"])
    assert _names(targets) == [str(tmp_path / "keep" / "x.idx")]


def test_a_named_file_is_checked_even_in_a_skipped_folder(tmp_path: Path) -> None:
    (tmp_path / "node_modules").mkdir()
    named = tmp_path / "node_modules" / "x.idx"
    named.write_text(GOOD)
    assert _names(collect_targets([named], exclude=["node_modules"])) == [str(named)]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_ignored_files_are_left_out(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("build/\n*.bak.idx\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "x.idx").write_text(GOOD)
    (tmp_path / "a.bak.idx").write_text(GOOD)
    (tmp_path / "a.idx").write_text(GOOD)
    assert _names(collect_targets([tmp_path])) == [str(tmp_path / "a.idx")]
    # Named on the command line, it is checked.
    assert _names(collect_targets([tmp_path / "a.bak.idx"])) == [str(tmp_path / "a.bak.idx")]


def test_gitignore_is_read_without_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")  # no git to ask
    (tmp_path / ".gitignore").write_text("*.bak.idx\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("!keep.bak.idx\n")
    for name in ("a.idx", "a.bak.idx", "sub/keep.bak.idx", "sub/drop.bak.idx"):
        (tmp_path / name).write_text(GOOD)
    assert _names(collect_targets([tmp_path])) == [
        str(tmp_path / "a.idx"),
        str(tmp_path / "sub" / "keep.bak.idx"),
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_reported_never_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.idx")
    (tmp_path / "a.idx").write_text(GOOD)
    targets = collect_targets([tmp_path])
    assert _names(targets) == [str(tmp_path / "a.idx"), str(tmp_path / "pipe.idx")]
    assert targets[1].problem == "not a regular file (a FIFO): not read"
    (named,) = collect_targets([tmp_path / "pipe.idx"])
    assert named.problem == "not a regular file (a FIFO): not read"


def test_symbolic_link_loops_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.idx").write_text(GOOD)
    (tmp_path / "self").symlink_to(tmp_path / "self")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to(tmp_path)
    (tmp_path / "gone.idx").symlink_to(tmp_path / "missing.idx")
    problems = {t.name: t.problem for t in collect_targets([tmp_path]) if t.problem}
    assert problems == {
        str(tmp_path / "gone.idx"): "a broken symbolic link",
        str(tmp_path / "self"): "a symbolic link loop: it leads back to itself",
        str(tmp_path / "sub" / "up"): (
            "a symbolic link loop: it leads back to a folder being searched"
        ),
    }


def test_standard_input_is_read_once_under_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"param a\n")))
    targets = collect_targets([Path("-"), Path("-")], stdin_name="student.idx")
    assert targets == [Target("student.idx", None, b"param a\n")]
    assert read_target(targets[0]) == b"param a\n"


def test_read_file_gives_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.idx"
    path.write_bytes(b"param a\xff\n")
    assert read_file(path) == b"param a\xff\n"


def test_unreadable_file_is_a_usage_problem_for_read_file(tmp_path: Path) -> None:
    with pytest.raises(UsageProblem, match="cannot read"):
        read_file(tmp_path)  # a folder cannot be read as a file
