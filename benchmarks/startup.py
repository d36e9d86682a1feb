"""Start-up benchmark: how much the command costs over importing its dependencies.

Prints figures and their ratio to the floor; never a test.

    python benchmarks/startup.py [--runs RUNS]       # after `pip install .`

The floor is a bare `python -c "import rich, typer, lark"`: the command cannot
start faster than its own dependencies load. Then `shapecheck --help`, and
`shapecheck check` on a small file without derivatives, with and without
`--no-verify` (neither needs numpy, nor the symbolic stage), and with
`--format github` (nor rich). Every command runs RUNS times (default
15), interleaved so that a noisy moment of the machine hits all of them alike,
and the medians are compared within one run of this script.

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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.3
SMALL_FILE = "dim n = 3\ninput x[n]\nparam w[n]\ny[i] = 2 x[i] w[i]\n"


def _shapecheck() -> list[str]:
    """The installed command next to this interpreter, else `python -m shapecheck`."""
    beside = Path(sys.executable).parent / "shapecheck"
    found = str(beside) if beside.exists() else shutil.which("shapecheck")
    return [found] if found else [sys.executable, "-m", "shapecheck"]


def _wall(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False, env=env)
    return time.perf_counter() - start


def measure(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, float]:
    """Median wall time of each command; the runs are interleaved."""
    for command in commands.values():
        _wall(command, env)  # warm the file cache and write the .pyc files
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(_wall(command, env))
    return {name: statistics.median(values) for name, values in times.items()}


def _compiled_env(folder: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "pycache")
    return env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command")
    runs = parser.parse_args(argv).runs
    tool = _shapecheck()
    with tempfile.TemporaryDirectory() as folder:
        small = Path(folder) / "small.idx"
        small.write_text(SMALL_FILE)
        commands = {
            "python -c 'import rich, typer, lark'": [
                sys.executable,
                "-c",
                "import rich, typer, lark",
            ],
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
        medians = measure(commands, runs, _compiled_env(folder))
    floor = medians["python -c 'import rich, typer, lark'"]
    print(f"shapecheck start-up, median of {runs} runs (target: within {TARGET_RATIO}x the floor)")
    for name, seconds in medians.items():
        print(f"  {name:<46} {seconds * 1000:7.1f} ms   {seconds / floor:5.2f}x")


if __name__ == "__main__":
    main()
