"""Growth of symbolic confirmation: a claim of n terms in textbook form.

L = Σ_k a[i]^k / k with a = tanh(x) has dL/dx = (1 - a^2) Σ_k a^(k-1): the
claim is written factored and with the file's name `a`, the derivation
expands tanh, so only the canonical form (names unfolded, the product
multiplied out, like terms collected) confirms it. For n = 100, 300, 1,000
terms: the seconds to resolve the claim (derivation included, no numeric
check), the seconds of the canonical comparison alone, and the growth
exponents (log-log slopes) between successive n. Near-linear work shows as a
slope near 1. Never a test.

    python benchmarks/canonical_growth.py
"""

from __future__ import annotations

import itertools
import math
import time

from shapecheck.pipeline import Options, front_end
from shapecheck.source import Source
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.canonical import same_canonical_form
from shapecheck.symbolic.claims import resolve_claim
from shapecheck.symbolic.derive import Deriver
from shapecheck.syntax import lines

SIZES = (100, 300, 1_000)


def claim_source(terms: int) -> str:
    loss = " + ".join(f"a[i]^{k} / {k}" for k in range(1, terms + 1))
    series = " + ".join(["1"] + [f"a[i]^{k}" for k in range(1, terms)])
    return (
        "dim n = 3\nparam x[n]\na[i] = tanh(x[i])\n"
        f"L = {loss}\ndL/dx[i] = (1 - a[i]^2) ({series})\n"
    )


def slope(a: tuple[int, float], b: tuple[int, float]) -> float:
    return math.log(b[1] / a[1]) / math.log(b[0] / a[0])


def main() -> None:
    lines.MAX_STATEMENT_CHARS = 10**7  # type: ignore[misc]
    print("a claim of n terms confirmed symbolically (no numeric check)")
    print(f"{'n':>6} {'resolve s':>10} {'canonical s':>12} {'confirmed':>10}")
    rows: list[tuple[int, float, float]] = []
    for n in SIZES:
        checked, problems, _ = front_end(Source("series.idx", claim_source(n)), Options())
        assert not [p for p in problems if p.is_error], problems
        deriver = Deriver(checked)
        start = time.perf_counter()
        result = resolve_claim(deriver, checked.claims[0])
        resolve = time.perf_counter() - start
        # Both sides are kept where the claim was compared written out.
        assert result.term is not None and result.true_term is not None
        truth = t.add([result.true_term], result.derivation.indices)
        start = time.perf_counter()
        same, _ = same_canonical_form(deriver.lowered, result.term, truth)
        canonical = time.perf_counter() - start
        print(f"{n:>6} {resolve:>10.3f} {canonical:>12.3f} {result.matches and same!s:>10}")
        rows.append((n, resolve, canonical))
    for before, after in itertools.pairwise(rows):
        print(
            f"slope {before[0]}->{after[0]}: resolve "
            f"{slope((before[0], before[1]), (after[0], after[1])):.2f}, canonical "
            f"{slope((before[0], before[2]), (after[0], after[2])):.2f}"
        )


if __name__ == "__main__":
    main()
