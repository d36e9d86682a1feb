"""The entry point of the syntax stage: source text -> `ast.Program` and every syntax error.

A straight pipeline, each step called once: `lines.split_lines` cuts the file
into logical lines; each line is lexed (`lexer.py`) and parsed (`lalr.py`,
with the tables of `_tables.py`) while `build.py` builds its AST node; once
every line is parsed, a rejected line becomes a diagnostic worded with the
names the file declares (`errors.py`, `notation.py`); `blocks.group_blocks` nests the
parsed lines under their `for` headers. `unroll.py` runs later, once sizes
are known.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from shapecheck.collector import collector_paused
from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.source import Source, Span
from shapecheck.syntax import ast
from shapecheck.syntax.blocks import ParsedLine, group_blocks
from shapecheck.syntax.build import AstBuilder, SyntaxProblem
from shapecheck.syntax.errors import syntax_problem, tokens_before
from shapecheck.syntax.lalr import LineParser, Rejected
from shapecheck.syntax.lexer import NoTerminal, lex
from shapecheck.syntax.lines import LogicalLine, split_lines
from shapecheck.syntax.notation import FileNames, Rejection, unknown_call

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use, their other methods on first call (deferred.py)
    from shapecheck.deferred import dataclass

MAX_FILE_CHARS = 10_000_000
MAX_EXPRESSION_DEPTH = 100
# The name a broken definition line seems to define: `y[i] = (x[i] + 1` -> y.
# A broken `input`/`param` line with a value (`input y[2] = [1, 2] in c`)
# seems to declare its first name, as a broken definition defines its own.
_DEFINED_NAME = re.compile(r"(?:(?:input|param)\s+)?([A-Za-z_][A-Za-z0-9_{}+\-]*)\s*(?:\[[^=]*)?=")


def parse(source: Source) -> tuple[ast.Program, list[Diagnostic]]:
    """Parse a whole file; statements that fail to parse are left out and reported."""
    if len(source.text) > MAX_FILE_CHARS:
        return ast.Program(()), [_file_too_long(source)]
    with collector_paused():
        return _parse(source)


def _parse(source: Source) -> tuple[ast.Program, list[Diagnostic]]:
    lines, dropped, problems = split_lines(source)
    attempts = _with_functions(source, [_attempt(source, line) for line in lines])

    # Errors are worded once every line is parsed, so that a message can use
    # the names and ranks the whole file declares (`X[i, j] W[j, k]`). They are
    # gathered (a walk of every statement) only when a line needs wording.
    @functools.cache
    def names() -> FileNames:
        return FileNames.of(
            [a.statement for a in attempts if a.statement is not None],
            _defined_names(
                source, [a.line.span for a in attempts if a.statement is None] + dropped
            ),
        )

    parsed: list[ParsedLine] = []
    for attempt in attempts:
        item, problem = _worded(source, attempt, names)
        parsed.append(item)
        if problem is not None:
            problems.append(problem)
    statements, block_problems = group_blocks(parsed)
    problems.extend(block_problems)
    problems.sort(key=lambda d: d.span.start if d.span else -1)
    broken = [item.line.span for item in parsed if item.statement is None]
    unparsed = _defined_names(source, broken + dropped)
    return ast.Program(statements, unparsed_names=unparsed, complete=not problems), problems


@dataclass(frozen=True)
class _Attempt:
    """One logical line parsed: its statement, or why it has none (worded later)."""

    line: LogicalLine
    text: str
    statement: ast.LineStatement | ast.ForHeader | None
    problem: Diagnostic | NoTerminal | Rejected | None


def _attempt(
    source: Source, line: LogicalLine, functions: frozenset[str] = frozenset()
) -> _Attempt:
    text = source.text[line.span.start : line.span.end]
    statement, problem = _statement(text, line.span, functions)
    return _Attempt(line, text, statement, problem)


def _with_functions(source: Source, attempts: list[_Attempt]) -> list[_Attempt]:
    """The lines again that call a function the file declares with `fn` (spec 9.5).

    Only a declared name makes `f(x)` a call rather than the product `f (x)`,
    so the lines are parsed once to find the `fn` statements, and the lines
    that write one of their names before `(` or a prime are parsed again
    knowing them (a use above the declaration parses too, and is reported
    by the checker as used before its declaration).
    """
    declared = frozenset(
        name.name
        for attempt in attempts
        if isinstance(attempt.statement, ast.FnStmt)
        for name in attempt.statement.names
    )
    if not declared:
        return attempts
    functions = declared | _step_names(source.text, declared)
    called = re.compile(
        r"(?<![A-Za-z0-9_}])(?:"
        + "|".join(re.escape(name) for name in sorted(functions))
        + r")[ \t\f\r\n]*['(]"
    )
    return [
        _attempt(source, attempt.line, functions) if called.search(attempt.text) else attempt
        for attempt in attempts
    ]


def _step_names(text: str, declared: frozenset[str]) -> frozenset[str]:
    """The step names the file calls of each template `fn f{t}` (spec 7): `f1`
    in `f1'(w[i])` below the loop that declares f1 and f2. Which steps exist is
    known only once the loop unrolls, so every `f` + digits written before `(`
    or a prime is a call here; the checker reports a step no loop declares."""
    patterns = [
        _TEMPLATE.sub(r"\\d+", re.escape(name).replace(r"\{", "{").replace(r"\}", "}"))
        for name in sorted(declared)
        if "{" in name
    ]
    if not patterns:
        return frozenset()
    written = re.compile(r"(?<![A-Za-z0-9_}])((?:" + "|".join(patterns) + r"))(?=[ \t\f\r\n]*['(])")
    return frozenset(match.group(1) for match in written.finditer(text))


def _worded(
    source: Source, attempt: _Attempt, names: Callable[[], FileNames]
) -> tuple[ParsedLine, Diagnostic | None]:
    statement, problem, text = attempt.statement, attempt.problem, attempt.text
    start = attempt.line.span.start
    if isinstance(problem, NoTerminal | Rejected):
        problem = syntax_problem(problem, text, start, names())
    elif isinstance(statement, ast.Definition | ast.Claim) and _may_write_a_call(text):
        # `transpose(W)` parses as a product; a name the file never gives a
        # meaning, written like a call, is worded as the call it is.
        problem = unknown_call(
            Rejection.of(text, len(text), start, names()), tokens_before(text, len(text))
        )
        statement = None if problem is not None else statement
    # A `for` line that failed to parse still opens a block.
    opens_block = isinstance(statement, ast.ForHeader) or (statement is None and _is_for(text))
    return ParsedLine(attempt.line, statement, opens_block), problem


# A loop template in a name: `{t}` in `f{t}`, `{t-1}` in `h{t-1}` (spec 7).
_TEMPLATE = re.compile(r"\{[^{}]*\}")

# A run of name characters directly before `(`: where a name may stand as a
# call. Tried only where a run starts: from inside a long run that no `(`
# ends, each start would cost the rest of the run (the square of its length).
_BEFORE_PARENTHESIS = re.compile(r"(?<![A-Za-z0-9_{}])([A-Za-z0-9_{}]+)\(")


def _may_write_a_call(text: str) -> bool:
    """False when no name of the line stands directly before `(`, so that
    `unknown_call` cannot find one: only `tanh(`, `sum[j](`, `2(` and the like.

    A cheap test first, because the full one lexes the line a second time (it
    was a fifth of `check` on a long file). It never says False wrongly: a
    run of name characters before `(` that is not one keyword or one number
    (`transpose(`, `x1tanh(`, `h{t}(`, a word in a comment) says True."""
    return any(not _one_keyword(m.group(1)) for m in _BEFORE_PARENTHESIS.finditer(text))


@functools.lru_cache(maxsize=256)
def _one_keyword(word: str) -> bool:
    """`word` lexes as a single token that is not a NAME (`tanh`, `max`, `2`)."""
    try:
        tokens = list(lex(word))
    except NoTerminal:
        return False
    return len(tokens) == 1 and tokens[0].type != "NAME" and tokens[0].value == word


@functools.lru_cache(maxsize=1)
def _line_parser() -> tuple[LineParser, AstBuilder]:
    """The parser of one logical line, and the builder it calls (to set its `offset`)."""
    builder = AstBuilder()
    return LineParser(builder), builder


def _statement(
    text: str, span: Span, functions: frozenset[str] = frozenset()
) -> tuple[ast.LineStatement | ast.ForHeader | None, Diagnostic | NoTerminal | Rejected | None]:
    parser, builder = _line_parser()
    builder.offset = span.start
    builder.text = text
    parser.functions = functions
    try:
        # The builder makes the result a statement, not a tree.
        statement: ast.LineStatement | ast.ForHeader = parser.parse(text)
    except SyntaxProblem as problem:
        return None, problem.problem
    except (NoTerminal, Rejected) as error:
        return None, error
    # Every node of a path from the root holds a token of its own or has two
    # children, so an expression is no deeper than its tokens are many, and
    # a line shorter than the limit needs no walk.
    if (
        len(text) > MAX_EXPRESSION_DEPTH
        and isinstance(statement, ast.Definition | ast.Claim)
        and ast.depth(statement.rhs) > MAX_EXPRESSION_DEPTH
    ):
        return None, diagnostic(
            Code.E011,
            span,
            f"expression nested more than {MAX_EXPRESSION_DEPTH} deep",
            hints=["split it into several definitions"],
        )
    return statement, None


def _is_for(text: str) -> bool:
    return text.startswith("for") and (len(text) == 3 or not (text[3].isalnum() or text[3] in "_{"))


def _file_too_long(source: Source) -> Diagnostic:
    return diagnostic(
        Code.E012,
        None,
        f"file is {len(source.text):,} characters long; the limit is {MAX_FILE_CHARS:,}",
    )


def _defined_names(source: Source, spans: list[Span]) -> tuple[str, ...]:
    """The names that statements which were not parsed seem to define."""
    return tuple(
        match.group(1)
        for span in spans
        if (match := _DEFINED_NAME.match(source.text, span.start)) is not None
    )
