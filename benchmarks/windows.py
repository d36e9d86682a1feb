"""Windows benchmark: derive and verify a 2-d convolution as its input grows.

Prints figures, never a test.

    python -m benchmarks.windows [--repeats N] [--quiet]

For inputs of 8×8, 16×16, 32×32 and 64×64 with a 3×3 kernel
(`Y[a:m, b:m] = X[a + u - 1, b + v - 1] K[u, v]`, `dim m = n - k + 1`): the
best of N in-process analyses (parse, check, derive, verify, as `shapecheck
derive` runs them), its ratio to the baseline measured in the same run
(samples/affine.idx), and the growth exponent between successive sizes in
the number of input entries (1 is linear). Index expressions are read by
numpy gathers, so the cost of the gathers grows about linearly with the
input; the verification's mode does not: a small Jacobian is checked entry
by entry (`full`), a larger one along random directions, so 16×16 (a full
check) can take longer than 32×32 and the exponents are not monotone.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from shapecheck import FileReport, Options, analyze_path, analyze_text

ROOT = Path(__file__).resolve().parent.parent
SIDES = (8, 16, 32, 64)


def conv2d_source(side: int, kernel: int = 3) -> str:
    return (
        f"dim n = {side}, k = {kernel}, m = n - k + 1\n"
        "input X[n, n]\nparam K[k, k], c\n"
        "Y[a:m, b:m] = X[a + u - 1, b + v - 1] K[u, v] + c\n"
        "L = Y[a, b] Y[a, b]\n"
        "derive dL/dK, dL/dc, dL/dX\n"
    )


def _best(run: Callable[[], FileReport], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        report = run()
        best = min(best, time.perf_counter() - start)
        if report.errors:
            raise SystemExit(f"errors: {[d.message for d in report.diagnostics]}")
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quiet", action="store_true", help="only the table")
    args = parser.parse_args(argv)
    baseline = _best(lambda: analyze_path(ROOT / "samples" / "affine.idx", Options()), args.repeats)
    if not args.quiet:
        print(f"baseline samples/affine.idx: {baseline * 1000:.1f} ms (best of {args.repeats})")
    print(f"{'input':<10}{'ms':>9}{'× baseline':>12}{'growth':>9}")
    previous: tuple[int, float] | None = None
    for side in SIDES:
        source = conv2d_source(side)
        seconds = _best(
            partial(analyze_text, f"conv2d_{side}.idx", source, Options()), args.repeats
        )
        growth = ""
        if previous is not None:
            entries, before = previous
            growth = f"{math.log(seconds / before) / math.log(side * side / entries):.2f}"
        print(f"{f'{side}×{side}':<10}{seconds * 1000:>9.1f}{seconds / baseline:>12.2f}{growth:>9}")
        previous = (side * side, seconds)


if __name__ == "__main__":
    main()
