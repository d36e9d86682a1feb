"""Front-end speed against the parser it is built on: Lark's own LALR parse.

Prints figures and their ratio to the baseline; never a test.

    PYTHONPATH=. python benchmarks/parse_speed.py [LINES]

- baseline: `Lark(grammar, parser="lalr")` (Lark's own lexer, a parse tree,
  no transformer) over each line of a generated file, the limit of the parser
  the front end is built on;
- `parse`: `shapecheck.syntax.parse.parse` of the whole file (logical lines,
  lexing, parsing, AST building, blocks);
- `parse+unroll+check`: the front end alone, no rendering, derivation or numbers.

Each figure is the median of several runs; the target of issue 14 is
`parse+unroll+check` within 1.5x the baseline.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from lark import Lark

from shapecheck.check.checker import check
from shapecheck.source import Source
from shapecheck.syntax.grammar import grammar_text
from shapecheck.syntax.parse import parse
from shapecheck.syntax.unroll import unroll

TARGET_RATIO = 1.5
RUNS = 5


def generated_file(lines: int) -> str:
    """`lines` lines: a few declarations, then definitions with varied names.

    Each definition is ~33 tokens and uses the one before it, so that every
    array is used and the checker sees a long chain of definitions.
    """
    out = ["dim n = 8, d = 3, h = 5", "input X[n, d], Y0[n, h]", "param W[d, h], b[h]"]
    for k in range(1, lines - 3):
        out.append(f"Y{k}[i, k] = X[i, j] W[j, k] + b[k] * tanh(Y{k - 1}[i, k])")
    out.append(f"L = Y{lines - 4}[i, k] Y{lines - 4}[i, k]")
    return "\n".join(out) + "\n"


def _median(function: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _front_end(source: Source) -> int:
    program, problems = parse(source)
    unrolled, more = unroll(program)
    _, most = check(unrolled)
    return len(problems) + len(more) + len(most)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    text = generated_file(count)
    lines = text.splitlines()
    source = Source("big.idx", text)
    lark = Lark(grammar_text(), parser="lalr")
    problems = _front_end(source)  # also warms every cache

    baseline = _median(lambda: [lark.parse(line) for line in lines])
    parse_s = _median(lambda: parse(source))
    front_s = _median(lambda: _front_end(source))

    tokens = sum(1 for line in lines for _ in lark.lex(line))
    print(f"front-end speed, {count:,} lines, {tokens:,} tokens, {problems} diagnostics")
    print(f"  Lark LALR parse (baseline)   {baseline * 1000:8.1f} ms   ratio 1.00")
    print(
        f"  parse                        {parse_s * 1000:8.1f} ms   ratio {parse_s / baseline:.2f}"
    )
    print(
        f"  parse+unroll+check           {front_s * 1000:8.1f} ms   ratio {front_s / baseline:.2f}"
        f"   target {TARGET_RATIO:.2f}"
    )


if __name__ == "__main__":
    main()
