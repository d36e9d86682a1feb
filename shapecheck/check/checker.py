"""Check an unrolled program against every rule of spec section 4: the driver.

Input: the unrolled AST. Output: a `CheckedProgram` holding the statements that
passed, with sizes resolved and implicit sums made explicit, plus every
diagnostic found. Nothing stops at the first problem: each statement is
checked on its own, and a statement with errors is left out of the checked
program (so later stages only ever see well-formed statements).

Each rule family has its module; this one runs them in file order:
`declarations` (layout, dim, input, param), `statements` (definitions and
claims, which use `scope` for names, `sizes` for rules 1, 2, 5, 6 and
`summation` for rules 3, 4), and `requests` (derive, defaults, unused).
"""

from __future__ import annotations

from shapecheck.check.declarations import MAX_SIZE as MAX_SIZE
from shapecheck.check.declarations import check_declaration, check_dim, survey
from shapecheck.check.opaque import check_fn
from shapecheck.check.program import CheckedProgram
from shapecheck.check.requests import check_derive, finish_requests, report_unused
from shapecheck.check.scope import FileScope
from shapecheck.check.spellings import report_spellings
from shapecheck.check.statements import check_claim, check_definition, finish_claim
from shapecheck.collector import collector_paused
from shapecheck.diagnostics import Code, Diagnostic, diagnostic
from shapecheck.exhaustive import assert_never
from shapecheck.source import Span
from shapecheck.syntax import ast


def _check_statement(file: FileScope, statement: ast.Statement) -> None:
    match statement:
        case ast.DimStmt():
            check_dim(file, statement)
        case ast.DeclStmt():
            check_declaration(file, statement)
        case ast.FnStmt():
            check_fn(file, statement)
        case ast.Definition():
            check_definition(file, statement)
        case ast.Claim():
            check_claim(file, statement)
        case ast.DeriveStmt():
            check_derive(file, statement)
        case ast.LayoutStmt() | ast.ForBlock():
            pass  # layout is read by `survey`; unrolling leaves no `for` block
        case _:
            assert_never(statement)


def merge_repeats(problems: list[Diagnostic]) -> list[Diagnostic]:
    """One diagnostic for a problem an unrolled line repeats at every step."""
    merged: dict[tuple[Code, Span | None, str], Diagnostic] = {}
    contexts: dict[tuple[Code, Span | None, str], list[str]] = {}
    for problem in problems:
        key = (problem.code, problem.span, problem.message)
        if key in merged:
            if problem.context:
                contexts[key].append(problem.context.removeprefix("unrolled with "))
            continue
        merged[key] = problem
        contexts[key] = []
    result = []
    for key, problem in merged.items():
        more = contexts[key]
        if more and problem.context:
            shown = ", ".join(more[:3]) + (f" and {len(more) - 3} more" if len(more) > 3 else "")
            problem = diagnostic(
                problem.code,
                problem.span,
                problem.message,
                labels=problem.labels,
                hints=problem.hints,
                context=f"{problem.context}; also with {shown}",
            )
        result.append(problem)
    return result


def check(
    program: ast.Program,
    size_overrides: dict[str, int] | None = None,
    layout_override: str | None = None,
) -> tuple[CheckedProgram, list[Diagnostic]]:
    """Check every statement; the program holds those that passed."""
    with collector_paused():
        return _check(program, size_overrides or {}, layout_override)


def _check(
    program: ast.Program, size_overrides: dict[str, int], layout_override: str | None
) -> tuple[CheckedProgram, list[Diagnostic]]:
    file = FileScope(program, size_overrides)
    survey(file, layout_override)
    for statement in program.statements:
        _check_statement(file, statement)
    # Claims may use any array of the file, so they are checked once all
    # definitions are known.
    for claim, lhs, context in file.deferred_claims:
        finish_claim(file, claim, lhs, context)
    requests = finish_requests(file)
    report_unused(file)
    report_spellings(file)
    checked = CheckedProgram(
        tuple(file.names.dims.values()),
        tuple(file.names.arrays.values()),
        tuple(file.definitions),
        tuple(requests),
        tuple(file.claims),
        file.layout,
        tuple(file.size_needs),
        tuple(file.names.functions),
    )
    problems = merge_repeats(file.problems)
    problems.sort(key=lambda d: d.span.start if d.span else -1)
    return checked, problems
