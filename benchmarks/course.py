"""Course-set benchmark: `derive` of every file in samples/course/, in process.

Prints figures, never a test.

    python -m benchmarks.course [--repeats REPEATS]      # default 5

For each course file: the best of REPEATS in-process analyses (parse, check,
derive, verify, as `shapecheck derive` runs them, without start-up and
rendering), and its ratio to the baseline measured in the same run: the
first-edition sample samples/affine.idx (a batched affine layer with a squared
loss, one claim), so that the machine's speed cancels out.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from shapecheck import Options, analyze_path

ROOT = Path(__file__).resolve().parent.parent


def _best(path: Path, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        report = analyze_path(path, Options())
        best = min(best, time.perf_counter() - start)
        if report.errors:
            raise SystemExit(f"{path} has errors: the course set must derive cleanly")
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per file (best kept)")
    repeats = parser.parse_args(argv).repeats
    baseline = _best(ROOT / "samples" / "affine.idx", repeats)
    print(f"baseline samples/affine.idx: {baseline * 1000:.1f} ms (best of {repeats})")
    print(f"{'file':<28}{'ms':>9}{'× baseline':>12}")
    total = 0.0
    files = sorted((ROOT / "samples" / "course").glob("*.idx"))
    for path in files:
        seconds = _best(path, repeats)
        total += seconds
        print(f"{path.name:<28}{seconds * 1000:>9.1f}{seconds / baseline:>12.2f}")
    print(f"{'mean':<28}{total / len(files) * 1000:>9.1f}{total / len(files) / baseline:>12.2f}")


if __name__ == "__main__":
    main()
