"""Large statements: the front end stays linear, or stops at a documented limit with a place."""

from __future__ import annotations

import gc

from shapecheck.check.checker import check
from shapecheck.source import Source
from shapecheck.syntax.lines import MAX_STATEMENT_CHARS
from shapecheck.syntax.parse import parse
from shapecheck.syntax.unroll import unroll


def front_end(text: str) -> list[tuple[str, int | None]]:
    program, problems = parse(Source("big.idx", text))
    unrolled, more = unroll(program)
    _, most = check(unrolled)
    return [(d.code, d.span.start if d.span else None) for d in [*problems, *more, *most]]


def test_ten_thousand_factors_stop_at_the_statement_limit_where_the_statement_starts() -> None:
    header = "dim k = 2\nparam a[k]\n"
    text = header + "L = " + " ".join(f"a[i{j}]" for j in range(10_000)) + "\n"
    assert len(text) - len(header) > MAX_STATEMENT_CHARS
    assert ("E012", len(header)) in front_end(text)


def test_the_longest_product_the_limit_allows_checks() -> None:
    # ~10,000 factors in 20,000 characters: parsed and checked without
    # recursion (no RecursionError) and without a quadratic scan.
    factors = (MAX_STATEMENT_CHARS - 10) // 2
    text = "param a\nL = " + " ".join(["a"] * factors) + "\n"
    assert front_end(text) == []


def test_thousands_of_distinct_summed_indices_check() -> None:
    text = "dim k = 2\nparam a[k]\nL = " + " ".join(f"a[i{j}]" for j in range(2_000)) + "\n"
    assert front_end(text) == []


def test_the_front_end_leaves_the_garbage_collector_as_it_found_it() -> None:
    text = "dim k = 2\nparam a[k]\nL = a[i] a[i]\n"
    assert gc.isenabled()
    front_end(text)
    assert gc.isenabled()
    gc.disable()
    try:
        front_end(text)
        assert not gc.isenabled()
    finally:
        gc.enable()
