"""Check, requests: `derive` statements, the default request, unused names.

Rule 7: a `derive` names known arrays (E101), and asking for the derivative of
something that does not depend on its target is a warning (W102: it is
identically zero). Section 5: with no `derive` statement, every scalar
definition that nothing else uses is derived with respect to every `param`.
Rule 8: a declaration never used is a warning (W101). A derivative
reference of a definition (spec 9.6) is derived and verified like a request. An integer array is
never a derivative target (E139, spec 9.3), nor a default one (it is an
`input`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shapecheck.check import labels, opaque
from shapecheck.check.program import CheckedDefinition, DeriveRequest, derivative_shape
from shapecheck.check.scope import FileScope, did_you_mean
from shapecheck.diagnostics import Code, diagnostic
from shapecheck.syntax import ast
from shapecheck.syntax.unroll import loop_context


def check_derive(file: FileScope, statement: ast.DeriveStmt) -> None:
    """`derive dL/dW, dL/db`: kept as requests when both names are known."""
    names = file.names
    for target in statement.targets:
        if {target.of, target.wrt} & names.failed:
            continue  # the array's own problem is already reported
        unknown = [n for n in (target.of, target.wrt) if n not in names.everywhere]
        for name in unknown:
            if opaque.report_function_target(file, name, target.span, str(target), statement):
                continue
            file.error(
                Code.E101,
                target.span,
                f"unknown name `{name}` in `{target}`",
                statement,
                hints=second_order_hint(target.wrt, target.order, name, names.everywhere)
                or did_you_mean(name, names.everywhere),
            )
        if unknown or not _named_signature_fits(file, target, statement):
            continue
        names.used.update((target.of, target.wrt))
        file.requests.append(
            DeriveRequest(
                target.of,
                target.wrt,
                target.span,
                loop=statement.loop,
                order=target.order,
                names=target.names,
            )
        )


def _named_signature_fits(
    file: FileScope, target: ast.DeriveTarget, statement: ast.DeriveStmt
) -> bool:
    """`derive dY/dX[i, k, p, q]`: one distinct index name per position of the
    signature in the file's layout (E302), none a dim (E115); else reported."""
    if not target.names:
        return True
    of, wrt = (file.names.arrays.get(n) for n in (target.of, target.wrt))
    if of is None or wrt is None:
        return True  # reported where the array is defined
    shape = derivative_shape(of.shape, wrt.shape, file.layout, target.order)
    problem = _names_problem(target.names, len(shape))
    if problem is not None:
        sizes = "×".join(str(s) for s in shape) or "a scalar"
        file.error(
            Code.E302,
            target.span,
            f"{target} has {len(shape)} {'index' if len(shape) == 1 else 'indices'} "
            f"({sizes}) in {file.layout} layout; {problem}",
            statement,
            hints=[
                "name each index of the signature once, in layout order, or leave the names out"
            ],
        )
        return False
    dims = [n for n in target.names if n in file.names.dims]
    for name in dims:
        file.error(
            Code.E115,
            target.span,
            f"`{name}` is a dim: it cannot name an index of `{target}`",
            statement,
            hints=["name the index with a letter the file does not use as a size"],
        )
    return not dims


def _names_problem(names: tuple[str, ...], rank: int) -> str | None:
    """What is wrong with a signature's names for a derivative of `rank` indices."""
    if len(names) != rank:
        return f"{len(names)} {'name is' if len(names) == 1 else 'names are'} given"
    twice = sorted({n for n in names if names.count(n) > 1})
    return f"`{', '.join(twice)}` names two positions" if twice else None


def second_order_hint(wrt: str, order: int, unknown: str, names: Mapping[str, object]) -> list[str]:
    """`d2L/dw2` with no `w` where `w2` exists: the shorthand strips the final 2."""
    if order != 2 or unknown != wrt or f"{wrt}2" not in names:
        return []
    return [
        f"`d2A/d{wrt}2` is the second derivative with respect to `{wrt}`; "
        f"for `{wrt}2`, name the gradient: `g[...] = dA/d{wrt}2[...]`, then `derive dg/d{wrt}2`"
    ]


def depends(definitions: Sequence[CheckedDefinition], of: str, wrt: str) -> bool:
    """Whether `of` depends on `wrt` through the definitions (a graph search).

    Searched per question rather than as a full transitive closure,
    which would be quadratic in a long chain of definitions.
    """
    uses = {d.name: d.depends_on for d in definitions}
    seen = {of}
    stack = [of]
    while stack:
        for name in uses.get(stack.pop(), ()):
            if name == wrt:
                return True
            if name not in seen:
                seen.add(name)
                stack.append(name)
    return False


def finish_requests(file: FileScope) -> list[DeriveRequest]:
    """The requests to derive, once each; the default ones if the file asks for none."""
    kept: list[DeriveRequest] = []
    seen: set[tuple[str, str, int]] = set()
    for request in file.requests:
        if request.of in file.names.failed or request.wrt in file.names.failed:
            continue
        if (request.of, request.wrt, request.order) in seen:
            continue
        seen.add((request.of, request.wrt, request.order))
        if not labels.check_target(file, request.wrt, request.span, f"`{request.label}`"):
            continue
        if request.of != request.wrt and not depends(file.definitions, request.of, request.wrt):
            file.problems.append(
                diagnostic(
                    Code.W102,
                    request.span,
                    f"{request.label} is identically zero: `{request.of}` does not depend "
                    f"on `{request.wrt}`",
                    context=loop_context(request.loop),
                )
            )
        kept.append(request)
    if not any(isinstance(s, ast.DeriveStmt) for s in file.program.statements):
        kept = _default_requests(file)
        seen = {(r.of, r.wrt, r.order) for r in kept}
    # A derivative reference of a definition is verified like a `derive` of it
    # (spec 9.6): after the requests, once each.
    for reference in file.reference_requests:
        if (reference.of, reference.wrt, reference.order) not in seen:
            seen.add((reference.of, reference.wrt, reference.order))
            kept.append(reference)
    return kept


def _default_requests(file: FileScope) -> list[DeriveRequest]:
    """Spec section 5: every unused scalar definition with respect to every param."""
    # A derivative reference is not a use of A here (spec 9.6): `g = dL/dw`
    # leaves L to be derived by default.
    used = {name for d in file.definitions for name in d.depends_on if name not in d.reference_only}
    params = [a.name for a in file.names.arrays.values() if a.kind == "param"]
    requests = []
    for definition in file.definitions:
        if definition.indices or definition.name in used:
            continue
        for param in params:
            if depends(file.definitions, definition.name, param):
                requests.append(DeriveRequest(definition.name, param, None, default=True))
    return requests


def report_unused(file: FileScope) -> None:
    """Rule 8: W101 for a dim, input or param that nothing uses."""
    if not file.program.complete:
        return  # a line that did not parse may have used them
    # A loop bound uses the dim it names, though unrolling leaves no trace of it.
    loop_bounds = {
        bound.name
        for header in file.program.loops
        for bound in (header.start, header.stop)
        if bound.name is not None
    }
    for dim in file.names.dims.values():
        if dim.name not in file.names.used and dim.name not in loop_bounds:
            file.problems.append(diagnostic(Code.W101, dim.span, f"dim `{dim.name}` is never used"))
    for array in file.names.arrays.values():
        if array.is_leaf and array.name not in file.names.used:
            file.problems.append(
                diagnostic(Code.W101, array.span, f"{array.kind} `{array.name}` is never used")
            )
    for function, span in file.names.functions.items():
        if function not in file.names.used:
            file.problems.append(diagnostic(Code.W101, span, f"fn `{function}` is never used"))
