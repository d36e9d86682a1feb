"""Front-end benchmark: start-up, and parse+check throughput.

Prints figures, the start-up ones with their ratio to a bare Python started
in the same run; never a test. The targets of issue 14 are measured against
their own baselines by `benchmarks/startup.py` (start-up against importing
rich, typer and lark) and `benchmarks/parse_speed.py` (the front end against
Lark's own LALR parse).

    python benchmarks/frontend.py            # after `pip install .`

- start-up: wall time of `shapecheck --help` and of `shapecheck check` on a
  one-line file, as subprocesses (median of several runs);
- throughput: the front end alone (parse, unroll, check; no derivation or
  numeric checks) of a generated 10,000-line file, and of 1,000 small files,
  in-process (median of several runs).

"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shapecheck.check.checker import check
from shapecheck.pipeline import decode
from shapecheck.source import Source
from shapecheck.syntax.parse import parse
from shapecheck.syntax.unroll import unroll


def _median_wall(command: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _median(function: object, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def front_end(source: Source) -> int:
    """Parse, unroll and check: the front end alone (no derivation, no numbers)."""
    program, problems = parse(source)
    unrolled, more = unroll(program)
    _, most = check(unrolled)
    return len(problems) + len(more) + len(most)


def generated_file(lines: int) -> str:
    """A realistic file: a few declarations, then many small definitions."""
    out = ["dim n = 8, d = 3, h = 5", "input X[n, d]", "param W[d, h], b[h]"]
    out.append("Y0[i, k] = X[i, j] W[j, k] + b[k]")
    for k in range(1, lines - 4):
        out.append(f"Y{k}[i, k] = tanh(Y{k - 1}[i, k]) + X[i, j] W[j, k] * b[k]  # step {k}")
    out.append(f"L = Y{lines - 5}[i, k] Y{lines - 5}[i, k]")
    return "\n".join(out) + "\n"


def main() -> None:
    command = shutil.which("shapecheck") or str(Path(sys.executable).parent / "shapecheck")
    with tempfile.TemporaryDirectory() as folder:
        tiny = Path(folder) / "one.idx"
        tiny.write_text("param a\n")
        subprocess.run([command, "check", str(tiny)], capture_output=True, check=False)  # warm
        help_s = _median_wall([command, "--help"])
        check_s = _median_wall([command, "check", str(tiny)])
        python_s = _median_wall([sys.executable, "-c", "pass"])

        big = Source("big.idx", generated_file(10_000))
        big_s = _median(lambda: front_end(big))

        small_files = []
        for k in range(1_000):
            path = Path(folder) / f"f{k:04}.idx"
            path.write_text(
                "dim n = 4, d = 3\ninput X[n, d]\nparam w[d]\ny[i] = X[i, j] w[j]\nL = y[i] y[i]\n"
            )
            small_files.append(path)
        small_s = _median(
            lambda: [front_end(decode(str(p), p.read_bytes())[0]) for p in small_files]
        )

    print("shapecheck front-end benchmark")
    print(f"  python -c pass (floor)            {python_s * 1000:8.1f} ms")
    for label, seconds in (
        ("shapecheck --help", help_s),
        ("shapecheck check one-line file", check_s),
    ):
        print(f"  {label:<33} {seconds * 1000:8.1f} ms   {seconds / python_s:.2f}x floor")
    print(
        f"  parse+check 10,000 lines          {big_s * 1000:8.1f} ms"
        f"   ({10_000 / big_s:,.0f} lines/s)"
    )
    print(
        f"  parse+check 1,000 small files     {small_s * 1000:8.1f} ms"
        f"   ({small_s:.3f} ms per file)"
    )


if __name__ == "__main__":
    main()
