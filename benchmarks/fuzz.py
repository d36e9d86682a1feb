"""Fuzz shapecheck: crashes, hangs, invalid output and false verdicts.

    python -m benchmarks.fuzz --runs N [--seed S] [--jobs J] [--timeout SECONDS] [--out DIR]
    python -m benchmarks.fuzz --runs 1 --start K --seed S   # replay run K of a campaign

Inputs (a pure function of seed and run index, see `fuzzing.cases`): byte-level
mutations of samples/*.idx, samples/mistakes/*.idx and samples/course/*.idx,
grammar-generated programs that are valid by construction (first- and
second-edition constructs, and values computed with catastrophic cancellation,
`sqrt((e + 1e14)^2) - 1e14`), and token-level mutations of those.
Each input is analysed in a worker process (in-process for speed; the worker
is killed on a timeout) and rendered as text, JSON, JUnit and GitHub output.
A failing input is saved under --out with its findings, one folder per class
and cause; the last lines are `runs N, crashes C, hangs H, invalid outputs I,
false verdicts F`, the distinct causes and the five slowest inputs (run index
and seconds; also in summary.json). Exit status 1 if anything failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.fuzzing.cases import Case, load_corpus, make_case
from benchmarks.fuzzing.pool import run
from benchmarks.fuzzing.report import Tally


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.fuzz", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--runs", type=int, default=1000, help="number of inputs")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same inputs")
    parser.add_argument("--start", type=int, default=0, help="first run index (to replay one)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input")
    parser.add_argument("--out", type=Path, default=None, help="where failing inputs go")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser.parse_args(argv)


def cases(seed: int, start: int, runs: int) -> Iterator[Case]:
    corpus = load_corpus()
    for index in range(start, start + runs):
        yield make_case(seed, index, corpus)


def campaign(
    seed: int, start: int, runs: int, jobs: int, timeout: float, out: Path, quiet: bool = True
) -> Tally:
    tally = Tally(out)
    began = time.monotonic()
    for result in run(cases(seed, start, runs), jobs, timeout):
        tally.add(result)
        if not quiet and tally.runs % 1000 == 0:
            rate = tally.runs / (time.monotonic() - began)
            print(
                f"{tally.runs} runs, {tally.failures()} failures, {rate:.1f} inputs/s", flush=True
            )
    tally.write(seed, time.monotonic() - began)
    return tally


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="shapecheck-fuzz-"))
    began = time.monotonic()
    tally = campaign(args.seed, args.start, args.runs, args.jobs, args.timeout, out, args.quiet)
    wall = time.monotonic() - began
    print(
        f"{tally.runs} inputs in {wall:.1f} s ({tally.runs / max(wall, 1e-9):.1f} inputs/s, "
        f"--jobs {args.jobs}); failing inputs under {out}"
    )
    for line in tally.summary_lines():
        print(line)
    return 1 if tally.failures() else 0


if __name__ == "__main__":
    sys.exit(main())
