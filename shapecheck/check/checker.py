"""Check an unrolled program against every rule of spec section 4.

Input: the unrolled AST. Output: a `CheckedProgram` holding the statements that
passed, with sizes resolved and implicit sums made explicit, plus every
diagnostic found. Nothing stops at the first problem: each statement is
checked on its own, and a statement with errors is left out of the checked
program (so later stages only ever see well-formed statements).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from shapecheck.check.program import (
    ArrayInfo,
    CheckedClaim,
    CheckedDefinition,
    CheckedProgram,
    DeriveRequest,
    Dim,
    Size,
    derivative_shape,
)
from shapecheck.diagnostics import Diagnostic, Label, diagnostic
from shapecheck.source import Span
from shapecheck.syntax import ast
from shapecheck.syntax.unroll import loop_context

MAX_SIZE = 2**31 - 1

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


def _ordinal(position: int) -> str:
    return _ORDINALS[position] if position < len(_ORDINALS) else f"{position + 1}th"


def _did_you_mean(name: str, candidates: Iterable[str]) -> list[str]:
    names = list(candidates)
    same_letters = [c for c in names if c.lower() == name.lower()]
    close = same_letters or difflib.get_close_matches(name, names, n=1)
    return [f"did you mean `{close[0]}`?"] if close else []


@dataclass
class _Occurrence:
    """One place an index stands, with the size that place gives it (None: a delta)."""

    size: Size | None
    span: Span
    place: str  # e.g. "the second index of X"


@dataclass
class _Names:
    """What is known about names so far, in file order."""

    dims: dict[str, Dim] = field(default_factory=dict)
    arrays: dict[str, ArrayInfo] = field(default_factory=dict)
    # Every array name in the file with where it is first declared or
    # defined, to tell "unknown" from "used before its definition".
    everywhere: dict[str, Span] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    # Names whose own declaration or definition failed (already reported):
    # their uses are not reported again.
    failed: set[str] = field(default_factory=set)


class _StatementChecker:
    """Checks one definition or claim: names, ranks, sizes, and where sums go."""

    def __init__(
        self,
        names: _Names,
        lhs: tuple[str, ...],
        context: str | None,
        *,
        in_claim: bool,
        layout: str,
        self_name: str | None = None,
    ) -> None:
        self.names = names
        self.lhs = lhs
        self.context = context
        self.in_claim = in_claim
        self.layout = layout
        self.self_name = self_name
        self.problems: list[Diagnostic] = []
        self.occurrences: dict[str, list[_Occurrence]] = {}
        self.deltas: list[ast.Delta] = []
        self.bound: dict[str, list[ast.SumOver]] = {}
        self.depends_on: list[str] = []
        # Set when the statement uses a name whose own definition failed: it
        # cannot be checked, and it is not reported a second time.
        self.poisoned = False

    def error(self, code: str, span: Span | None, message: str, **extra: object) -> None:
        self.problems.append(diagnostic(code, span, message, context=self.context, **extra))  # type: ignore[arg-type]

    # ---- names
    def lookup(self, name: str, span: Span) -> ArrayInfo | None:
        if name == self.self_name:
            self.error(
                "E103",
                span,
                f"`{name}` is used in its own definition",
                hints=["a recurrence is written with a `for` block: `s{t}[i] = ... s{t-1}[i] ...`"],
            )
            return None
        info = self.names.arrays.get(name)
        if info is None and name in self.names.failed:
            self.poisoned = True
            return None
        if info is not None:
            self.names.used.add(name)
            if name not in self.depends_on:
                self.depends_on.append(name)
            return info
        if name in self.names.everywhere and not self.in_claim:
            self.error(
                "E103",
                span,
                f"`{name}` is used before its definition",
                labels=[Label(self.names.everywhere[name], f"`{name}` is defined here")],
                hints=["move the definition above its first use"],
            )
        elif name in self.names.dims:
            self.error(
                "E101",
                span,
                f"`{name}` is a size (`dim`), not an array",
                hints=["declare an array with `input` or `param`"],
            )
        else:
            self.error(
                "E101",
                span,
                f"unknown name `{name}`",
                hints=_did_you_mean(name, self.names.arrays)
                or ["declare it above with `input` or `param`, or define it"],
            )
        return None

    # ---- the walk over the right-hand side
    def visit(self, expr: ast.Expr) -> None:
        for node in ast.walk(expr):
            if isinstance(node, ast.ArrayRef):
                self.visit_array(node)
            elif isinstance(node, ast.Delta):
                self.visit_delta(node)
            elif isinstance(node, ast.DerivRef):
                self.visit_deriv(node)
            elif isinstance(node, ast.Loss):
                self.lookup(node.name, node.name_span)
            elif isinstance(node, ast.SumOver):
                self.visit_sum(node)

    def record(self, index: ast.Index, size: Size | None, place: str) -> None:
        if isinstance(index, ast.IndexLiteral):
            if size is not None and size.value is not None and index.value > size.value:
                self.error(
                    "E203",
                    index.span,
                    f"literal index {index.value} is out of range: {place} runs over "
                    f"1..{size.value}",
                    hints=[f"its size is {size.describe()}"],
                )
            return
        self.occurrences.setdefault(index.name, []).append(_Occurrence(size, index.span, place))

    def visit_array(self, ref: ast.ArrayRef) -> None:
        info = self.lookup(ref.name, ref.span)
        if info is None:
            # Still note the indices, so that a left-hand index is not also
            # reported as missing from the right.
            for index in ref.indices:
                if isinstance(index, ast.IndexName):
                    self.occurrences.setdefault(index.name, [])
            return
        if len(ref.indices) != info.rank:
            declared = ref.name + (
                "[" + ", ".join(str(s) for s in info.shape) + "]" if info.shape else ""
            )
            have = f"it is declared as {declared}" if info.rank else "it is a scalar: no brackets"
            self.error(
                "E202",
                ref.span,
                f"`{ref.name}` takes {info.rank} {'index' if info.rank == 1 else 'indices'}, "
                f"not {len(ref.indices)}",
                labels=[Label(info.span, f"`{ref.name}` is declared here")],
                hints=[have],
            )
            for index in ref.indices:
                if isinstance(index, ast.IndexName):
                    self.occurrences.setdefault(index.name, [])
            return
        for position, (index, size) in enumerate(zip(ref.indices, info.shape, strict=True)):
            self.record(index, size, f"the {_ordinal(position)} index of {ref.name}")

    def visit_delta(self, delta: ast.Delta) -> None:
        if len(delta.indices) < 2:
            self.error(
                "E208",
                delta.span,
                "a delta needs two or more indices",
                hints=["`delta[i, j]` is 1 where i = j and 0 elsewhere"],
            )
            return
        self.deltas.append(delta)
        for index in delta.indices:
            self.record(index, None, "an index of delta")

    def visit_deriv(self, ref: ast.DerivRef) -> None:
        if not self.in_claim:
            self.error(
                "E110",
                ref.span,
                f"`d{ref.of}/d{ref.wrt}` may only stand in a claim",
                hints=[
                    "a definition cannot use a derivative; ask for it with "
                    f"`derive d{ref.of}/d{ref.wrt}`",
                    "to divide arrays named like this, write spaces: `dA / dB`",
                ],
            )
            return
        of = self.lookup(ref.of, ref.span)
        wrt = self.lookup(ref.wrt, ref.span)
        if of is None or wrt is None:
            return
        shape = derivative_shape(of.shape, wrt.shape, self.layout)
        if len(ref.indices) != len(shape):
            self.error(
                "E202",
                ref.span,
                f"`d{ref.of}/d{ref.wrt}` takes {len(shape)} indices "
                f"({'×'.join(str(s) for s in shape) or 'a scalar'}), not {len(ref.indices)}",
                hints=[f"in {self.layout} layout"],
            )
            return
        for position, (index, size) in enumerate(zip(ref.indices, shape, strict=True)):
            self.record(index, size, f"the {_ordinal(position)} index of d{ref.of}/d{ref.wrt}")

    def visit_sum(self, node: ast.SumOver) -> None:
        for index in node.indices:
            bound = self.bound.setdefault(index.name, [])
            if node not in bound:
                bound.append(node)

    # ---- sizes
    def resolve_sizes(self, given: dict[str, _Occurrence]) -> dict[str, Size]:
        """Rule 1: every occurrence of an index in the statement has one size."""
        sizes: dict[str, Size] = {}
        first: dict[str, _Occurrence] = {}
        reported: set[tuple[str, Size]] = set()  # one report per index and wrong size
        for name, occurrence in given.items():
            if occurrence.size is not None:
                sizes[name] = occurrence.size
                first[name] = occurrence
        for name, occurrences in self.occurrences.items():
            for occurrence in occurrences:
                if occurrence.size is None:
                    continue
                if name not in sizes:
                    sizes[name] = occurrence.size
                    first[name] = occurrence
                    continue
                if not sizes[name].same_as(occurrence.size):
                    if (name, occurrence.size) in reported:
                        continue
                    reported.add((name, occurrence.size))
                    before = first[name]
                    self.error(
                        "E201",
                        occurrence.span,
                        f"index `{name}` has two sizes",
                        labels=[
                            Label(before.span, f"`{name}` is {sizes[name].describe()} here"),
                            Label(
                                occurrence.span, f"`{name}` is {occurrence.size.describe()} here"
                            ),
                        ],
                        hints=[f"{before.place} and {occurrence.place} must have one size"],
                    )
        for delta in self.deltas:
            # Rule 6: a delta's indices all have one size.
            known = [
                (index, sizes[index.name])
                for index in delta.indices
                if isinstance(index, ast.IndexName) and index.name in sizes
            ]
            for index, size in known[1:]:
                if not size.same_as(known[0][1]):
                    self.error(
                        "E205",
                        index.span,
                        f"the indices of this delta have different sizes: "
                        f"`{known[0][0].name}` is {known[0][1].describe()}, "
                        f"`{index.name}` is {size.describe()}",
                        labels=[Label(delta.span, "in this delta")],
                    )
                    break
            if known:
                for each in delta.indices:
                    if isinstance(each, ast.IndexName) and each.name not in sizes:
                        sizes[each.name] = known[0][1]
                    elif isinstance(each, ast.IndexLiteral):
                        size = known[0][1]
                        if size.value is not None and each.value > size.value:
                            self.error(
                                "E203",
                                each.span,
                                f"literal index {each.value} is out of range 1..{size.value}",
                            )
        return sizes

    def check_bound_indices(self) -> None:
        """`sum[j]` rules: its body uses j; j occurs nowhere outside a `sum[j]`
        that binds it (nor on the left); no `sum[j]` inside another. Two
        separate sums may both use the name, as in Σ_j x[j] + Σ_j y[j]."""
        for name, nodes in self.bound.items():
            for node in nodes:
                inside = {
                    i.name
                    for n in ast.walk(node.body)
                    for i in _node_indices(n)
                    if isinstance(i, ast.IndexName)
                }
                own = next(i for i in node.indices if i.name == name)
                if name not in inside:
                    self.error(
                        "E207",
                        own.span,
                        f"`sum[{name}]` sums over `{name}`, but its body never uses `{name}`",
                        hints=["its size would be unknown; remove the sum or use the index"],
                    )
                repeats = [i for i in node.indices if i.name == name]
                if len(repeats) > 1:
                    self.error("E206", repeats[1].span, f"`{name}` is bound twice by one `sum`")
                for other in nodes:
                    if other is not node and _within(other.span, node.body.span):
                        self.error(
                            "E206",
                            next(i.span for i in other.indices if i.name == name),
                            f"`{name}` is already bound by an enclosing `sum[{name}]`",
                            labels=[Label(own.span, "bound here")],
                            hints=["rename the inner index"],
                        )
            outside = [
                occurrence
                for occurrence in self.occurrences.get(name, [])
                if not any(_within(occurrence.span, node.body.span) for node in nodes)
            ]
            if name in self.lhs or outside:
                span = outside[0].span if outside else nodes[0].span
                self.error(
                    "E206",
                    span,
                    f"`{name}` is bound by `sum[{name}]` and may not occur anywhere else "
                    "in the statement",
                    labels=[Label(nodes[0].indices[0].span, "bound here")],
                    hints=["rename one of the two"],
                )


def _within(inner: Span, outer: Span) -> bool:
    return outer.start <= inner.start < outer.end


def _node_indices(node: ast.Expr) -> tuple[ast.Index, ...]:
    if isinstance(node, ast.ArrayRef | ast.Delta | ast.DerivRef):
        return node.indices
    return ()


# ---------------------------------------------------------------------------
# Rule 3: where each implicit sum goes

Path = tuple[int, ...]


def _index_paths(expr: ast.Expr) -> tuple[dict[str, list[Path]], dict[Path, ast.Expr]]:
    """Where each index name occurs, as child-position paths, and every node by path."""
    occurrences: dict[str, list[Path]] = {}
    nodes: dict[Path, ast.Expr] = {}
    stack: list[tuple[ast.Expr, Path]] = [(expr, ())]
    while stack:
        node, path = stack.pop()
        nodes[path] = node
        for index in _node_indices(node):
            if isinstance(index, ast.IndexName):
                occurrences.setdefault(index.name, []).append(path)
        for position, child in enumerate(ast.children(node)):
            stack.append((child, (*path, position)))
    for paths in occurrences.values():
        paths.sort()
    return occurrences, nodes


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


def place_sums(
    rhs: ast.Expr, lhs: tuple[str, ...]
) -> tuple[ast.Expr, tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Make the implicit sums of rule 3 explicit.

    Returns the right-hand side with `SumOver(explicit=False)` nodes inserted,
    the summed indices in order of first use, and for each top-level term the
    left-hand indices it is broadcast over (rule 4).
    """
    free = set(lhs)
    occurrences, nodes = _index_paths(rhs)
    # Indices bound by an explicit `sum[j]` are already placed.
    bound = {
        i.name for node in nodes.values() if isinstance(node, ast.SumOver) for i in node.indices
    }
    sum_bodies = sorted(
        ((*path, 0) for path, node in nodes.items() if isinstance(node, ast.SumOver)),
        key=len,
    )
    placements: dict[Path, list[str]] = {}
    order = sorted(occurrences, key=lambda name: occurrences[name][0])
    for name in order:
        if name in free or name in bound:
            continue
        paths = occurrences[name]
        common = _common_prefix(paths)
        # The scope: the deepest sum body holding every occurrence, else the
        # whole right-hand side.
        scope: Path = ()
        for body in sum_bodies:
            if common[: len(body)] == body and len(body) > len(scope):
                scope = body
        for term in _top_level_terms(nodes, scope):
            inside = [p for p in paths if p[: len(term)] == term]
            if not inside:
                continue
            lowest = _common_prefix(inside)
            target = term
            # The smallest product holding every occurrence in this term.
            for length in range(len(lowest), len(term) - 1, -1):
                candidate = nodes[lowest[:length]]
                if isinstance(candidate, ast.Product):
                    holders = {p[length] for p in inside}
                    if len(holders) >= 2:
                        target = lowest[:length]
                    break
            placements.setdefault(target, []).append(name)

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

    summed = tuple(name for name in order if name not in free)
    new_rhs = rebuild(rhs, ())
    broadcast = tuple(
        tuple(
            name
            for name in lhs
            if not any(p[: len(term)] == term for p in occurrences.get(name, []))
        )
        for term in _top_level_terms(nodes, ())
    )
    return new_rhs, summed, broadcast


# ---------------------------------------------------------------------------
# The whole program


class _ProgramChecker:
    def __init__(
        self, program: ast.Program, size_overrides: dict[str, int], layout_override: str | None
    ) -> None:
        self.program = program
        self.size_overrides = size_overrides
        self.layout_override = layout_override
        self.problems: list[Diagnostic] = []
        self.names = _Names()
        self.definitions: list[CheckedDefinition] = []
        self.claims: list[CheckedClaim] = []
        self.requests: list[DeriveRequest] = []
        self.layout = "numerator"

    def error(
        self,
        code: str,
        span: Span | None,
        message: str,
        statement: ast.Statement | None = None,
        **extra: object,
    ) -> None:
        context = loop_context(statement.loop) if statement is not None else None
        self.problems.append(diagnostic(code, span, message, context=context, **extra))  # type: ignore[arg-type]

    # ---- first pass: layout, and where every name is introduced
    def survey(self) -> None:
        layouts = [s for s in self.program.statements if isinstance(s, ast.LayoutStmt)]
        for extra in layouts[1:]:
            self.error(
                "E104",
                extra.span,
                "a file has at most one `layout` statement",
                labels=[Label(layouts[0].span, "the first is here")],
            )
        if layouts:
            self.layout = layouts[0].layout
            if self.layout_override and self.layout_override != self.layout:
                self.error(
                    "W103",
                    layouts[0].span,
                    f"the file says `layout {self.layout}`, which wins over "
                    f"`--layout {self.layout_override}`",
                    hints=["the file's claims are written in its own layout"],
                )
        elif self.layout_override:
            self.layout = self.layout_override
        self.names.failed.update(self.program.unparsed_names)
        for statement in self.program.statements:
            if isinstance(statement, ast.DeclStmt):
                for entry in statement.entries:
                    self.names.everywhere.setdefault(entry.name, entry.span)
            elif isinstance(statement, ast.Definition):
                self.names.everywhere.setdefault(statement.name, statement.name_span)

    # ---- declarations
    def claim_name(self, name: str, span: Span, statement: ast.Statement) -> bool:
        earlier = self.names.dims.get(name) or self.names.arrays.get(name)
        if earlier is None and name not in self.names.failed:
            return True
        where = [Label(earlier.span, f"`{name}` is first defined here")] if earlier else []
        self.error(
            "E102",
            span,
            f"`{name}` is defined twice",
            statement,
            labels=where,
            hints=["each name is declared or defined once"],
        )
        return False

    def dim(self, statement: ast.DimStmt) -> None:
        for entry in statement.entries:
            if not self.claim_name(entry.name, entry.span, statement):
                continue
            value = self.size_overrides.get(entry.name, entry.value)
            if value is not None and not (
                isinstance(value, int)
                or (isinstance(value, float) and value.is_integer() and value < 2**63)
            ):
                self.error(
                    "E105", entry.span, f"`{entry.name}` = {value} is not a whole number", statement
                )
                value = None
            elif value is not None and not 1 <= int(value) <= MAX_SIZE:
                self.error(
                    "E105",
                    entry.span,
                    f"`{entry.name}` = {int(value):,} is out of range: sizes run from 1 to "
                    f"{MAX_SIZE:,}",
                    statement,
                    hints=["leave the size out (`dim n`) to let numeric checks choose one"],
                )
                value = None
            self.names.dims[entry.name] = Dim(
                entry.name, None if value is None else int(value), entry.span
            )

    def size(self, item: ast.ShapeItem, statement: ast.Statement) -> Size | None:
        if isinstance(item, ast.SizeLiteral):
            if not 1 <= item.value <= MAX_SIZE:
                self.error(
                    "E105",
                    item.span,
                    f"size {item.value} is out of range 1..{MAX_SIZE:,}",
                    statement,
                )
                return None
            return Size(None, item.value)
        dim = self.names.dims.get(item.name)
        if dim is None:
            later = any(
                isinstance(s, ast.DimStmt) and any(e.name == item.name for e in s.entries)
                for s in self.program.statements
            )
            if later:
                self.error(
                    "E103",
                    item.span,
                    f"size `{item.name}` is used before its `dim`",
                    statement,
                    hints=["move the `dim` line above"],
                )
            else:
                self.error(
                    "E101",
                    item.span,
                    f"unknown size `{item.name}`",
                    statement,
                    hints=_did_you_mean(item.name, self.names.dims)
                    or [f"declare it: `dim {item.name}`"],
                )
            return None
        self.names.used.add(item.name)
        return Size(dim.name, dim.value)

    def declaration(self, statement: ast.DeclStmt) -> None:
        for entry in statement.entries:
            if not self.claim_name(entry.name, entry.span, statement):
                continue
            shape = [self.size(item, statement) for item in entry.shape]
            if any(s is None for s in shape):
                self.names.failed.add(entry.name)
                continue
            sizes = tuple(s for s in shape if s is not None)
            value = None
            if entry.value is not None:
                value = self.literal_value(entry, sizes, statement)
                if value is None:
                    self.names.failed.add(entry.name)
                    continue
            self.names.arrays[entry.name] = ArrayInfo(
                entry.name, statement.kind, sizes, entry.span, entry.positive, value
            )

    def literal_value(
        self, entry: ast.ArrayDecl, shape: tuple[Size, ...], statement: ast.Statement
    ) -> ast.LiteralData | None:
        assert entry.value is not None
        if any(size.value is None for size in shape):
            symbolic = next(s for s in shape if s.value is None)
            self.error(
                "E106",
                entry.value.span,
                f"a literal value needs known sizes, but `{symbolic}` has no value",
                statement,
                hints=[f"give it one: `dim {symbolic} = ...`"],
            )
            return None

        def fits(data: ast.LiteralData, sizes: tuple[Size, ...]) -> str | None:
            if not sizes:
                return None if not isinstance(data, tuple) else "a number"
            if not isinstance(data, tuple):
                return f"a list of {sizes[0].value}"
            if len(data) != sizes[0].value:
                return f"{sizes[0].value} entries, not {len(data)}"
            for item in data:
                problem = fits(item, sizes[1:])
                if problem:
                    return problem
            return None

        problem = fits(entry.value.data, shape)
        if problem:
            declared = "×".join(str(s.value) for s in shape) or "a scalar"
            self.error(
                "E106",
                entry.value.span,
                f"the value of `{entry.name}` does not fit its shape {declared}: expected "
                f"{problem}",
                statement,
            )
            return None
        if entry.positive:
            flat: list[float] = []
            stack = [entry.value.data]
            while stack:
                item = stack.pop()
                if isinstance(item, tuple):
                    stack.extend(item)
                else:
                    flat.append(item)
            if any(v <= 0 for v in flat):
                self.error(
                    "E106",
                    entry.value.span,
                    f"`{entry.name}` is declared positive, but its value has {min(flat):g}",
                    statement,
                )
                return None
        return entry.value.data

    # ---- definitions and claims
    def lhs_indices(
        self, indices: tuple[ast.Index, ...], statement: ast.Statement
    ) -> tuple[str, ...] | None:
        names: list[str] = []
        ok = True
        for index in indices:
            if isinstance(index, ast.IndexLiteral):
                self.error(
                    "E113",
                    index.span,
                    f"the left-hand side takes index names, not the number {index.value}",
                    statement,
                    hints=["a definition defines every entry; name the index"],
                )
                ok = False
                continue
            if index.name in names:
                self.error(
                    "E108",
                    index.span,
                    f"index `{index.name}` appears twice on the left",
                    statement,
                    hints=["a diagonal is written with delta on the right"],
                )
                ok = False
            if index.name in self.names.dims:
                self.error(
                    "E107",
                    index.span,
                    f"`{index.name}` names a size (`dim`); it cannot also be an index here",
                    statement,
                    hints=["use a lowercase letter such as `i` for the index"],
                )
                ok = False
            names.append(index.name)
        return tuple(names) if ok else None

    def definition(self, statement: ast.Definition) -> None:
        if not self.claim_name(statement.name, statement.name_span, statement):
            return
        lhs = self.lhs_indices(statement.indices, statement)
        checker = _StatementChecker(
            self.names,
            lhs or (),
            loop_context(statement.loop),
            in_claim=False,
            layout=self.layout,
            self_name=statement.name,
        )
        checker.visit(statement.rhs)
        sizes = checker.resolve_sizes({})
        checker.check_bound_indices()
        if lhs is not None:
            for name, index in zip(lhs, statement.indices, strict=True):
                if name not in checker.occurrences:
                    checker.error(
                        "E204",
                        index.span,
                        f"left-hand index `{name}` does not occur on the right, so its size "
                        "is unknown",
                        hints=["every left-hand index must index something on the right"],
                    )
        self.unsized(checker, sizes)
        self.problems.extend(checker.problems)
        if checker.problems or checker.poisoned or lhs is None:
            self.names.failed.add(statement.name)
            return
        rhs, summed, broadcast = place_sums(statement.rhs, lhs)
        shape = tuple(sizes[name] for name in lhs)
        self.names.arrays[statement.name] = ArrayInfo(
            statement.name, "defined", shape, statement.name_span
        )
        self.definitions.append(
            CheckedDefinition(
                statement.name,
                lhs,
                tuple(sizes.items()),
                rhs,
                summed,
                broadcast,
                tuple(checker.depends_on),
                statement.span,
                statement.loop,
            )
        )

    def unsized(self, checker: _StatementChecker, sizes: dict[str, Size]) -> None:
        for name, occurrences in checker.occurrences.items():
            if name not in sizes and occurrences and not checker.problems:
                checker.error(
                    "E209",
                    occurrences[0].span,
                    f"the size of index `{name}` is unknown: it only indexes deltas",
                    hints=["index an array with it too, or write the size out"],
                )

    def claim(self, statement: ast.Claim) -> None:
        context = loop_context(statement.loop)
        if {statement.of, statement.wrt} & self.names.failed:
            return  # the array's own problem is already reported
        missing = [n for n in (statement.of, statement.wrt) if n not in self.names.everywhere]
        for name in missing:
            self.error(
                "E101",
                statement.name_span,
                f"unknown name `{name}` in `d{statement.of}/d{statement.wrt}`",
                statement,
                hints=_did_you_mean(name, self.names.everywhere),
            )
        lhs = self.lhs_indices(statement.indices, statement)
        if missing or lhs is None:
            return
        self.deferred_claims.append((statement, lhs, context))

    def finish_claim(self, statement: ast.Claim, lhs: tuple[str, ...], context: str | None) -> None:
        if statement.of in self.names.failed or statement.wrt in self.names.failed:
            return  # already reported where the array was defined
        of = self.names.arrays[statement.of]
        wrt = self.names.arrays[statement.wrt]
        shape = derivative_shape(of.shape, wrt.shape, self.layout)
        label = f"d{statement.of}/d{statement.wrt}"
        if len(lhs) != len(shape):
            written = "×".join(str(s) for s in shape) or "a scalar"
            self.error(
                "E301",
                statement.name_span,
                f"{label} has {len(shape)} {'index' if len(shape) == 1 else 'indices'} "
                f"({written}) in {self.layout} layout; this claim has {len(lhs)}",
                statement,
                hints=[self.signature_hint(statement.of, statement.wrt)],
            )
            return
        checker = _StatementChecker(self.names, lhs, context, in_claim=True, layout=self.layout)
        given = {
            name: _Occurrence(size, index.span, f"position {k + 1} of {label}'s signature")
            for k, (name, size, index) in enumerate(zip(lhs, shape, statement.indices, strict=True))
        }
        checker.visit(statement.rhs)
        sizes = checker.resolve_sizes(given)
        checker.check_bound_indices()
        self.unsized(checker, sizes)
        # A size clash with the signature is usually the other layout's order.
        layout_hint = self.signature_hint(statement.of, statement.wrt)
        self.problems.extend(
            replace(p, hints=(*p.hints, layout_hint))
            if p.code == "E201" and any("signature" in h for h in p.hints)
            else p
            for p in checker.problems
        )
        if checker.problems or checker.poisoned:
            return
        rhs, summed, _ = place_sums(statement.rhs, lhs)
        self.names.used.update((statement.of, statement.wrt))
        self.claims.append(
            CheckedClaim(
                statement.of,
                statement.wrt,
                lhs,
                tuple(sizes.items()),
                rhs,
                summed,
                statement.span,
                statement.loop,
            )
        )

    def signature_hint(self, of: str, wrt: str) -> str:
        a, b = self.names.arrays[of], self.names.arrays[wrt]
        if not a.shape:
            return f"the gradient of a scalar has the shape of `{wrt}`"
        first, second = (a, b) if self.layout == "numerator" else (b, a)
        return (
            f"in {self.layout} layout the indices of `{first.name}` come first, "
            f"then those of `{second.name}`"
        )

    # ---- derive requests and dependencies
    def depends(self, of: str, wrt: str) -> bool:
        """Whether `of` depends on `wrt` through the definitions (a graph search).

        Searched per question rather than as a full transitive closure,
        which would be quadratic in a long chain of definitions.
        """
        uses = {d.name: d.depends_on for d in self.definitions}
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

    def derive(self, statement: ast.DeriveStmt) -> None:
        for target in statement.targets:
            if {target.of, target.wrt} & self.names.failed:
                continue  # the array's own problem is already reported
            unknown = [n for n in (target.of, target.wrt) if n not in self.names.everywhere]
            for name in unknown:
                self.error(
                    "E101",
                    target.span,
                    f"unknown name `{name}` in `{target}`",
                    statement,
                    hints=_did_you_mean(name, self.names.everywhere),
                )
            if unknown:
                continue
            self.names.used.update((target.of, target.wrt))
            self.requests.append(
                DeriveRequest(target.of, target.wrt, target.span, loop=statement.loop)
            )

    def finish_requests(self) -> list[DeriveRequest]:
        kept: list[DeriveRequest] = []
        seen: set[tuple[str, str]] = set()
        for request in self.requests:
            if request.of in self.names.failed or request.wrt in self.names.failed:
                continue
            if (request.of, request.wrt) in seen:
                continue
            seen.add((request.of, request.wrt))
            if request.of != request.wrt and not self.depends(request.of, request.wrt):
                self.problems.append(
                    diagnostic(
                        "W102",
                        request.span,
                        f"{request.label} is identically zero: `{request.of}` does not depend "
                        f"on `{request.wrt}`",
                        context=loop_context(request.loop),
                    )
                )
            kept.append(request)
        if not any(isinstance(s, ast.DeriveStmt) for s in self.program.statements):
            kept = self.default_requests()
        return kept

    def default_requests(self) -> list[DeriveRequest]:
        """Spec section 5: every unused scalar definition with respect to every param."""
        used = {name for d in self.definitions for name in d.depends_on}
        params = [a.name for a in self.names.arrays.values() if a.kind == "param"]
        requests = []
        for definition in self.definitions:
            if definition.indices or definition.name in used:
                continue
            for param in params:
                if self.depends(definition.name, param):
                    requests.append(DeriveRequest(definition.name, param, None, default=True))
        return requests

    def unused(self) -> None:
        if not self.program.complete:
            return  # a line that did not parse may have used them
        for dim in self.names.dims.values():
            if dim.name not in self.names.used and dim.name not in self.loop_bounds:
                self.problems.append(
                    diagnostic("W101", dim.span, f"dim `{dim.name}` is never used")
                )
        for array in self.names.arrays.values():
            if array.is_leaf and array.name not in self.names.used:
                self.problems.append(
                    diagnostic(
                        "W101",
                        array.span,
                        f"{array.kind} `{array.name}` is never used",
                    )
                )

    def run(self) -> CheckedProgram:
        self.survey()
        self.deferred_claims: list[tuple[ast.Claim, tuple[str, ...], str | None]] = []
        self.loop_bounds = {
            bound.name
            for header in self.program.loops
            for bound in (header.start, header.stop)
            if bound.name is not None
        }
        for statement in self.program.statements:
            if isinstance(statement, ast.DimStmt):
                self.dim(statement)
            elif isinstance(statement, ast.DeclStmt):
                self.declaration(statement)
            elif isinstance(statement, ast.Definition):
                self.definition(statement)
            elif isinstance(statement, ast.Claim):
                self.claim(statement)
            elif isinstance(statement, ast.DeriveStmt):
                self.derive(statement)
        # Claims may use any array of the file, so they are checked once all
        # definitions are known.
        for claim, lhs, context in self.deferred_claims:
            self.finish_claim(claim, lhs, context)
        requests = self.finish_requests()
        self.unused()
        return CheckedProgram(
            tuple(self.names.dims.values()),
            tuple(self.names.arrays.values()),
            tuple(self.definitions),
            tuple(requests),
            tuple(self.claims),
            self.layout,
        )


def merge_repeats(problems: list[Diagnostic]) -> list[Diagnostic]:
    """One diagnostic for a problem an unrolled line repeats at every step."""
    merged: dict[tuple[str, Span | None, str], Diagnostic] = {}
    contexts: dict[tuple[str, Span | None, str], list[str]] = {}
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
    checker = _ProgramChecker(program, size_overrides or {}, layout_override)
    checked = checker.run()
    problems = merge_repeats(checker.problems)
    problems.sort(key=lambda d: d.span.start if d.span else -1)
    return checked, problems
