"""Many-files benchmark: a class of 1,000 student files through `check`.

Prints figures, never a test.

    python benchmarks/many_files.py [--files COUNT]       # default 1000

Each generated file has definitions and three claims (one in four files has
a wrong one, one in ten a syntax error). The figures, all measured in this
one run so that the machine's speed cancels out:

- the baseline: one file's `check` run time × COUNT (what a CI loop running
  the command once per file costs), and `python -c pass` start-up;
- files per second of one `check` over the folder at `--jobs 1` and
  `--jobs 2`, and their speed-up over the baseline;
- the time to the first output line (results stream in command-line order).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_FILE = """\
dim n = {n}, d = 3, h = 4
input X[n, d]
param W[d, h], b[h]
Y[i, k] = X[i, j] W[j, k] + b[k]
H[i, k] = tanh(Y[i, k])
L = H[i, k] H[i, k]
dL/dH[i, k] = 2 H[i, k]
dL/db[k] = {db}
dL/dW[j, k] = sum[i](X[i, j] 2 H[i, k] (1 - H[i, k]^2))
"""


def _student(k: int) -> str:
    if k % 10 == 9:
        return "dim n = 3\nparam a[n\ny = a[i] a[i]\n"  # a syntax error
    right = "sum[i](2 H[i, k] (1 - H[i, k]^2))"
    wrong = "sum[i](2 H[i, k])"  # the tanh factor forgotten
    return _FILE.format(n=4 + k % 5, db=wrong if k % 4 == 0 else right)


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "shapecheck", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}


def _time(argv: list[str]) -> tuple[float, float]:
    """Seconds to the first output line, and to the end."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env())
    assert process.stdout is not None
    process.stdout.readline()
    first = time.perf_counter() - start
    process.stdout.read()
    process.wait()
    return first, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="generated student files")
    count = parser.parse_args(argv).files
    with tempfile.TemporaryDirectory() as folder:
        class_folder = Path(folder) / "class"
        class_folder.mkdir()
        for k in range(count):
            (class_folder / f"student{k:04}.idx").write_text(_student(k))
        one = class_folder / "student0001.idx"
        startup = min(_time([sys.executable, "-c", "pass"])[1] for _ in range(5))
        single = min(_time(_command("check", str(one)))[1] for _ in range(3))
        print(f"{count} files; python -c pass {startup * 1000:.0f} ms")
        print(f"baseline: one file's check {single:.3f} s x {count} = {single * count:.1f} s")
        for jobs in ("1", "2"):
            first, total = _time(_command("check", "--jobs", jobs, str(class_folder)))
            print(
                f"--jobs {jobs}: {total:.1f} s, {count / total:.0f} files/s, "
                f"{single * count / total:.1f}x the baseline; first line after {first:.2f} s"
            )


if __name__ == "__main__":
    main()
