"""Check, names: what each name means at each line (spec rule 7, and section 2).

The checker's state lives here: `FileScope` for the whole file (what is known
about names so far, in file order, and what has been checked), and
`StatementScope` for the one definition or claim being checked (the indices
it uses and where). `lookup` enforces rule 7 for every name a right-hand side
uses: unknown names (with a did-you-mean), use before definition, a definition
that uses itself, a dim standing where an array must; `introduce` reports a
redefinition. The other rule modules read and fill these scopes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import field
from typing import TYPE_CHECKING

from shapecheck.check.program import (
    ArrayInfo,
    CheckedClaim,
    CheckedDefinition,
    DeriveRequest,
    Dim,
    Size,
    SizeNeed,
)
from shapecheck.diagnostics import Code, Diagnostic, Label, diagnostic
from shapecheck.source import Span
from shapecheck.syntax import ast, notation
from shapecheck.syntax.unroll import loop_context

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass


def did_you_mean(name: str, candidates: Iterable[str]) -> list[str]:
    names = list(candidates)
    same_letters = [c for c in names if c.lower() == name.lower()]
    close = same_letters or difflib.get_close_matches(name, names, n=1)
    return [f"did you mean `{close[0]}`?"] if close else []


@dataclass
class Names:
    """What is known about names so far, in file order."""

    dims: dict[str, Dim] = field(default_factory=dict)
    arrays: dict[str, ArrayInfo] = field(default_factory=dict)
    # Every array name in the file with where it is first declared or
    # defined, to tell "unknown" from "used before its definition".
    everywhere: dict[str, Span] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    # Opaque functions (`fn`, spec 9.5): declared so far, and every one in the
    # file (to tell "used before its declaration" from "unknown").
    functions: dict[str, Span] = field(default_factory=dict)
    everywhere_functions: dict[str, Span] = field(default_factory=dict)
    # Names whose own declaration or definition failed (already reported):
    # their uses are not reported again.
    failed: set[str] = field(default_factory=set)
    # Arrays some definition takes `loss(A)` of: a claim may name their
    # upstream gradient `dloss/dA` (spec 10).
    losses: set[str] = field(default_factory=set)


# A claim whose names are known, kept until every definition is checked.
DeferredClaim = tuple[ast.Claim, tuple[str, ...], str | None]


@dataclass
class FileScope:
    """The whole file being checked: names, results so far, and every problem."""

    program: ast.Program
    size_overrides: dict[str, int]
    names: Names = field(default_factory=Names)
    layout: str = "numerator"
    problems: list[Diagnostic] = field(default_factory=list)
    definitions: list[CheckedDefinition] = field(default_factory=list)
    claims: list[CheckedClaim] = field(default_factory=list)
    requests: list[DeriveRequest] = field(default_factory=list)
    deferred_claims: list[DeferredClaim] = field(default_factory=list)
    # The derivative references of accepted definitions (spec 9.6), each
    # verified like a `derive` of it.
    reference_requests: list[DeriveRequest] = field(default_factory=list)
    size_needs: list[SizeNeed] = field(default_factory=list)

    def error(
        self,
        code: Code,
        span: Span | None,
        message: str,
        statement: ast.Statement | None = None,
        **extra: object,
    ) -> None:
        context = loop_context(statement.loop) if statement is not None else None
        self.problems.append(diagnostic(code, span, message, context=context, **extra))  # type: ignore[arg-type]


def introduce(file: FileScope, name: str, span: Span, statement: ast.Statement) -> bool:
    """Whether `name` is new here; a second declaration or definition is E102."""
    names = file.names
    earlier = names.dims.get(name) or names.arrays.get(name)
    first = earlier.span if earlier is not None else names.functions.get(name)
    if first is None and name not in names.failed:
        return True
    where = [Label(first, f"`{name}` is first defined here")] if first else []
    file.error(
        Code.E102,
        span,
        f"`{name}` is defined twice",
        statement,
        labels=where,
        hints=["each name is declared or defined once"],
    )
    return False


# What binds the indices in its brackets: `sum[j]`, and the reductions
# `logsumexp[j]` and `norm[j]` (an `IndexedCall` whose `reduces` is true).
Binder = ast.SumOver | ast.MeanOver | ast.IndexedCall


if TYPE_CHECKING:
    from shapecheck.check.windows import Window


@dataclass
class Occurrence:
    """One place an index stands, with the size that place gives it (None: a delta)."""

    size: Size | None
    span: Span
    place: str  # e.g. "the second index of X"


class StatementScope:
    """One definition or claim being checked: the names it uses and its indices."""

    def __init__(
        self,
        names: Names,
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
        self.occurrences: dict[str, list[Occurrence]] = {}
        self.deltas: list[ast.Delta] = []
        # The binders of each index name, in visiting order (a dict as an
        # ordered set: a line may hold thousands, one per step of a range sum).
        self.bound: dict[str, dict[Binder, None]] = {}
        self.indexed_calls: list[ast.IndexedCall] = []
        # `argmax[j](e)` in array positions, with the position's size and name.
        self.selections: list[tuple[ast.IndexSelect, Size, str]] = []
        # Where each dim stands as a number (spec 9.1), and the warnings of
        # the statement (they do not keep it out of the checked program).
        self.size_uses: dict[str, list[Span]] = {}
        self.warnings: list[Diagnostic] = []
        self.depends_on: list[str] = []
        # Names looked up for a derivative reference (spec 9.6), kept apart
        # from direct uses while `referencing` is set.
        self.referencing = False
        self.references: list[str] = []
        self.derivative_references: list[ast.DerivRef] = []
        self.needs: list[SizeNeed] = []
        # Positions holding an index expression (spec 9.4), for the range proof.
        self.windows: list[Window] = []
        # Indices a left-hand annotation sizes (`y[a:m]`).
        self.annotated: set[str] = set()
        # Arrays of a product written without indices (`X W`), reported once
        # for the whole product.
        self.bare_operands: set[Span] = set()
        # Set when the statement uses a name whose own definition failed: it
        # cannot be checked, and it is not reported a second time.
        self.poisoned = False

    def error(self, code: Code, span: Span | None, message: str, **extra: object) -> None:
        self.problems.append(diagnostic(code, span, message, context=self.context, **extra))  # type: ignore[arg-type]

    def lookup(self, name: str, span: Span) -> ArrayInfo | None:
        """The array `name` stands for here, or None after reporting why not."""
        if name == self.self_name:
            self.error(
                Code.E103,
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
            uses = self.references if self.referencing else self.depends_on
            if name not in uses:
                uses.append(name)
            return info
        self._not_an_array(name, span)
        return None

    def _not_an_array(self, name: str, span: Span) -> None:
        if name in self.names.everywhere_functions:
            # `fn f` and then `f[i]` or a bare `f` (spec 9.5).
            self.error(
                Code.E165,
                span,
                f"`{name}` is a function (`fn`), not an array",
                hints=[
                    f"a function applies entry by entry to one argument, e.g. `{name}(x[i])`; "
                    f"its derivative is `{name}'(x[i])`"
                ],
            )
        elif name in self.names.everywhere and not self.in_claim:
            self.error(
                Code.E103,
                span,
                f"`{name}` is used before its definition",
                labels=[Label(self.names.everywhere[name], f"`{name}` is defined here")],
                hints=["move the definition above its first use"],
            )
        elif name in self.names.dims:
            self.error(
                Code.E101,
                span,
                f"`{name}` is a size (`dim`), not an array",
                hints=[_size_as_value(self.names.dims[name])],
            )
        else:
            self.error(
                Code.E101,
                span,
                f"unknown name `{name}`",
                hints=unknown_name_hints(name, self.names),
            )


def _size_as_value(dim: Dim) -> str:
    # Never "declare an array": the user means the size. Only here, where an
    # array must stand (`n[i]`, `loss(n)`), is a size not a number (spec 9.1).
    return (
        f"a size stands in shapes and index lists, or alone as a number (`/ {dim.name}`); "
        "it has no entries"
    )


def unknown_name_hints(name: str, names: Names) -> list[str]:
    """What to write instead of an unknown name on a right-hand side.

    `x_i` where `x` is an array is its entry `x[i]`, and a numpy function
    name is shown the `.idx` way (spec 9.7); only a plain name gets the
    advice to declare it.
    """
    subscript = _subscripted(name, names)
    if subscript is not None:
        return [f"`{name}` is a name of its own; an entry of `{subscript[0]}` is `{subscript[1]}`"]
    if notation.numpy_function(name):
        # A bare `maximum`: the call it names, with placeholder arguments.
        example = notation.translate_call(name, ["a", "b"], notation.FileNames())
        if example is not None:
            return [f"`{name}` is numpy, not `.idx`: write `{example[0]}`: {example[1]}"]
        return [f"`{name}` is numpy, not `.idx`: " + notation.GENERIC_HINT]
    close = did_you_mean(name, names.arrays)
    if close:
        return close
    if re.fullmatch(r"[a-z][0-9]?", name):
        # A name like an index: the user most likely meant its value (12.2).
        return [
            f"an index stands as its value (`({name} <= i)`, `0.9^{name}`) only where it also "
            f"indexes an array of the statement (`x[{name}]`); otherwise declare `{name}` above "
            "with `input` or `param`, or define it"
        ]
    return ["declare it above with `input` or `param`, or define it"]


def _subscripted(name: str, names: Names) -> tuple[str, str] | None:
    """(`x`, `x[i]`) for `x_i`, (`X`, `X[i, j]`) for `X_ij` where `X` has rank 2."""
    base, underscore, subscript = name.rpartition("_")
    info = names.arrays.get(base)
    if not underscore or info is None or not subscript.isalpha() or info.rank == 0:
        return None
    letters = list(subscript) if len(subscript) == info.rank else [subscript]
    if len(letters) != info.rank:
        letters = notation.fresh_letters(info.rank, {*names.dims, *names.arrays})
    return base, f"{base}[{', '.join(letters)}]"
