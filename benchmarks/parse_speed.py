"""Front-end speed against the parser it is built on: Lark's own LALR parse.

Prints figures and their ratio to the baseline; never a test.

    PYTHONPATH=. python benchmarks/parse_speed.py [--lines LINES]     # default 10000

- baseline: `Lark(grammar, parser="lalr")` (Lark's own lexer, a parse tree,
  no transformer) over each line of a generated file, each tree dropped at
  once: the limit of the parser the front end is built on (also shown with
  the trees kept, as the front end keeps its AST, which costs garbage
  collection time);
- `parse`: `shapecheck.syntax.parse.parse` of the whole file (logical lines,
  lexing, parsing, AST building, blocks);
- `parse+unroll+check`: the front end alone, no rendering, derivation or numbers;
- `check --format github`: the command itself, in process (reading the file,
  the whole pipeline, the GitHub annotations), on the same lines without the
  closing loss `L`: with it, `check` would derive dL/dW and dL/db through all
  10,000 definitions by default, which is derivation's speed, not the front
  end's (benchmarks/derive_rnn.py measures that).

Each figure is the median CPU time (`time.process_time`, steadier than wall
time on a shared machine) of several runs; the target of issue 14 is
`parse+unroll+check` within 1.5x the baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lark import Lark

from shapecheck.check.checker import check
from shapecheck.cli import app
from shapecheck.source import Source
from shapecheck.syntax.grammar import grammar_text
from shapecheck.syntax.parse import parse
from shapecheck.syntax.unroll import unroll

TARGET_RATIO = 1.5
RUNS = 7


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


def _interleaved(functions: list[Callable[[], object]], runs: int = RUNS) -> list[list[float]]:
    """CPU seconds of each function in each run; the functions take turns within a run,
    so that a change in the machine's load falls on all of them alike."""
    times: list[list[float]] = [[] for _ in functions]
    for _ in range(runs):
        for function, spent in zip(functions, times, strict=True):
            start = time.process_time()
            function()
            spent.append(time.process_time() - start)
    return times


def _front_end(source: Source) -> int:
    program, problems = parse(source)
    unrolled, more = unroll(program)
    _, most = check(unrolled)
    return len(problems) + len(more) + len(most)


def _check_command(path: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        app(["check", path, "--format", "github"])


def _lark_parse(lark: Lark, lines: list[str]) -> None:
    for line in lines:
        lark.parse(line)  # each tree dropped at once: the parser's own cost alone


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000, help="lines of the generated file")
    count = parser.parse_args(argv).lines
    text = generated_file(count)
    lines = text.splitlines()
    source = Source("big.idx", text)
    lark = Lark(grammar_text(), parser="lalr")
    problems = _front_end(source)  # also warms every cache
    with tempfile.TemporaryDirectory() as folder:
        # Without the closing loss: nothing to derive (see the docstring).
        no_loss = Path(folder) / "big.idx"
        no_loss.write_text("\n".join(lines[:-1]) + "\n")
        _check_command(str(no_loss))  # warms the renderer's imports
        times = _interleaved(
            [
                lambda: _lark_parse(lark, lines),
                lambda: [lark.parse(line) for line in lines],
                lambda: parse(source),
                lambda: _front_end(source),
                lambda: _check_command(str(no_loss)),
            ]
        )
    baseline = times[0]

    tokens = sum(1 for line in lines for _ in lark.lex(line))
    print(f"front-end speed, {count:,} lines, {tokens:,} tokens, {problems} diagnostics")
    print(f"(CPU time, median of {RUNS} interleaved runs; ratio to Lark's LALR parse, per run)")
    labels = [
        "Lark LALR parse, trees dropped",
        "Lark LALR parse, trees kept",
        "parse",
        "parse+unroll+check",
        "check --format github, no loss",
    ]
    for label, spent in zip(labels, times, strict=True):
        ratio = statistics.median(t / b for t, b in zip(spent, baseline, strict=True))
        note = f"   target {TARGET_RATIO:.2f}" if label in labels[-2:] else ""
        median_ms = statistics.median(spent) * 1000
        print(f"  {label:32} {median_ms:8.1f} ms   ratio {ratio:.2f}{note}")


if __name__ == "__main__":
    main()
