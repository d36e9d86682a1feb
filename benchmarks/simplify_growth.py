"""Growth of symbolic work for n = 100, 1,000, 10,000: dL/da of a product
L = a[i0] a[i1] ... a[i(n-1)]; of n like terms L = w a[i0]^2 + w a[i1]^2 + ...
(collected into one); and of n distinct terms with a common factor
L = w a[i0] + w a[i1]^2 + ... + w a[i(n-1)]^n (the factor pulled out).

For each n: the time and peak memory (tracemalloc) of deriving dL/da in
process with no numeric verification, next to a baseline measured in the same
run on the same file (`analyze_source` without verification: parsing,
checking and the file's own `derive dL/da` with its folding), and the growth exponents
(log-log slopes) of both between successive n. Linear work shows as a slope
near 1. A statement is limited to 20,000 characters (E012), so for 10,000
factors that limit is raised here, in this process only. Never a test.

    python benchmarks/simplify_growth.py
"""

from __future__ import annotations

import itertools
import math
import time
import tracemalloc
from collections.abc import Callable
from typing import TypeVar

from shapecheck.pipeline import Options, analyze_source
from shapecheck.source import Source
from shapecheck.symbolic.derive import Deriver
from shapecheck.syntax import lines

SIZES = (100, 1_000, 10_000)
_T = TypeVar("_T")


def product_source(factors: int) -> str:
    body = " ".join(f"a[i{k}]" for k in range(factors))
    return f"dim k = 2\nparam a[k]\nL = {body}\nderive dL/da\n"


def like_terms_source(terms: int) -> str:
    body = " + ".join(f"w a[i{k}]^2" for k in range(terms))
    return f"dim k = 2\nparam a[k], w\nL = {body}\nderive dL/da\n"


def common_factor_source(terms: int) -> str:
    body = " + ".join(f"w a[i{k}]^{k + 1}" for k in range(terms))
    return f"dim k = 2\nparam a[k], w\nL = {body}\nderive dL/da\n"


CASES: tuple[tuple[str, Callable[[int], str]], ...] = (
    ("a product of n factors a[i0] ...", product_source),
    ("n like terms w a[i0]^2 + ...", like_terms_source),
    ("n terms with a common factor w a[i0] + w a[i1]^2 + ...", common_factor_source),
)


def measured(work: Callable[[], _T]) -> tuple[_T, float, int]:
    """The result, the seconds and the peak bytes of `work` (timed without tracing)."""
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak


def slope(a: tuple[int, float], b: tuple[int, float]) -> float:
    return math.log(b[1] / a[1]) / math.log(b[0] / a[0])


def main() -> None:
    lines.MAX_STATEMENT_CHARS = 10**7  # type: ignore[misc]
    for title, make in CASES:
        grow(title, make)


def grow(title: str, make: Callable[[int], str]) -> None:
    print(f"dL/da of {title} (derive, no verification)")
    print(f"{'n':>7} {'check':>9} {'derive':>9} {'ratio':>6} {'peak MB':>8}")
    rows: list[tuple[int, float, float, int]] = []
    for n in SIZES:
        source = Source("growth.idx", make(n))
        report, check_s, _ = measured(lambda s=source: analyze_source(s, Options(verify=False)))
        assert report.checked is not None and report.errors == 0, report.diagnostics
        checked = report.checked
        _, derive_s, peak = measured(lambda c=checked: Deriver(c).derive("L", "a"))
        rows.append((n, check_s, derive_s, peak))
        print(
            f"{n:>7} {check_s * 1000:>7.0f}ms {derive_s * 1000:>7.0f}ms "
            f"{derive_s / check_s:>6.2f} {peak / 2**20:>8.1f}"
        )
    for (n0, c0, d0, p0), (n1, c1, d1, p1) in itertools.pairwise(rows):
        print(
            f"growth {n0:>6} -> {n1:<6}: derive n^{slope((n0, d0), (n1, d1)):.2f}, "
            f"check (baseline) n^{slope((n0, c0), (n1, c1)):.2f}, "
            f"peak memory n^{slope((n0, p0), (n1, p1)):.2f}"
        )


if __name__ == "__main__":
    main()
