"""Derivation benchmark: dL/dU of the RNN unrolled T = 10, 30, 100, 300, 1000 steps.

Prints, for each T, the time to derive dL/dU (reverse mode with named adjoints,
fully simplified) and the printed size of the result (characters of the
formula and its adjoint lines), and their growth relative to the previous T.
Linear growth shows as time and size ratios close to the ratio of the T's.

Then (issue 14, item 6) the whole pipeline in-process, parse to verdicts
(`analyze_source` with numeric verification), at T = 100, 300, 1000 for two
files: the RNN above (loss on the last state, the same-run baseline) and the
RNN with a loss at every step written `L = sum[t in 1..T](...)`, deriving
dL/dWh, dL/dWx and dL/db; with the growth exponent between successive T's
(1 is linear). `--quick` stops the second table at T = 300. Never a test.

    python benchmarks/derive_rnn.py [--quick]
"""

from __future__ import annotations

import math
import statistics
import sys
import time

from shapecheck.pipeline import Options, analyze_source
from shapecheck.render.derivatives import adjoint_line
from shapecheck.source import Source
from shapecheck.symbolic.derive import Deriver
from shapecheck.symbolic.formula import formula

TARGETS_S = {100: 0.1, 1000: 1.0}


def rnn_source(steps: int, function: str = "tanh", tail: str = "derive dL/dU") -> str:
    """The RNN unrolled `steps` steps with activation `function`, its loss the
    last state summed, then `tail` (a `derive`, a claim; the tests use it too)."""
    return (
        "dim h = 4, d = 3\n"
        "param W[d, h], U[h, h], b[h]\n"
        "input s0[h]\n"
        f"for t in 1..{steps}:\n"
        "    input x{t}[d]\n"
        f"    s{{t}}[i] = {function}(x{{t}}[j] W[j, i] + s{{t-1}}[k] U[k, i] + b[i])\n"
        f"L = s{steps}[i]\n"
        f"{tail}\n"
    )


def rnn_sequence_source(steps: int) -> str:
    """The RNN of samples/course/rnn_sequence.idx with T steps."""
    return (
        f"dim T = {steps}, h = 4, d = 3\n"
        "param Wx[d, h], Wh[h, h], b[h]\n"
        "input h0[h]\n"
        "for t in 1..T:\n"
        "    input x{t}[d], y{t}[h]\n"
        "    h{t}[k] = tanh(x{t}[j] Wx[j, k] + h{t-1}[m] Wh[m, k] + b[k])\n"
        "L = sum[t in 1..T](mean[k]((h{t}[k] - y{t}[k])^2))\n"
        "derive dL/dWh, dL/dWx, dL/db\n"
    )


def _pipeline_seconds(text: str) -> float:
    start = time.perf_counter()
    report = analyze_source(Source("rnn.idx", text), Options())
    seconds = time.perf_counter() - start
    assert report.errors == 0, [d.message for d in report.diagnostics]
    return seconds


def pipeline_table(steps: tuple[int, ...]) -> None:
    print("\nparse, check, derive and verify in-process (analyze_source), seconds")
    print(f"{'T':>6} {'last step':>10} {'exponent':>9} {'every step':>11} {'exponent':>9}")
    _pipeline_seconds(rnn_source(3))  # imports and first-use caches out of the timing
    previous: tuple[int, float, float] | None = None
    for count in steps:
        last = _pipeline_seconds(rnn_source(count))
        every = _pipeline_seconds(rnn_sequence_source(count))
        row = f"{count:>6} {last:>10.3f}"
        if previous is None:
            row += f" {'':>9} {every:>11.3f} {'':>9}"
        else:
            growth = math.log(count / previous[0])
            row += f" {math.log(last / previous[1]) / growth:>9.2f}"
            row += f" {every:>11.3f} {math.log(every / previous[2]) / growth:>9.2f}"
        if count == 1000:  # issue 14's target, for the last-step RNN
            row += f"  last step {'ok' if last <= 0.5 else 'MISSED'} <=0.5s"
        print(row)
        previous = (count, last, every)


def main() -> None:
    print("dL/dU of the RNN unrolled T steps (reverse mode, simplified)")
    print(f"{'T':>6} {'derive':>10} {'ratio':>7} {'printed':>10} {'ratio':>7} {'target':>8}")
    previous: tuple[int, float, int] | None = None
    for steps in (10, 30, 100, 300, 1000):
        report = analyze_source(Source("rnn.idx", rnn_source(steps)), Options())
        assert report.checked is not None and report.errors == 0
        times = []
        for _ in range(3):
            deriver = Deriver(report.checked)
            start = time.perf_counter()
            derivation = deriver.derive("L", "U")
            times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
        printed = len(formula(derivation.formula)) + sum(
            len(adjoint_line(a)) for a in derivation.adjoints
        )
        target = TARGETS_S.get(steps)
        row = f"{steps:>6} {seconds * 1000:>8.1f}ms"
        if previous is None:
            row += f" {'':>7} {printed:>10,} {'':>7}"
        else:
            row += f" {seconds / previous[1]:>7.2f} {printed:>10,} {printed / previous[2]:>7.2f}"
        if target is not None:
            row += f" {'ok' if seconds < target else 'MISSED'} <{target:g}s"
        print(row)
        previous = (steps, seconds, printed)
    print("T ratios: 3.00, 3.33, 3.00, 3.33 (linear growth matches these)")
    pipeline_table((100, 300) if "--quick" in sys.argv else (100, 300, 1000))


if __name__ == "__main__":
    main()
