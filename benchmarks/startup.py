"""Start-up benchmark: how much the command costs over importing its dependencies.

Prints figures and their ratio to the floor; never a test.

    python benchmarks/startup.py [--runs RUNS]       # after `pip install .`
    python benchmarks/startup.py --checkout ../main --checkout .   # two checkouts

The command is the installed `shapecheck` next to the interpreter. With
`--checkout DIR` it runs with `PYTHONPATH=DIR`, so the entry point imports
that checkout's code instead of the installed one; given more than once, every
checkout's commands run interleaved in the same rounds, so that a change is
measured against its base under the same conditions, and every ratio is to
the floor's runs of all checkouts together.

The floor is a bare `python -c "import rich, typer, lark"`: the command cannot
start faster than its own dependencies load. Then `shapecheck --help`, and
`shapecheck check` on a small file without derivatives, with and without
`--no-verify` (neither needs numpy, nor the symbolic stage), and with
`--format github` (nor rich). Every command runs RUNS times (default
15), interleaved so that a noisy moment of the machine hits all of them alike,
and the medians are compared within one run of this script. Both wall time
and CPU time (user + system, of the command's process) are shown: on a shared
machine the CPU time is the steadier of the two.

Every command runs with its modules byte-compiled, as after `pip install`
(which compiles them): the commands run with `PYTHONDONTWRITEBYTECODE` unset
and a fresh `PYTHONPYCACHEPREFIX`, and the warm-up run writes the `.pyc`
files there. Without it, a checkout under `PYTHONDONTWRITEBYTECODE=1` would
compile shapecheck's sources on every run while its dependencies load from
their installed `.pyc` files, and the ratio would measure the compiler.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.3
FLOOR = "python -c 'import rich, typer, lark'"
SMALL_FILE = "dim n = 3\ninput x[n]\nparam w[n]\ny[i] = 2 x[i] w[i]\n"


def _shapecheck() -> list[str]:
    """The installed command next to this interpreter, else `python -m shapecheck`."""
    beside = Path(sys.executable).parent / "shapecheck"
    found = str(beside) if beside.exists() else shutil.which("shapecheck")
    return [found] if found else [sys.executable, "-m", "shapecheck"]


def _times(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of the command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def measure(
    commands: dict[str, list[str]], runs: int, env: dict[str, str]
) -> dict[str, list[tuple[float, float]]]:
    """Wall and CPU time of each run of each command; the runs are interleaved."""
    for command in commands.values():
        _times(command, env)  # warm the file cache and write the .pyc files
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(_times(command, env))
    return times


def _medians(values: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(wall for wall, _ in values), statistics.median(
        cpu for _, cpu in values
    )


def _compiled_env(folder: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "pycache")
    return env


def _tool_commands(tool: list[str], small: Path) -> dict[str, list[str]]:
    return {
        "shapecheck --help": [*tool, "--help"],
        "shapecheck check small.idx --no-verify": [*tool, "check", str(small), "--no-verify"],
        "shapecheck check small.idx": [*tool, "check", str(small)],
        # CI's format: no rich at all, only typer and the front end.
        "shapecheck check small.idx --format github": [
            *tool,
            "check",
            str(small),
            "--format",
            "github",
        ],
    }


def _with_pythonpath(folder: str, command: list[str]) -> list[str]:
    # `env` rather than a per-command environment: measure() runs every
    # command under one environment. The checkout's floor runs through `env`
    # too, so that its cost is in both sides of the ratio.
    return ["env", f"PYTHONPATH={Path(folder).resolve()}", *command]


def _commands(checkouts: list[str], small: Path) -> dict[str, list[str]]:
    """Every command to time; a checkout's rows are named `[DIR] command`."""
    floor = [sys.executable, "-c", "import rich, typer, lark"]
    rows = {FLOOR: floor, **_tool_commands(_shapecheck(), small)}
    if not checkouts:
        return rows
    return {
        f"[{checkout}] {name}": _with_pythonpath(checkout, command)
        for checkout in checkouts
        for name, command in rows.items()
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command")
    parser.add_argument(
        "--checkout",
        action="append",
        default=[],
        metavar="DIR",
        help="run the command on this checkout's code (repeatable)",
    )
    arguments = parser.parse_args(argv)
    runs = arguments.runs
    with tempfile.TemporaryDirectory() as folder:
        small = Path(folder) / "small.idx"
        small.write_text(SMALL_FILE)
        times = measure(_commands(arguments.checkout, small), runs, _compiled_env(folder))
    # The floor is the same command in every checkout's rows: all its runs
    # together make one floor, so that a noisy moment in one checkout's floor
    # does not move that checkout's ratios.
    floor = _medians(
        [run for name, values in times.items() if name.endswith(FLOOR) for run in values]
    )
    print(f"shapecheck start-up, median of {runs} runs (target: within {TARGET_RATIO}x the floor)")
    width = max(len(name) for name in times)
    print(f"  {'':<{width}} {'wall':>18}   {'CPU (user + system)':>18}")
    for name, values in times.items():
        wall, cpu = _medians(values)
        print(
            f"  {name:<{width}} {wall * 1000:7.1f} ms {wall / floor[0]:5.2f}x"
            f"   {cpu * 1000:7.1f} ms {cpu / floor[1]:5.2f}x"
        )


if __name__ == "__main__":
    main()
