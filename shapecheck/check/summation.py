"""Check, summation: rules 3 and 4 of spec section 4.

Rule 3: an index not on the left-hand side is summed, over the smallest
product in which two or more factors hold it, else over the whole top-level
term (`place_sums` writes every such sum out as `SumOver(explicit=False)`);
`sum[j](body)` is a scope of its own, and the index it binds may occur nowhere
else (E206) and must occur in its body (E207); `mean[j](body)` (spec 9.1)
follows the same rules with codes of its own (E216, E215). The reductions
`logsumexp[j]` and `norm[j]` (spec 9.5) bind their indices with the same
scoping (E231; their own brackets are checked in `functions.py`);
`softmax[j]` binds nothing, and its `j` counts as an occurrence at the call.
`max[j]`, `min[j]`, `argmax[j]` and `argmin[j]` (spec 9.2) bind theirs the
same way, with codes of their own (E237, E238).
Rule 4: a left-hand index missing from a top-level term is broadcast over it
(`place_sums` reports which).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import NamedTuple

from shapecheck.check.scope import Binder, StatementScope
from shapecheck.diagnostics import Code, Label
from shapecheck.exhaustive import assert_never
from shapecheck.source import Span
from shapecheck.syntax import ast


def visit_sum(scope: StatementScope, node: Binder) -> None:
    """Note which index names a `sum[...]`, `mean[...]` or reduction binds, for
    `check_bound_indices`."""
    for index in node.indices:
        scope.bound.setdefault(index.name, {}).setdefault(node, None)


def binds(node: ast.Expr) -> bool:
    """Whether the node binds the indices in its brackets (`sum`, `mean`,
    `logsumexp`, `norm`; not `softmax`)."""
    return isinstance(node, ast.SumOver | ast.MeanOver) or (
        isinstance(node, ast.IndexedCall) and node.reduces
    )


def body_of(node: Binder) -> ast.Expr:
    return node.arg if isinstance(node, ast.IndexedCall) else node.body


# `max[j]`, `min[j]`, `argmax[j]`, `argmin[j]` (spec 9.2) have codes of their own.
_EXTREMES = (*ast.EXTREME_REDUCTIONS, *ast.SELECTIONS)


def keyword_codes(node: Binder) -> tuple[str, Code, Code]:
    """`_keyword`, for the checks of a reduction's own brackets."""
    return _keyword(node)


def _keyword(node: Binder) -> tuple[str, Code, Code]:
    """The binder's keyword, its code for a binding used elsewhere, and for a
    missing one (a reduction's own brackets are checked in `functions.py`)."""
    match node:
        case ast.SumOver():
            return "sum", Code.E206, Code.E207
        case ast.MeanOver():
            return "mean", Code.E216, Code.E215
        case ast.IndexedCall() if node.func in _EXTREMES:
            return node.func, Code.E237, Code.E238
        case ast.IndexedCall():
            return node.func, Code.E231, Code.E230
        case _:
            assert_never(node)


def check_bound_indices(scope: StatementScope) -> None:
    """`sum[j]` rules: its body uses j; j occurs nowhere outside a `sum[j]`
    that binds it (nor on the left); no `sum[j]` inside another. Two
    separate sums may both use the name, as in Σ_j x[j] + Σ_j y[j]."""
    for name, binders in scope.bound.items():
        nodes = list(binders)
        # Where each binder starts, sorted: the binders inside a body are found
        # by bisection (a range sum puts thousands of them on one line).
        starts = sorted((n.span.start, position) for position, n in enumerate(nodes))
        for node in nodes:
            if not isinstance(node, ast.IndexedCall):
                _check_one_sum(scope, name, node)
            _check_not_nested(scope, name, node, nodes, starts)
        _check_only_inside(scope, name, nodes)


def _check_one_sum(scope: StatementScope, name: str, node: ast.SumOver | ast.MeanOver) -> None:
    """One `sum[...]` or `mean[...]` binding `name`: its body uses it, it binds it once."""
    keyword, elsewhere, missing = _keyword(node)
    inside = {
        i.name for n in ast.walk(node.body) for i in node_indices(n) if isinstance(i, ast.IndexName)
    }
    own = next(i for i in node.indices if i.name == name)
    if name not in inside:
        verb = "sums" if keyword == "sum" else "averages"
        scope.error(
            missing,
            own.span,
            f"`{keyword}[{name}]` {verb} over `{name}`, but its body never uses `{name}`",
            hints=[f"its size would be unknown; remove the {keyword} or use the index"],
        )
    repeats = [i for i in node.indices if i.name == name]
    if len(repeats) > 1:
        scope.error(elsewhere, repeats[1].span, f"`{name}` is bound twice by one `{keyword}`")


def _check_not_nested(
    scope: StatementScope,
    name: str,
    node: Binder,
    nodes: list[Binder],
    starts: list[tuple[int, int]],
) -> None:
    """No `sum[j]`, `mean[j]` or reduction over j inside the body of another that binds j."""
    own = next(i for i in node.indices if i.name == name)
    outer, _, _ = _keyword(node)
    body = body_of(node).span
    first = bisect_left(starts, (body.start, -1))
    last = bisect_left(starts, (body.end, -1))
    for position in sorted(p for _, p in starts[first:last]):
        other = nodes[position]
        if other is not node:
            _, code, _ = _keyword(other)
            scope.error(
                code,
                next(i.span for i in other.indices if i.name == name),
                f"`{name}` is already bound by an enclosing `{outer}[{name}]`",
                labels=[Label(own.span, "bound here")],
                hints=["rename the inner index"],
            )


def _check_only_inside(scope: StatementScope, name: str, nodes: list[Binder]) -> None:
    outside = [
        occurrence
        for occurrence in scope.occurrences.get(name, [])
        if not any(_within(occurrence.span, body_of(node).span) for node in nodes)
    ]
    if name in scope.lhs or outside:
        span = outside[0].span if outside else nodes[0].span
        keyword, code, _ = _keyword(nodes[0])
        scope.error(
            code,
            span,
            f"`{name}` is bound by `{keyword}[{name}]` and may not occur anywhere else "
            "in the statement",
            labels=[Label(nodes[0].indices[0].span, "bound here")],
            hints=["rename one of the two"],
        )


def _within(inner: Span, outer: Span) -> bool:
    return outer.start <= inner.start < outer.end


def node_indices(node: ast.Expr) -> tuple[ast.Index, ...]:
    """The indices written on the node itself (not on its sub-expressions), those
    inside integer arrays standing in its positions included."""
    match node:
        case ast.ArrayRef() | ast.Delta() | ast.DerivRef() | ast.MatrixCall():
            # Names inside an integer array in a position (`y[i]`) count too;
            # `inv(A)[i, j]`'s are indices of its value, like an array's.
            return tuple(ast.leaf_indices(node.indices))
        case ast.IndexedCall():
            # softmax's indices stay indices of its result: an occurrence here.
            return () if node.reduces else node.indices
        case ast.IndexValue():
            # An index standing as a number is an occurrence for rule 3.
            return (ast.IndexName(node.name, node.span),)
        case (
            ast.Number()
            | ast.SizeRef()
            | ast.MeanOver()
            | ast.RangeSum()
            | ast.Call()
            | ast.OpaqueCall()
            | ast.Extremum()
            | ast.Compare()
            | ast.Loss()
            | ast.SumOver()
            | ast.Negate()
            | ast.Power()
            | ast.Product()
            | ast.Add()
        ):
            return ()
        case _:
            assert_never(node)


# ---------------------------------------------------------------------------
# Rule 3: where each implicit sum goes

Path = tuple[int, ...]


class _Paths(NamedTuple):
    """What rule 3 needs of a right-hand side, gathered in one walk."""

    occurrences: dict[str, list[Path]]  # where each index name occurs, sorted
    nodes: dict[Path, ast.Expr]  # every node by its child-position path
    sum_bodies: set[Path]  # the body of each node that binds
    bound: set[str]  # the names `sum[j]`, `mean[j]` and reductions bind


def _index_paths(expr: ast.Expr) -> _Paths:
    occurrences: dict[str, list[Path]] = {}
    nodes: dict[Path, ast.Expr] = {}
    sum_bodies: set[Path] = set()
    bound: set[str] = set()
    stack: list[tuple[ast.Expr, Path]] = [(expr, ())]
    while stack:
        node, path = stack.pop()
        nodes[path] = node
        for index in node_indices(node):
            if isinstance(index, ast.IndexName):
                occurrences.setdefault(index.name, []).append(path)
        if binds(node):
            assert isinstance(node, ast.SumOver | ast.MeanOver | ast.IndexedCall)
            sum_bodies.add((*path, 0))
            bound.update(i.name for i in node.indices)
        for position, child in enumerate(ast.children(node)):
            stack.append((child, (*path, position)))
    for paths in occurrences.values():
        paths.sort()
    return _Paths(occurrences, nodes, sum_bodies, bound)


def _common_prefix(paths: list[Path]) -> Path:
    prefix = paths[0]
    for path in paths[1:]:
        length = 0
        for a, b in zip(prefix, path, strict=False):
            if a != b:
                break
            length += 1
        prefix = prefix[:length]
    return prefix


def _top_level_terms(nodes: dict[Path, ast.Expr], root: Path) -> list[Path]:
    node = nodes[root]
    if isinstance(node, ast.Add):
        return [(*root, k) for k in range(len(node.terms))]
    return [root]


def _by_term(nodes: dict[Path, ast.Expr], root: Path, paths: list[Path]) -> dict[Path, list[Path]]:
    """The paths under `root`, by the top-level term of `root` they are in
    (`_top_level_terms`), in the terms' order; terms holding none are left out.
    One pass over the paths: a sum of 10,000 terms each with its own index
    was 10,000² prefix tests."""
    depth = len(root) + 1 if isinstance(nodes[root], ast.Add) else len(root)
    grouped: dict[Path, list[Path]] = {}
    for path in paths:
        if len(path) >= depth and path[: len(root)] == root:
            grouped.setdefault(path[:depth], []).append(path)
    return dict(sorted(grouped.items()))


def _scope_of(paths: list[Path], sum_bodies: set[Path]) -> Path:
    """The deepest sum body holding every occurrence, else the whole right-hand side."""
    common = _common_prefix(paths)
    for length in range(len(common), 0, -1):
        if common[:length] in sum_bodies:
            return common[:length]
    return ()


def _target_in_term(inside: list[Path], term: Path, nodes: dict[Path, ast.Expr]) -> Path:
    """Where the sum goes in one top-level term: the smallest product in which two
    or more factors hold the index, else the whole term."""
    lowest = _common_prefix(inside)
    for length in range(len(lowest), len(term) - 1, -1):
        if isinstance(nodes[lowest[:length]], ast.Product):
            holders = {p[length] for p in inside}
            return lowest[:length] if len(holders) >= 2 else term
    return term


def _placements(found: _Paths, order: list[str], skip: set[str]) -> dict[Path, list[str]]:
    """For each node that gets an implicit sum, the indices it sums (rule 3)."""
    occurrences, nodes, sum_bodies = found.occurrences, found.nodes, found.sum_bodies
    placements: dict[Path, list[str]] = {}
    for name in order:
        if name in skip:
            continue
        paths = occurrences[name]
        for term, inside in _by_term(nodes, _scope_of(paths, sum_bodies), paths).items():
            placements.setdefault(_target_in_term(inside, term, nodes), []).append(name)
    return placements


def _rebuild(rhs: ast.Expr, placements: dict[Path, list[str]]) -> ast.Expr:
    """The right-hand side with a `SumOver(explicit=False)` at each placement."""
    # Only the nodes on the way to a placement are rebuilt.
    on_the_way = {target[:length] for target in placements for length in range(len(target) + 1)}

    def rebuild(node: ast.Expr, path: Path) -> ast.Expr:
        if path not in on_the_way:
            return node
        kids = ast.children(node)
        if kids:
            node = ast.with_children(
                node, tuple(rebuild(k, (*path, n)) for n, k in enumerate(kids))
            )
        if path in placements:
            indices = tuple(ast.IndexName(name, node.span) for name in placements[path])
            node = ast.SumOver(indices, node, node.span, explicit=False)
        return node

    return rebuild(rhs, ())


def place_sums(
    rhs: ast.Expr, lhs: tuple[str, ...]
) -> tuple[ast.Expr, tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Make the implicit sums of rule 3 explicit.

    Returns the right-hand side with `SumOver(explicit=False)` nodes inserted,
    the summed indices in order of first use, and for each top-level term the
    left-hand indices it is broadcast over (rule 4).
    """
    free = set(lhs)
    found = _index_paths(rhs)
    occurrences, nodes = found.occurrences, found.nodes
    order = sorted(occurrences, key=lambda name: occurrences[name][0])
    # Indices bound by an explicit `sum[j]` or `mean[j]` are already placed.
    placements = _placements(found, order, free | found.bound)
    summed = tuple(name for name in order if name not in free)
    holding = {name: _by_term(nodes, (), occurrences.get(name, [])) for name in lhs}
    broadcast = tuple(
        tuple(name for name in lhs if term not in holding[name])
        for term in _top_level_terms(nodes, ())
    )
    return _rebuild(rhs, placements), summed, broadcast
