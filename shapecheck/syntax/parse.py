"""Parse `.idx` text into the AST, collecting every syntax error.

`lines.py` cuts the file into logical lines and `for` blocks; each line is
parsed by Lark (LALR, with a single-regex lexer over the grammar's own
terminals) with an embedded Transformer that builds AST
nodes during the parse, so no parse tree is kept and no recursion depends on
the input. Lark's exceptions become diagnostics that name what was expected
in words, with specific messages for the common mistakes.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import Lexer

from shapecheck.diagnostics import Diagnostic, diagnostic
from shapecheck.source import Source, Span
from shapecheck.syntax import ast
from shapecheck.syntax.lines import LineNode, LogicalLine, group_blocks, split_lines

MAX_FILE_CHARS = 10_000_000
# The name a broken definition line seems to define: `y[i] = (x[i] + 1` -> y.
_DEFINED_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_{}+\-]*)\s*(?:\[[^=]*)?=")
MAX_EXPRESSION_DEPTH = 100

_KEYWORD_TOKENS = frozenset(
    [
        "DIM",
        "INPUT",
        "PARAM",
        "DERIVE",
        "FOR",
        "IN",
        "LAYOUT",
        "POSITIVE",
        "SUM",
        "DELTA",
        "LOSS",
        "FUNC",
    ]
)

# Terminal names in words, for "expected ..." lists.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "DERIV": "a derivative such as `dL/dW`",
    "FUNC": "a function name",
    "DIM": "`dim`",
    "INPUT": "`input`",
    "PARAM": "`param`",
    "DERIVE": "`derive`",
    "FOR": "`for`",
    "IN": "`in`",
    "LAYOUT": "`layout`",
    "POSITIVE": "`positive`",
    "SUM": "`sum`",
    "DELTA": "`delta`",
    "LOSS": "`loss`",
    "RANGE": "`..`",
    "POW": "`^`",
    "MUL": "`*`",
    "DIV": "`/`",
    "PLUS": "`+`",
    "MINUS": "`-`",
    "EQUAL": "`=`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "$END": "the end of the statement",
}
_ATOM_STARTS = frozenset({"NAME", "NUMBER", "DERIV", "FUNC", "LOSS", "SUM", "DELTA", "LPAR"})


def _grammar_text() -> str:
    # Installed: shipped inside the package by the wheel's force-include.
    # From a source checkout: the top-level grammar/ folder.
    packaged = resources.files("shapecheck").joinpath("grammar").joinpath("idx.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "idx.lark").read_text(
        encoding="utf-8"
    )


def _number(token: Token) -> float:
    return float(token.value)


class _SyntaxProblem(Exception):
    """Raised by the builder for a construct the grammar accepts but the language does not."""

    def __init__(self, problem: Diagnostic) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _split_deriv(token: Token) -> tuple[str, str]:
    of, wrt = token.value.split("/", 1)
    return of[1:], wrt[1:]


class _Bracketed(tuple):  # type: ignore[type-arg]
    """The items of `[...]`, remembering where the closing `]` ended."""

    end: int


def _bracketed(items: list[Any], end: int) -> _Bracketed:
    result = _Bracketed(items)
    result.end = end
    return result


class _AstBuilder(Transformer[Token, Any]):
    """One method per grammar rule; builds AST nodes and nothing else.

    Lark reports positions within the parsed line; `offset` (the line's start
    in the file) is added to every span so nodes point into the whole file.
    """

    def __init__(self) -> None:
        super().__init__()
        self.offset = 0

    def _at(self, start: int, end: int) -> Span:
        return Span(start + self.offset, end + self.offset)

    def _token_span(self, token: Token) -> Span:
        # The basic lexer always sets positions; 0 only satisfies the type.
        return self._at(token.start_pos or 0, token.end_pos or 0)

    def _span(self, first: Any, last: Any) -> Span:
        start = self._token_span(first).start if isinstance(first, Token) else first.span.start
        if isinstance(last, Token):
            end = self._token_span(last).end
        elif isinstance(last, _Bracketed):
            end = last.end + self.offset
        else:
            end = last.span.end
        return Span(start, end)

    # ---- statements
    def dim_stmt(self, children: list[Any]) -> ast.DimStmt:
        entries = tuple(c for c in children if isinstance(c, ast.DimEntry))
        return ast.DimStmt(entries, self._span(children[0], entries[-1]))

    def dim_entry(self, children: list[Any]) -> ast.DimEntry:
        name = children[0]
        if len(children) == 1:
            return ast.DimEntry(name.value, None, self._token_span(name))
        value, end = children[2]
        return ast.DimEntry(name.value, value, self._at(name.start_pos, end))

    def int_expr(self, children: list[Any]) -> tuple[int | float, int]:
        result: int | float = 1
        end = 0
        for child in children:
            if not isinstance(child, Token):
                value, end = child
                try:
                    result = result * value
                except OverflowError:
                    result = float("inf")
        return result, end

    def int_power(self, children: list[Any]) -> tuple[int | float, int]:
        base = _number(children[0])
        end = children[-1].end_pos
        if len(children) == 1:
            return (int(base) if base.is_integer() else base), end
        exponent = _number(children[2])
        if base.is_integer() and exponent.is_integer() and 0 <= exponent <= 64:
            return int(base) ** int(exponent), end
        try:
            return float(base**exponent), end
        except OverflowError:
            return float("inf"), end

    def decl_stmt(self, children: list[Any]) -> ast.DeclStmt:
        entries = tuple(c for c in children if isinstance(c, ast.ArrayDecl))
        return ast.DeclStmt(children[0].value, entries, self._span(children[0], entries[-1]))

    def decl_entry(self, children: list[Any]) -> ast.ArrayDecl:
        name = children[0]
        shape: tuple[ast.ShapeItem, ...] = ()
        positive = False
        value = None
        for child in children[1:]:
            if isinstance(child, _Bracketed):
                shape = tuple(child)
            elif isinstance(child, ast.LiteralValue):
                value = child
            elif isinstance(child, Token) and child.type == "POSITIVE":
                positive = True
        return ast.ArrayDecl(name.value, shape, positive, value, self._span(name, children[-1]))

    def shape(self, children: list[Any]) -> _Bracketed:
        items = [c for c in children if not isinstance(c, Token)]
        return _bracketed(items, children[-1].end_pos)

    def shape_item(self, children: list[Any]) -> ast.ShapeItem:
        token = children[0]
        span = self._token_span(token)
        if token.type == "NAME":
            return ast.SizeName(token.value, span)
        value = _number(token)
        if not value.is_integer():
            raise _SyntaxProblem(
                diagnostic("E105", span, f"a size must be a whole number, not `{token.value}`")
            )
        return ast.SizeLiteral(int(value), span)

    def literal(self, children: list[Any]) -> ast.LiteralValue:
        if len(children) == 1:
            return children[0]  # type: ignore[no-any-return]
        items = tuple(c.data for c in children if isinstance(c, ast.LiteralValue))
        return ast.LiteralValue(items, self._span(children[0], children[-1]))

    def signed_number(self, children: list[Any]) -> ast.LiteralValue:
        value = _number(children[-1])
        if len(children) == 2:
            value = -value
        return ast.LiteralValue(value, self._span(children[0], children[-1]))

    def derive_stmt(self, children: list[Any]) -> ast.DeriveStmt:
        targets = []
        for token in children[1:]:
            if token.type == "DERIV":
                of, wrt = _split_deriv(token)
                targets.append(ast.DeriveTarget(of, wrt, self._token_span(token)))
        return ast.DeriveStmt(tuple(targets), self._span(children[0], children[-1]))

    def layout_stmt(self, children: list[Any]) -> ast.LayoutStmt:
        name = children[1]
        if name.value not in ("numerator", "denominator"):
            raise _SyntaxProblem(
                diagnostic(
                    "E109",
                    self._token_span(name),
                    f"unknown layout `{name.value}`",
                    hints=["write `layout numerator` or `layout denominator`"],
                )
            )
        return ast.LayoutStmt(name.value, self._span(children[0], name))

    def for_header(self, children: list[Any]) -> ast.ForHeader:
        return ast.ForHeader(
            children[1].value, children[3], children[5], self._span(children[0], children[-1])
        )

    def bound(self, children: list[Any]) -> ast.Bound:
        token = children[0]
        span = self._token_span(token)
        if token.type == "NAME":
            return ast.Bound(None, token.value, span)
        value = _number(token)
        if not value.is_integer():
            raise _SyntaxProblem(
                diagnostic("E111", span, f"a loop bound must be a whole number, not `{token}`")
            )
        return ast.Bound(int(value), None, span)

    def definition(self, children: list[Any]) -> ast.Definition:
        name = children[0]
        indices = tuple(children[1]) if len(children) == 4 else ()
        return ast.Definition(
            name.value,
            indices,
            children[-1],
            self._span(name, children[-1]),
            self._span(name, children[1] if len(children) == 4 else name),
        )

    def claim(self, children: list[Any]) -> ast.Claim:
        token = children[0]
        of, wrt = _split_deriv(token)
        indices = tuple(children[1]) if len(children) == 4 else ()
        return ast.Claim(
            of,
            wrt,
            indices,
            children[-1],
            self._span(token, children[-1]),
            self._span(token, children[1] if len(children) == 4 else token),
        )

    def index_list(self, children: list[Any]) -> _Bracketed:
        items = [c for c in children if not isinstance(c, Token)]
        return _bracketed(items, children[-1].end_pos)

    def index(self, children: list[Any]) -> ast.Index:
        token = children[0]
        span = self._token_span(token)
        if token.type == "NAME":
            return ast.IndexName(token.value, span)
        value = _number(token)
        if not value.is_integer() or not token.value.isdigit():
            raise _SyntaxProblem(
                diagnostic(
                    "E203",
                    span,
                    f"a literal index is a whole number from 1, not `{token.value}`",
                )
            )
        if value < 1:
            raise _SyntaxProblem(
                diagnostic(
                    "E203",
                    span,
                    "literal indices start at 1",
                    hints=["the notation is 1-based, as in the notes' x₁₂"],
                )
            )
        return ast.IndexLiteral(int(value), span)

    # ---- expressions
    def sum_expr(self, children: list[Any]) -> ast.Expr:
        if len(children) == 1:
            return children[0]  # type: ignore[no-any-return]
        terms = [ast.Term("+", children[0])]
        for sign, expr in zip(children[1::2], children[2::2], strict=True):
            terms.append(ast.Term(sign.value, expr))
        return ast.Add(tuple(terms), self._span(children[0], children[-1]))

    def product(self, children: list[Any]) -> ast.Expr:
        if len(children) == 1:
            return children[0]  # type: ignore[no-any-return]
        factors = [ast.Factor("", children[0])]
        pending = " "  # juxtaposition unless an operator came first
        for child in children[1:]:
            if isinstance(child, Token):
                pending = "/" if child.type == "DIV" else "*"
            else:
                factors.append(ast.Factor(pending, child))
                pending = " "
        return ast.Product(tuple(factors), self._span(children[0], children[-1]))

    def negate(self, children: list[Any]) -> ast.Negate:
        return ast.Negate(children[1], self._span(children[0], children[1]))

    def power(self, children: list[Any]) -> ast.Power:
        return ast.Power(children[0], children[2], self._span(children[0], children[2]))

    def number(self, children: list[Any]) -> ast.Number:
        token = children[0]
        return ast.Number(_number(token), token.value, self._token_span(token))

    def array_ref(self, children: list[Any]) -> ast.ArrayRef:
        name = children[0]
        indices = tuple(children[1]) if len(children) == 2 else ()
        return ast.ArrayRef(name.value, indices, self._span(name, children[-1]))

    def delta(self, children: list[Any]) -> ast.Delta:
        return ast.Delta(tuple(children[1]), self._span(children[0], children[1]))

    def deriv_ref(self, children: list[Any]) -> ast.DerivRef:
        token = children[0]
        of, wrt = _split_deriv(token)
        indices = tuple(children[1]) if len(children) == 2 else ()
        return ast.DerivRef(of, wrt, indices, self._span(token, children[-1]))

    def call(self, children: list[Any]) -> ast.Call:
        return ast.Call(children[0].value, children[2], self._span(children[0], children[-1]))

    def loss(self, children: list[Any]) -> ast.Loss:
        name = children[2]
        return ast.Loss(name.value, self._span(children[0], children[-1]), self._token_span(name))

    def sum_over(self, children: list[Any]) -> ast.SumOver:
        names = [c for c in children[2:] if isinstance(c, Token) and c.type == "NAME"]
        indices = tuple(ast.IndexName(n.value, self._token_span(n)) for n in names)
        body = next(c for c in children if not isinstance(c, Token))
        return ast.SumOver(indices, body, self._span(children[0], children[-1]))

    def paren(self, children: list[Any]) -> ast.Expr:
        return replace(children[1], span=self._span(children[0], children[2]))  # type: ignore[no-any-return]


class _ScannerLexer(Lexer):
    """Lark's own terminals, matched by one compiled regular expression.

    Lark's basic lexer spends ~7 µs per token on bookkeeping (line counting,
    state objects); statements are short and positions are all we need, so
    this lexer matches the same terminals, in Lark's own order of precedence
    (priority, then longest possible match, then longest pattern), with one
    `re.match` per token. The grammar file stays the only definition of every
    terminal.
    """

    def __init__(self, lexer_conf: Any) -> None:
        terminals = sorted(
            lexer_conf.terminals,
            key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
        )
        self._scan = re.compile(
            "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals)
        ).match
        self._ignore = frozenset(lexer_conf.ignore)

    def lex(self, text: str) -> Iterator[Token]:  # type: ignore[override]
        scan, ignore = self._scan, self._ignore
        position, length = 0, len(text)
        while position < length:
            found = scan(text, position)
            if found is None:
                raise UnexpectedCharacters(text, position, 1, position + 1)  # type: ignore[no-untyped-call]
            kind = found.lastgroup or ""
            end = found.end()
            if kind not in ignore:
                yield Token(kind, found.group(), position, 1, position + 1, 1, end + 1, end)
            position = end


def _cache_file() -> str | bool:
    """Where Lark keeps the built LALR tables between runs.

    Building them takes ~0.15 s, loading them ~5 ms, which decides whether
    `shapecheck check` starts fast. The cache lives in the user's own cache
    folder (a pickle in a shared temporary folder could be planted by another
    user); Lark keys it by grammar and options and rebuilds on any change.
    Where no cache folder can be made, the tables are built every run.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "shapecheck")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False
    if not os.access(folder, os.W_OK):
        return False
    return os.path.join(folder, "idx-grammar.lark-cache")


@functools.lru_cache(maxsize=1)
def _line_parser() -> tuple[Lark, _AstBuilder]:
    builder = _AstBuilder()
    parser = Lark(
        _grammar_text(),
        parser="lalr",
        lexer=_ScannerLexer,
        transformer=builder,
        maybe_placeholders=False,
        cache=_cache_file(),
    )
    return parser, builder


def _describe(token: Token) -> str:
    if token.type == "$END":
        return "the end of the statement"
    if token.type == "NAME":
        return f"name `{token.value}`"
    if token.type == "NUMBER":
        return f"number `{token.value}`"
    if token.type in _KEYWORD_TOKENS:
        return f"keyword `{token.value}`"
    return f"`{token.value}`"


def _words(expected: set[str]) -> str:
    names = sorted({_TERMINAL_WORDS.get(name, name) for name in expected})
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _open_count(text: str, closer: str) -> int:
    opener = "(" if closer == ")" else "["
    return max(0, text.count(opener) - text.count(closer))


def _syntax_problem(error: UnexpectedInput, text: str, offset: int) -> Diagnostic:
    """Turn a Lark error within one statement into a worded diagnostic."""
    if isinstance(error, UnexpectedCharacters):
        at = error.pos_in_stream or 0
        span = Span(offset + at, offset + at + 1)
        char = text[at]
        if char == "." and at > 0 and text[at - 1].isdigit():
            digits = re.search(r"[0-9.]*$", text[:at])
            number = digits.group(0) if digits else "1"
            return diagnostic(
                "E009",
                span,
                "a number cannot end with `.`",
                hints=[f"write `{number}` or `{number}.0`"],
            )
        if char in "{}":
            return diagnostic(
                "E112",
                span,
                f"unexpected `{char}`",
                hints=["loop templates look like `x{t}`, `s{t-1}` inside a name"],
            )
        if char in ")]":
            return diagnostic("E007", span, f"this `{char}` closes nothing")
        hint = {
            "−": "use the ASCII minus `-`",
            "’": "names are ASCII letters, digits and `_`",
            "'": "there are no primes: name the array, e.g. `dY`",
            "$": "there are no variables with `$`",
        }.get(char)
        return diagnostic(
            "E002",
            span,
            f"unexpected character `{char}`",
            hints=[hint] if hint else [],
        )
    if not isinstance(error, UnexpectedToken):
        return diagnostic("E003", Span(offset, offset + len(text)), str(error).splitlines()[0])
    token = error.token
    expected = set(error.expected)
    start = token.start_pos if token.start_pos is not None else len(text.rstrip())
    if token.type == "$END":
        start = len(text.rstrip())
    end = token.end_pos if token.end_pos is not None and token.type != "$END" else start + 1
    span = Span(offset + start, offset + max(end, start + 1))
    found = _describe(token)
    first_word = text.split(None, 1)[0] if text.split() else ""
    if token.type in _KEYWORD_TOKENS and "NAME" in expected:
        return diagnostic(
            "E008",
            span,
            f"`{token.value}` is a keyword and cannot be used as a name",
            hints=["choose another name for the array or index"],
        )
    if token.type in ("RPAR", "RSQB") and _open_count(text[:start], token.value) == 0:
        return diagnostic("E007", span, f"this `{token.value}` closes nothing")
    if expected <= {"COMMA", "RSQB"} and "RSQB" in expected:
        return diagnostic(
            "E004",
            span,
            f"expected `,` or `]` in the index list, found {found}",
            hints=["close the index list with `]`; indices are separated by `,`"],
        )
    if "DERIV" in expected and first_word in ("derive",):
        return diagnostic(
            "E014",
            span,
            f"expected a derivative such as `dL/dW`, found {found}",
            hints=["write a derivative as `dA/dB` with no spaces around `/`"],
        )
    if first_word == "for" and expected == {"$END"}:
        return diagnostic(
            "E013",
            span,
            "the body of a `for` goes on the lines below it, indented",
        )
    if "EQUAL" in expected and token.type in _ATOM_STARTS | {"MINUS"}:
        return diagnostic(
            "E005",
            span,
            f"missing `=`: expected `=` before {found}",
            hints=["a definition reads `Y[i, k] = expression`"],
        )
    if token.type == "$END" and "RSQB" in expected:
        return diagnostic("E004", span, "missing `]` at the end of the statement")
    return diagnostic(
        "E003",
        span,
        f"unexpected {found}; expected {_words(expected)}",
    )


def _parse_line(source: Source, line: LogicalLine) -> tuple[Any, Diagnostic | None]:
    parser, builder = _line_parser()
    text = source.text[line.span.start : line.span.end]
    builder.offset = line.span.start
    try:
        statement = parser.parse(text)
    except _SyntaxProblem as problem:
        return None, problem.problem
    except VisitError as error:  # a builder problem wrapped by Lark
        if isinstance(error.orig_exc, _SyntaxProblem):
            return None, error.orig_exc.problem
        raise
    except UnexpectedInput as error:
        return None, _syntax_problem(error, text, line.span.start)
    rhs = getattr(statement, "rhs", None)
    if rhs is not None and ast.depth(rhs) > MAX_EXPRESSION_DEPTH:
        return None, diagnostic(
            "E011",
            line.span,
            f"expression nested more than {MAX_EXPRESSION_DEPTH} deep",
            hints=["split it into several definitions"],
        )
    return statement, None


def _is_for_line(source: Source, line: LogicalLine) -> bool:
    text = source.text[line.span.start : line.span.end]
    return text.startswith("for") and (len(text) == 3 or not (text[3].isalnum() or text[3] in "_{"))


def parse(source: Source) -> tuple[ast.Program, list[Diagnostic]]:
    """Parse a whole file; statements that fail to parse are left out and reported."""
    if len(source.text) > MAX_FILE_CHARS:
        return ast.Program(()), [
            diagnostic(
                "E012",
                None,
                f"file is {len(source.text):,} characters long; the limit is {MAX_FILE_CHARS:,}",
            )
        ]
    lines, dropped, problems = split_lines(source)
    parsed: list[Any] = []
    for line in lines:
        statement, problem = _parse_line(source, line)
        parsed.append(statement)
        if problem is not None:
            problems.append(problem)
    # A `for` line that failed to parse still owns its indented body, so the
    # body is not reported again as unexpected indentation.
    is_header = [
        isinstance(p, ast.ForHeader) or (p is None and _is_for_line(source, line))
        for p, line in zip(parsed, lines, strict=True)
    ]
    nodes, block_problems = group_blocks(lines, is_header, [p is None for p in parsed])
    problems.extend(block_problems)
    by_line = {line.span: statement for line, statement in zip(lines, parsed, strict=True)}

    def build(node: LineNode) -> ast.Statement | None:
        if isinstance(node, LogicalLine):
            statement = by_line[node.span]
            return None if isinstance(statement, ast.ForHeader) else statement
        header = by_line[node.header.span]
        if not isinstance(header, ast.ForHeader):
            return None
        body = tuple(s for s in (build(child) for child in node.body) if s is not None)
        return ast.ForBlock(header, body, header.span)

    statements = tuple(s for s in (build(node) for node in nodes) if s is not None)
    problems.sort(key=lambda d: d.span.start if d.span else -1)
    broken = [line.span for line, statement in zip(lines, parsed, strict=True) if statement is None]
    unparsed = tuple(
        match.group(1)
        for span in broken + dropped
        if (match := _DEFINED_NAME.match(source.text, span.start)) is not None
    )
    return ast.Program(statements, unparsed_names=unparsed, complete=not problems), problems
