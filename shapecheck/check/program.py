"""The checked program: what `check` hands to every later stage.

Plain frozen data. A `CheckedProgram` holds only statements that passed every
rule, with each index's size resolved and the implicit sums of spec section 4
made explicit as `SumOver(explicit=False)` nodes in the right-hand sides, so
that lowering, rendering and verification all read the same summation.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Literal

from shapecheck.check.sizeexpr import Poly
from shapecheck.source import Span
from shapecheck.syntax import ast

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass

LAYOUTS = ("numerator", "denominator")


@dataclass(frozen=True)
class Size:
    """A size as declared: a dim (with or without a value) or a literal number.

    A dim without a value carries its polynomial over the free dims (spec
    9.4): its own name for a free dim, `n - k + 1` for `dim m = n - k + 1`.
    """

    name: str | None
    value: int | None
    poly: Poly | None = None

    def same_as(self, other: Size) -> bool:
        if self.value is not None and other.value is not None:
            return self.value == other.value
        if self.poly is not None and other.poly is not None:
            return self.poly == other.poly
        return self.name is not None and self.name == other.name

    def __str__(self) -> str:
        return self.name if self.name is not None else str(self.value)

    def describe(self) -> str:
        """`d (3)`, `n` or `3`: the name and, where known, the number."""
        if self.name is not None and self.value is not None:
            return f"{self.name} ({self.value})"
        return str(self)


@dataclass(frozen=True)
class Dim:
    """A `dim`: its value, or none; a computed dim without a value keeps its
    polynomial over the free dims (`n - k + 1`), a free one its own name's."""

    name: str
    value: int | None
    span: Span
    poly: Poly | None = None
    # The written expression of a computed dim (`n - k + 1`), for messages.
    written: str | None = None

    @property
    def computed(self) -> bool:
        return self.written is not None

    def size(self) -> Size:
        return Size(self.name, self.value, self.poly)


@dataclass(frozen=True)
class ArrayInfo:
    """A declared (`input`, `param`) or defined (`defined`) array and its shape."""

    name: str
    kind: str
    shape: tuple[Size, ...]
    span: Span
    positive: bool = False
    value: ast.LiteralData | None = None
    # An integer array (`input y[n] in c`, spec 9.3) holds integers in 1..classes.
    classes: Size | None = None

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def is_leaf(self) -> bool:
        return self.kind in ("input", "param")


@dataclass(frozen=True)
class CheckedDefinition:
    """A definition as checked: sizes of its indices, implicit sums made explicit."""

    name: str
    indices: tuple[str, ...]
    sizes: tuple[tuple[str, Size], ...]  # every index of the statement
    rhs: ast.Expr  # implicit sums made explicit
    summed: tuple[str, ...]
    broadcast: tuple[tuple[str, ...], ...]  # per top-level term: left indices it lacks
    # Names used directly, in order of first use, then, for each derivative
    # reference `dA/dB` (spec 9.6), A, B and everything A depends on: the
    # derivative substituted for it may mention any of them.
    depends_on: tuple[str, ...]
    span: Span
    loop: ast.LoopValues = ()
    # The names of `depends_on` used only through derivative references: not
    # a use of A for the default `derive` (spec 9.6).
    reference_only: tuple[str, ...] = ()
    # The left-hand side as written, annotations included (`y[a:m]`): the
    # annotation changes what the right-hand side reads (spec 9.4).
    written_indices: tuple[str, ...] = ()

    def size_of(self, index: str) -> Size:
        return dict(self.sizes)[index]


@dataclass(frozen=True)
class CheckedClaim:
    """A claim as checked: sizes of its indices, implicit sums made explicit."""

    of: str
    wrt: str
    indices: tuple[str, ...]
    sizes: tuple[tuple[str, Size], ...]
    rhs: ast.Expr
    summed: tuple[str, ...]
    span: Span
    loop: ast.LoopValues = ()
    order: int = 1  # 2 for a claim of `d2A/dB2` (spec 9.6)

    @property
    def label(self) -> str:
        return ast.derivative_label(self.of, self.wrt, self.order)


@dataclass(frozen=True)
class DeriveRequest:
    """A derivative to compute; `default` when no `derive` statement asked for any."""

    of: str
    wrt: str
    span: Span | None
    default: bool = False
    loop: ast.LoopValues = ()
    order: int = 1  # 2 for `derive d2A/dB2` (spec 9.6)
    # `derive dY/dX[i, k, p, q]`: the signature's names, in layout order (spec 10).
    names: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return ast.derivative_label(self.of, self.wrt, self.order)


# Where a literal index stands: an array position, a position of a derivative
# reference's signature (claims), or a delta sized by another of its indices.
NeedKind = Literal["array", "derivative", "delta"]


@dataclass(frozen=True)
class SizeNeed:
    """A literal index along a dim without a value (rule 2): `X[5, j]` with X[n, d].

    The checker cannot test the literal against `n`, so it records the need;
    sizes chosen for numeric checks must make `n` at least `at_least`.
    """

    dim: str
    at_least: int
    span: Span
    kind: NeedKind


@dataclass(frozen=True)
class CheckedProgram:
    """What the checker found a file declares, defines, asks for and claims."""

    dims: tuple[Dim, ...]
    arrays: tuple[ArrayInfo, ...]  # declaration and definition order
    definitions: tuple[CheckedDefinition, ...]
    requests: tuple[DeriveRequest, ...]
    claims: tuple[CheckedClaim, ...]
    layout: str
    # Every constraint on a dim without a value that the checker could not
    # test, in file order (definitions first, then claims): all that sizes
    # chosen later must satisfy. Rule 1 needs nothing here: two sizes agree
    # only when both name one dim or both have equal values, which any
    # choice keeps.
    size_needs: tuple[SizeNeed, ...] = ()
    # The opaque functions the file declares with `fn` (spec 9.5), in order.
    functions: tuple[str, ...] = ()

    @cached_property
    def _arrays(self) -> dict[str, ArrayInfo]:
        return {a.name: a for a in self.arrays}

    @cached_property
    def _definitions(self) -> dict[str, CheckedDefinition]:
        return {d.name: d for d in self.definitions}

    def array(self, name: str) -> ArrayInfo:
        return self._arrays[name]

    def definition(self, name: str) -> CheckedDefinition | None:
        return self._definitions.get(name)

    def signature(self, of: str, wrt: str) -> tuple[Size, ...]:
        """The shape of dOF/dWRT in this program's layout (spec section 5)."""
        return derivative_shape(self.array(of).shape, self.array(wrt).shape, self.layout)


def derivative_shape(
    of: tuple[Size, ...], wrt: tuple[Size, ...], layout: str, order: int = 1
) -> tuple[Size, ...]:
    """Numerator layout: A's sizes then B's; denominator: B's then A's; scalar A: B's.
    The second derivative is the derivative of the first (spec 9.6): A's, B's, B's
    in numerator layout, the reverse in denominator layout."""
    if order == 2:
        return derivative_shape(derivative_shape(of, wrt, layout), wrt, layout)
    if not of:
        return wrt
    return of + wrt if layout == "numerator" else wrt + of
