"""Derivation benchmark: dL/dU of the RNN unrolled T = 10, 30, 100, 300, 1000 steps.

Prints, for each T, the time to derive dL/dU (reverse mode with named adjoints,
fully simplified) and the printed size of the result (characters of the
formula and its adjoint lines), and their growth relative to the previous T.
Linear growth shows as time and size ratios close to the ratio of the T's.
Never a test.

    python benchmarks/derive_rnn.py
"""

from __future__ import annotations

import statistics
import time

from shapecheck.pipeline import Options, analyze_source
from shapecheck.render.derivatives import adjoint_line
from shapecheck.render.formula import formula
from shapecheck.source import Source
from shapecheck.symbolic.derive import Deriver

TARGETS_S = {100: 0.1, 1000: 1.0}


def rnn_source(steps: int) -> str:
    return (
        "dim h = 4, d = 3\n"
        "param W[d, h], U[h, h], b[h]\n"
        "input s0[h]\n"
        f"for t in 1..{steps}:\n"
        "    input x{t}[d]\n"
        "    s{t}[i] = tanh(x{t}[j] W[j, i] + s{t-1}[k] U[k, i] + b[i])\n"
        f"L = s{steps}[i]\n"
        "derive dL/dU\n"
    )


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


if __name__ == "__main__":
    main()
