"""Start-up stays cheap: `--help` loads no pipeline, and `check` on a file
with nothing to verify never imports numpy (benchmarks/startup.py has times)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

from shapecheck import cli
from shapecheck.check import declarations

# Run the command in a fresh interpreter and list what it imported.
_PROBE = """
import sys
from shapecheck.cli import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
sys.stdout.flush()
print("\\nMODULES", " ".join(sorted(sys.modules)))
"""


def _modules(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    line = result.stdout.rsplit("MODULES ", 1)[1]
    return set(line.split())


def test_help_loads_neither_the_pipeline_nor_numpy() -> None:
    modules = _modules("--help")
    assert "shapecheck.pipeline" not in modules
    assert "numpy" not in modules
    assert "lark" not in modules


@pytest.mark.parametrize("output", ["text", "json", "github", "junit"])
@pytest.mark.parametrize("verify", [True, False])
def test_check_without_derivatives_never_imports_numpy(
    tmp_path: Path, output: str, verify: bool
) -> None:
    path = tmp_path / "small.idx"
    path.write_text("dim n = 3\ninput x[n]\nparam w[n]\ny[i] = 2 x[i] w[i]\n")
    modules = _modules("check", str(path), "--format", output, *([] if verify else ["--no-verify"]))
    assert "shapecheck.pipeline" in modules
    assert "numpy" not in modules
    # Only the chosen renderer is loaded.
    renderers = {"text", "json", "github", "junit"}
    loaded = {name for name in renderers if f"shapecheck.render.{name}" in modules}
    assert loaded == {output}


@pytest.mark.parametrize("output", ["text", "github"])
def test_check_without_derivatives_loads_no_symbolic_stage(tmp_path: Path, output: str) -> None:
    # Nothing derived, nothing claimed: the symbolic and numeric stages (a third
    # of the start-up) and the worker pool's modules stay unloaded.
    path = tmp_path / "small.idx"
    path.write_text("dim n = 3\ninput x[n]\nparam w[n]\ny[i] = 2 x[i] w[i]\n")
    modules = _modules("check", str(path), "--format", output)
    assert not {m for m in modules if m.startswith("shapecheck.symbolic")}
    # Every dim has its size: not even numeric/sizes.py, which chooses sizes.
    assert not {m for m in modules if m.startswith("shapecheck.numeric")}
    assert "multiprocessing" not in modules
    assert "concurrent.futures" not in modules


def test_a_verified_derivative_does_import_numpy(tmp_path: Path) -> None:
    # The probe itself works: numpy shows up when something is verified.
    path = tmp_path / "grad.idx"
    path.write_text("dim n = 3\nparam a[n]\ny = a[i] a[i]\n")
    assert "numpy" in _modules("check", str(path))


def test_cli_constants_match_the_stages() -> None:
    assert cli.MAX_SIZE == declarations.MAX_SIZE


def test_check_without_configuration_reads_no_toml_and_writes_no_report(tmp_path: Path) -> None:
    # tomllib loads only to read a pyproject.toml, tempfile only for --report.
    assert not any((folder / "pyproject.toml").exists() for folder in tmp_path.parents)
    path = tmp_path / "small.idx"
    path.write_text("dim n = 3\ninput x[n]\nparam w[n]\ny[i] = 2 x[i] w[i]\n")
    modules = _modules("check", str(path))
    assert "tomllib" not in modules
    assert "tempfile" not in modules
    (tmp_path / "pyproject.toml").write_text("[tool.shapecheck]\nseed = 3\n")
    report = tmp_path / "report.xml"
    modules = _modules("check", str(path), "--report", f"junit={report}")
    assert "tomllib" in modules
    assert report.exists()


def test_the_commands_annotations_are_objects_not_strings() -> None:
    # typer reads them on every run; a string annotation is compiled each time
    # (`from __future__ import annotations` in cli.py doubled that cost).
    import inspect

    for command in (cli.check, cli.derive, cli.explain, cli._main):
        annotations = inspect.get_annotations(command)
        assert annotations
        assert not [name for name, value in annotations.items() if isinstance(value, str)]


def test_the_command_runs_with_the_collector_paused_and_restores_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    seen: list[bool] = []

    def interrupted() -> None:
        seen.append(gc.isenabled())
        raise KeyboardInterrupt

    assert gc.isenabled()
    monkeypatch.setattr(cli, "app", lambda: seen.append(gc.isenabled()))
    cli.main()
    monkeypatch.setattr(cli, "app", interrupted)
    with pytest.raises(SystemExit) as exit_status:
        cli.main()
    assert exit_status.value.code == 130
    assert seen == [False, False]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_objects_made_under_the_commands_pause_are_old_not_swept_at_once() -> None:
    import gc

    from shapecheck.collector import collector_paused_for_command

    started: list[int] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.collect()
    gc.callbacks.append(watch)
    try:
        with collector_paused_for_command():
            made = [[index] for index in range(5000)]
        after = [[index] for index in range(100)]  # fewer than a collection waits for
    finally:
        gc.callbacks.remove(watch)
    assert started == []  # plain gc.enable() would sweep all 5,000 at once
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert all(gc.is_tracked(item) for item in made + after)


def test_the_commands_pause_keeps_a_callers_frozen_objects_frozen() -> None:
    import gc

    from shapecheck.collector import collector_paused_for_command

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused_for_command():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_the_exit_collections_are_skipped_once_however_often_main_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc
    from collections.abc import Callable

    from shapecheck import collector

    class _Exits:
        def __init__(self) -> None:
            self.handlers: list[Callable[[], None]] = []

        def register(self, handler: Callable[[], None]) -> None:
            self.handlers.append(handler)

        def unregister(self, handler: Callable[[], None]) -> None:
            self.handlers = [h for h in self.handlers if h != handler]

    exits = _Exits()
    monkeypatch.setattr(collector, "atexit", exits)
    monkeypatch.setattr(cli, "app", lambda: None)
    cli.main()
    cli.main()
    assert exits.handlers == [gc.freeze]
    assert gc.get_freeze_count() == 0  # frozen at exit, not before


def test_a_command_that_skips_the_exit_collections_writes_all_it_prints(tmp_path: Path) -> None:
    # Standard output and a --report file are complete when the process ends.
    path = tmp_path / "small.idx"
    path.write_text("dim n = 3\ninput x[n]\nparam w[n]\ny[i] = 2 x[i] w[i]\n")
    report = tmp_path / "report.xml"
    result = subprocess.run(
        [sys.executable, "-m", "shapecheck", "check", str(path), "--report", f"junit={report}"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("✓ ") and result.stdout.endswith("\n")
    assert "Definitions" in result.stdout
    assert report.read_text().rstrip().endswith("</testsuites>")
