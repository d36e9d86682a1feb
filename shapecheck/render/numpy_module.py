"""`--emit numpy`: a standalone Python module with the file's forward and backward pass.

The module imports numpy only. `forward(**arrays)` computes every definition,
one line each in file order; `backward(**arrays)` every derived derivative,
each adjoint it needs on a line of its own (the way backprop is written by
hand), and returns them keyed by label (`"dL/dW"`), axes in signature order.
Arrays are passed by name (an upstream gradient `dloss/dY` as `dloss_dY`);
literal values declared in the file are defaults.

Unlike `numeric.codegen`, which prints `derive`'s lines for the sizes of one
check (`np.eye(8)`), no size is baked in: each dim is read from the shape of
the first input that has it, every input's shape is checked against the
others, and deltas, zeros and broadcasts are sized by those names. Products
that sum are one `np.einsum(..., optimize=True)`; products that do not are
written with numpy broadcasting (`np.exp(Z) / S[:, None]`), so each line can
be read against the formula it computes.

An `fn` function (spec 9.5) is a module-level Python function `f(x, order=0)`,
defined as the seeded stand-in the checks used (`numeric/standins.py`, with
the run's seed): replace it with the function meant, and the passes compute
with that one; `f(x, k)` is its derivative of order k.
"""

from __future__ import annotations

import json
import keyword
import math
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shapecheck import __version__
from shapecheck.check.program import CheckedProgram, Dim, Size
from shapecheck.check.sizeexpr import Monomial
from shapecheck.exhaustive import assert_never
from shapecheck.numeric.codegen import (
    COMPARE_CODE,
    MATRIX_CODE,
    CodeError,
    indexed_code,
    opaque_code,
    python_name,
    shifted_code,
)
from shapecheck.pipeline import FileReport
from shapecheck.render import derivatives as facts
from shapecheck.render.escape import visible
from shapecheck.symbolic import terms as t
from shapecheck.symbolic.derive import Adjoint, Derivation, Deriver, has_reference
from shapecheck.symbolic.formula import divisor
from shapecheck.symbolic.lower import lower_definition
from shapecheck.syntax import ast

if TYPE_CHECKING:
    from shapecheck.render.output import RunContext

# Python's binding strengths, loosest first: a + b, a * b, -a, a ** b, atoms.
_SUM, _MUL, _NEG, _POW, _ATOM = range(5)
# Names the module itself uses; a file's array may not shadow them.
_RESERVED = {
    "np",
    "INPUTS",
    "DEFAULTS",
    "arrays",
    "values",
    "forward",
    "backward",
    "_softmax",
    "_logsumexp",
    "_norm",
    "_stand_in",
}
_FUNCTIONS = {
    "relu": "np.maximum({}, 0.0)",
    "step": "np.heaviside({}, 0.0)",
    "abs": "np.abs({})",
}


@dataclass(frozen=True)
class _Code:
    """Python text, the axes its value has (in order), and how tightly it binds."""

    text: str
    axes: tuple[str, ...]
    level: int = _ATOM


def _wrap(code: _Code, level: int) -> str:
    return code.text if code.level >= level else f"({code.text})"


@dataclass(frozen=True)
class _Scope:
    """Python names: of arrays and derivative lines by (kind, name), and of dims."""

    names: dict[tuple[str, str], str]
    dims: dict[str, str]

    def array(self, name: str) -> str:
        return self.names[("array", name)]

    def size(self, size: Size) -> str:
        if size.name is not None and size.name in self.dims:
            return self.dims[size.name]
        if size.value is not None:
            return str(size.value)
        raise CodeError(f"the size {size} is not the size of any input")

    def shape(self, indices: Sequence[t.Idx]) -> str:
        sizes = [self.size(i.size) for i in indices]
        return "(" + ", ".join(sizes) + ("," if len(sizes) == 1 else "") + ")"


# ---------------------------------------------------------------------------
# Terms as numpy code, sized by the scope's names


def _code(term: t.Term, scope: _Scope) -> _Code:
    match term:
        case t.Const():
            return _number(term.value)
        case t.SizeOf():
            return _Code(scope.size(term.size), ())
        case t.Zero():
            if not term.free:
                return _Code("0.0", ())
            return _Code(f"np.zeros({scope.shape(term.free)})", t.names(term.free))
        case t.Tensor():
            return _tensor(term, scope)
        case t.Delta():
            return _delta(term, scope)
        case t.Loss():
            # As the verifier reads it: loss(A) = Σ dloss/dA[a] A[a].
            upstream = scope.names[("upstream", f"dloss/d{term.array}")]
            return _Code(f"np.sum({upstream} * {scope.array(term.array)})", ())
        case t.Matrix():
            return _matrix(term, scope)
        case t.Func():
            return _function(term, scope)
        case t.Opaque():
            inner = _code(term.arg, scope)
            function = scope.names[("fn", term.name)]
            return _Code(opaque_code(function, term.order, inner.text), inner.axes)
        case t.IndexedFunc() | t.Compare() | t.Extremum() | t.IndexValue():
            return _code_of_function(term, scope)
        case t.Pow():
            return _power(term, scope)
        case t.Add():
            return _add(term, scope)
        case t.Product():
            return _product(term, t.names(term.free), scope)
        case _:
            assert_never(term)


def _code_of_function(
    term: t.IndexedFunc | t.Compare | t.Extremum | t.IndexValue, scope: _Scope
) -> _Code:
    """softmax and its kin, a comparison, max/min, an index value."""
    match term:
        case t.IndexedFunc() if t.read_at_gather(term):
            return _aligned(_code(t.as_written(term), scope), t.names(term.free))
        case t.IndexedFunc():
            inner = _code(term.arg, scope)
            template = _EXTREME_TEMPLATES.get(term.name, f"_{term.name}({{x}}, axis={{axis}})")
            return _Code(*indexed_code(term, inner.text, inner.axes, template))
        case t.Compare():
            return _pair(f"np.{COMPARE_CODE[term.op]}", term.left, term.right, term, scope, True)
        case t.Extremum():
            return _pair(f"np.{term.name}imum", term.first, term.second, term, scope, False)
        case t.IndexValue():
            n = scope.size(term.index.size)
            return _Code(f"np.arange(1.0, {n} + 1.0)", t.names(term.free))
        case _:
            assert_never(term)


# `max[j]`, `min[j]` and the 1-based first positions `argmax[j]`, `argmin[j]`
# (spec 9.2): numpy's argmax and argmin give the FIRST extreme too.
_EXTREME_TEMPLATES = {
    "max": "np.max({x}, axis={axis})",
    "min": "np.min({x}, axis={axis})",
    "argmax": "(np.argmax({x}, axis={one}) + 1.0)",
    "argmin": "(np.argmin({x}, axis={one}) + 1.0)",
}


def _number(value: float) -> _Code:
    value += 0.0  # -0.0 + 0.0 is 0.0: `-0.0` is never printed
    text = repr(float(value)) if math.isfinite(value) else f'float("{value}")'
    return _Code(text, (), _NEG if value < 0 else _ATOM)


def _picks(indices: tuple[t.Index, ...], free: tuple[str, ...], scope: _Scope) -> list[str]:
    """Each position's 0-based picks, broadcasting over the axes `free`: a range
    for an index, a number for a literal, an integer array's labels less one."""
    found = []
    for index in indices:
        match index:
            case t.Idx():
                code = _Code(f"np.arange({scope.size(index.size)})", (index.name,))
                found.append(_aligned(code, free).text)
            case t.Fixed():
                found.append(str(index.value - 1))
            case t.Gather():
                inner = _tensor(t.Tensor(index.name, index.indices), scope)
                labels = _Code(f"({inner.text} - 1).astype(int)", inner.axes)
                found.append(_aligned(labels, free).text)
            case t.Select():
                chosen = _code(index.choice, scope)
                labels = _Code(f"({chosen.text} - 1).astype(int)", chosen.axes)
                found.append(_aligned(labels, free).text)
            case t.Shift():
                parts = _picks(tuple(p for p, _ in index.parts), free, scope)
                found.append(shifted_code(index, parts, scope.size))
            case _:
                assert_never(index)
    return found


def _matrix(term: t.Matrix, scope: _Scope) -> _Code:
    """`np.linalg.det(X)`, `np.trace(X)`, or `np.linalg.inv(X)` read at its
    indices as an array would be."""
    code = MATRIX_CODE[term.name].format(scope.array(term.array))
    if term.name != "inv":
        return _Code(code, ())
    return _tensor(t.Tensor(term.array, term.indices), scope, code)


def _tensor(term: t.Tensor, scope: _Scope, written: str | None = None) -> _Code:
    """By name (or the code `written`); literal indices pick (1-based in the file),
    a repeated index takes a diagonal, an integer array in a position picks by
    fancy indexing (spec 9.3)."""
    kind = term.kind if term.kind != t.REFERENCE else t.ADJOINT
    name = scope.names[(kind, term.name)] if written is None else written
    if t.picks_entries(term.indices):
        free = t.names(term.free)
        return _Code(f"{name}[{', '.join(_picks(term.indices, free, scope))}]", free)
    if any(isinstance(i, t.Fixed) for i in term.indices):
        picks = ", ".join(str(i.value - 1) if isinstance(i, t.Fixed) else ":" for i in term.indices)
        name = f"{name}[{picks}]"
    axes = [i.name for i in term.indices if isinstance(i, t.Idx)]
    free = t.names(term.free)
    if len(axes) == len(free):
        return _Code(name, free)
    letters = _letters([*axes])
    inner = "".join(letters[n] for n in axes)
    out = "".join(letters[n] for n in free)
    return _Code(f'np.einsum("{inner}->{out}", {name})', free)


def _delta(term: t.Delta, scope: _Scope) -> _Code:
    free = term.free
    if t.picks_entries(term.indices):
        # 1 where every position picks the same entry: `δ[k, y[i]]` one-hot.
        first, *others = _picks(term.indices, t.names(free), scope)
        tests = " & ".join(f"({first} == {other})" for other in others)
        shape = scope.shape(free)
        return _Code(f"np.broadcast_to({tests}, {shape}).astype(float)", t.names(free))
    literals = sorted({i.value for i in term.indices if isinstance(i, t.Fixed)})
    axes = t.names(free)
    if len(literals) > 1:
        return _Code(f"np.zeros({scope.shape(free)})" if free else "0.0", axes)
    if not free:
        return _Code("1.0", ())
    if literals:
        # δ[1, p, q] = e₁[p] e₁[q]: unit vectors, multiplied out; a comparison
        # rather than `np.eye(n)[k]`, so that a literal past n (δ[p, 2 2 2] with
        # p in 1..2) is the zero vector, not an IndexError.
        units = [
            f"(np.arange({scope.size(i.size)}) == {literals[0] - 1}).astype(float)" for i in free
        ]
        return _outer(units, axes)
    n = scope.size(free[0].size)
    if len(free) == 1:  # δ[i, i]
        return _Code(f"np.ones({n})", axes)
    if len(free) == 2:
        return _Code(f"np.eye({n})", axes)
    # δ[i, j, k] = δ[i, j] δ[j, k]
    letters = string.ascii_lowercase[: len(free)]
    pairs = ",".join(letters[k : k + 2] for k in range(len(free) - 1))
    eyes = ", ".join(f"np.eye({n})" for _ in range(len(free) - 1))
    return _Code(f'np.einsum("{pairs}->{letters}", {eyes})', axes)


def _outer(parts: list[str], axes: tuple[str, ...]) -> _Code:
    if len(parts) == 1:
        return _Code(parts[0], axes)
    letters = string.ascii_lowercase[: len(parts)]
    return _Code(f'np.einsum("{",".join(letters)}->{letters}", {", ".join(parts)})', axes)


def _function(term: t.Func, scope: _Scope) -> _Code:
    inner = _code(term.arg, scope)
    if term.name == "sigmoid":
        return _Code(f"1.0 / (1.0 + np.exp(-{_wrap(inner, _POW)}))", inner.axes, _MUL)
    template = _FUNCTIONS.get(term.name, f"np.{term.name}({{}})")
    return _Code(template.format(inner.text), inner.axes)


def _pair(
    function: str, a: t.Term, b: t.Term, whole: t.Term, scope: _Scope, indicator: bool
) -> _Code:
    """`np.greater(a, b) * 1.0` or `np.maximum(a, b)`, both sides on the whole's axes."""
    axes = t.names(whole.free)
    first = _aligned(_code(a, scope), axes).text
    second = _aligned(_code(b, scope), axes).text
    text = f"{function}({first}, {second})"
    if indicator:
        return _Code(f"{text} * 1.0", axes, _MUL)
    return _Code(text, axes)


def _power(term: t.Pow, scope: _Scope) -> _Code:
    axes = t.names(term.free)
    base = _aligned(_code(term.base, scope), axes)
    if isinstance(term.exponent, t.Const) and term.exponent.value == -1.0:
        return _Code(f"1.0 / {_wrap(base, _NEG)}", axes, _MUL)
    exponent = _aligned(_code(term.exponent, scope), axes)
    # `**` binds tighter than a minus on its left and is right-associative.
    return _Code(f"{_wrap(base, _ATOM)} ** {_wrap(exponent, _NEG)}", axes, _POW)


def _aligned(code: _Code, target: tuple[str, ...]) -> _Code:
    """`code` transposed to `target`'s order, with a length-1 axis (`[:, None]`)
    for each axis of `target` it lacks, so that numpy broadcasts it. Axes
    missing before all of its own need nothing: numpy adds those itself."""
    present = tuple(a for a in target if a in code.axes)
    if present != code.axes:
        if len(present) == 2:
            code = _Code(f"{_wrap(code, _ATOM)}.T", present)
        else:
            order = tuple(code.axes.index(a) for a in present)
            code = _Code(f"np.transpose({code.text}, {order})", present)
    if not present:
        return code
    first = target.index(present[0])
    picks = [":" if a in present else "None" for a in target[first:]]
    while picks and picks[-1] == ":":
        picks.pop()
    if not picks:
        return code
    return _Code(f"{_wrap(code, _ATOM)}[{', '.join(picks)}]", present)


def _add(term: t.Add, scope: _Scope) -> _Code:
    axes = t.names(term.free)
    if not term.terms:
        return _code(t.Zero(term.free), scope)
    text = ""
    covered: set[str] = set()
    for position, part in enumerate(term.terms):
        negative, shown = _negative(part)
        code = _aligned(_code(shown, scope), axes)
        covered |= set(code.axes)
        if position == 0:
            text = f"-{_wrap(code, _POW)}" if negative else _wrap(code, _SUM)
        else:
            text += (" - " if negative else " + ") + _wrap(code, _MUL)
    level = _SUM if len(term.terms) > 1 or text.startswith("-") else _ATOM
    if covered != set(axes):
        return _Code(f"np.broadcast_to({text}, {scope.shape(term.free)})", axes)
    return _Code(text, axes, level)


def _negative(term: t.Term) -> tuple[bool, t.Term]:
    """A leading -1 split off, to print `a - b` rather than `a + -1.0 * b`."""
    if (
        isinstance(term, t.Product)
        and len(term.factors) > 1
        and isinstance(term.factors[0], t.Const)
        and term.factors[0].value == -1.0
    ):
        return True, t.Product(term.factors[1:], term.summed)
    return False, term


def _product(term: t.Product, out: tuple[str, ...], scope: _Scope) -> _Code:
    """Scalars in front; then one einsum if the product sums, else broadcasting."""
    codes = [(_code(f, scope), f) for f in term.factors]
    scalars = [c for c, _ in codes if not c.axes]
    arrays = [(c, f) for c, f in codes if c.axes]
    prefix = "".join(f"{_wrap(c, _NEG)} * " for c in scalars)
    if not arrays:
        return _scalar_product(scalars)
    if term.summed or any(len(set(c.axes)) < len(c.axes) for c, _ in arrays):
        return _einsum(prefix, [c for c, _ in arrays], out)
    return _broadcast_product(prefix, arrays, out, scope)


def _scalar_product(scalars: list[_Code]) -> _Code:
    if not scalars:
        return _Code("1.0", ())
    if len(scalars) == 1:
        return scalars[0]
    return _Code(" * ".join(_wrap(c, _NEG) for c in scalars), (), _MUL)


def _broadcast_product(
    prefix: str, arrays: list[tuple[_Code, t.Term]], out: tuple[str, ...], scope: _Scope
) -> _Code:
    parts: list[str] = []
    for code, factor in arrays:
        dividing_by = divisor(factor) if parts or prefix else None
        if dividing_by is not None:
            shown = _aligned(_code(dividing_by, scope), out)
            if not parts:
                # `-0.2 * ` then a divisor first: `-0.2 / P`, not `-0.2 * / P`.
                prefix = prefix.removesuffix(" * ") + " "
            parts.append(f"/ {_wrap(shown, _NEG)}")
        else:
            shown = _aligned(code, out)
            parts.append(("* " if parts else "") + _wrap(shown, _NEG if parts else _MUL))
    text = prefix + " ".join(parts)
    if len(parts) == 1 and not prefix:
        return _Code(text, out, _aligned(arrays[0][0], out).level)
    return _Code(text, out, _MUL)


def _letters(names: list[str]) -> dict[str, str]:
    """An einsum letter per index: the index's own name where all are single
    letters (`"ij,jk->ik"` reads like the formula), else a, b, c, ... in order."""
    unique = list(dict.fromkeys(names))
    if all(len(n) == 1 and n in string.ascii_letters for n in unique):
        return {n: n for n in unique}
    if len(unique) > len(string.ascii_letters):
        raise CodeError(f"a product with {len(unique)} indices; einsum takes at most 52")
    return {n: string.ascii_letters[k] for k, n in enumerate(unique)}


def _einsum(prefix: str, arrays: list[_Code], out: tuple[str, ...]) -> _Code:
    letters = _letters([a for c in arrays for a in c.axes] + list(out))
    inputs = ",".join("".join(letters[a] for a in c.axes) for c in arrays)
    output = "".join(letters[a] for a in out)
    operands = ", ".join(c.text for c in arrays)
    optimize = ", optimize=True" if len(arrays) > 1 else ""
    call = f'np.einsum("{inputs}->{output}", {operands}{optimize})'
    return _Code(prefix + call, out, _MUL if prefix else _ATOM)


def statement(term: t.Term, target: tuple[t.Idx, ...], scope: _Scope) -> str:
    """Code for `term` with axes exactly `target`, in that order, full size."""
    if isinstance(term, t.Add) and len(term.terms) == 1:
        term = term.terms[0]  # a definition as lowered: one term, its own free indices
    axes = t.names(target)
    if isinstance(term, t.Zero):
        return _code(t.Zero(target), scope).text
    if isinstance(term, t.Product) and set(t.names(term.free)) == set(axes):
        return _product(term, axes, scope).text
    code = _aligned(_code(term, scope), axes)
    if set(code.axes) != set(axes):
        return f"np.broadcast_to({code.text}, {scope.shape(target)})"
    return code.text


# ---------------------------------------------------------------------------
# The module


def _q(text: str) -> str:
    """A Python string literal in double quotes (JSON's are valid Python)."""
    return json.dumps(text)


def _identifier(wanted: str, taken: set[str]) -> str:
    name = python_name(wanted)
    while keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in taken:
        name += "_"
    taken.add(name)
    return name


@dataclass(frozen=True)
class _Plan:
    """What the module computes: inputs (file name, python name), dims read from
    them, definitions, and per derivative the adjoint lines it needs first."""

    inputs: tuple[tuple[str, str], ...]
    defaults: tuple[tuple[str, ast.LiteralData], ...]
    dims: tuple[tuple[str, str], ...]  # python name, `X.shape[0]`
    shapes: tuple[tuple[str, str, str], ...]  # key, python name, shape code
    scope: _Scope
    derivatives: tuple[tuple[Derivation, tuple[Adjoint, ...]], ...]
    # Dims passed by name like arrays (sizes as numbers that no shape gives).
    passed_sizes: tuple[str, ...] = ()
    # Computed dims read from a shape: name, variable, numerator, denominator.
    relations: tuple[tuple[str, str, str, int], ...] = ()


def _upstreams(checked: CheckedProgram) -> list[str]:
    names: list[str] = []
    for definition in checked.definitions:
        for node in ast.walk(definition.rhs):
            if isinstance(node, ast.Loss) and node.name not in names:
                names.append(node.name)
    return names


_Input = tuple[str, str, tuple[Size, ...]]  # key, Python name, declared shape


def _inputs_of(
    checked: CheckedProgram, names: dict[tuple[str, str], str], taken: set[str]
) -> list[_Input]:
    """The declared arrays, then the upstream gradient of each `loss(Y)`,
    passed by its Python name (`dloss_dY=...`)."""
    inputs: list[_Input] = []
    for array in checked.arrays:
        if array.is_leaf:
            names[("array", array.name)] = _identifier(array.name, taken)
            inputs.append((array.name, names[("array", array.name)], array.shape))
    for name in _upstreams(checked):
        variable = _identifier(f"dloss/d{name}", taken)
        names[("upstream", f"dloss/d{name}")] = variable
        inputs.append((variable, variable, checked.array(name).shape))
    return inputs


def _dims_of(
    checked: CheckedProgram, inputs: list[_Input], taken: set[str]
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Each dim's Python name and where its value comes from: the first input
    with that dim, else the value the file declares."""
    dims: dict[str, str] = {}
    lines: list[tuple[str, str]] = []
    for _, variable, shape in inputs:
        for axis, size in enumerate(shape):
            if size.name is not None and size.name not in dims:
                dims[size.name] = _identifier(size.name, taken)
                lines.append((dims[size.name], f"{variable}.shape[{axis}]"))
    as_numbers = _sizes_as_numbers(checked)
    for dim in checked.dims:
        if dim.name in dims:
            continue
        if dim.name in as_numbers:
            # A size that no input's shape gives but that stands as a number
            # (`/ c`, spec 9.1) is passed by name, like an array; without it
            # the module uses the number the report used.
            dims[dim.name] = _identifier(dim.name, taken)
            source = (
                f"arrays[{_q(dim.name)}]"
                if dim.value is None
                else (f"arrays.get({_q(dim.name)}, {dim.value})")
            )
            lines.append((dims[dim.name], f"int({source})"))
        elif dim.value is not None:
            computed = _computed_size(dim, dims)
            dims[dim.name] = _identifier(dim.name, taken)
            lines.append((dims[dim.name], computed or str(dim.value)))
    return dims, lines


def _computed_size(dim: Dim, dims: dict[str, str]) -> str | None:
    """`(n - k + 1)` for `dim m = n - k + 1` with n and k read from shapes (an
    exact division by the terms' common denominator), else None (the value)."""
    exact = _size_fraction(dim, dims)
    if exact is None:
        return None
    numerator, denominator = exact
    return numerator if denominator == 1 else f"{numerator} // {denominator}"


def _size_fraction(dim: Dim, dims: dict[str, str]) -> tuple[str, int] | None:
    """A computed dim's polynomial as Python over the other dims' variables:
    the numerator `(n - 2)` and the whole denominator (2), or None."""
    if not dim.computed or dim.poly is None or not dim.poly.terms:
        return None
    names = {name for monomial, _ in dim.poly.terms for name, _ in monomial}
    if not names <= dims.keys():
        return None
    denominator = math.lcm(*(c.denominator for _, c in dim.poly.terms))
    total = ""
    for monomial, coefficient in dim.poly.terms:
        whole = int(coefficient * denominator)
        sign = ("-" if whole < 0 else "") if not total else (" - " if whole < 0 else " + ")
        total += sign + _monomial_code(abs(whole), monomial, dims)
    return f"({total})", denominator


def _size_relations(
    checked: CheckedProgram, dims: dict[str, str], lines: list[tuple[str, str]]
) -> tuple[tuple[str, str, str, int], ...]:
    """The computed dims read from an input's shape, each with the size
    expression it must equal: `_inputs` checks `m * 1 == (n - k + 1)`, so that
    arrays whose shapes break the file's relation are refused, not computed on."""
    from_shapes = {variable for variable, source in lines if ".shape[" in source}
    relations = []
    for dim in checked.dims:
        exact = _size_fraction(dim, dims) if dims.get(dim.name) in from_shapes else None
        if exact is not None:
            relations.append((dim.name, dims[dim.name], *exact))
    return tuple(relations)


def _monomial_code(whole: int, monomial: Monomial, dims: dict[str, str]) -> str:
    """`2 * n * k ** 2`, `n`, `3`: a term of a size's polynomial as Python."""
    factors = [dims[name] + (f" ** {power}" if power > 1 else "") for name, power in monomial]
    if whole != 1 or not factors:
        factors.insert(0, str(whole))
    return " * ".join(factors)


def _passed_sizes(lines: list[tuple[str, str]], dims: dict[str, str]) -> tuple[str, ...]:
    """The dims whose value the module reads from its keyword arguments."""
    passed = {variable for variable, source in lines if source.startswith("int(arrays")}
    return tuple(name for name, variable in dims.items() if variable in passed)


def _sizes_as_numbers(checked: CheckedProgram) -> list[str]:
    """The dims that stand as numbers in some right-hand side, in file order."""
    names: list[str] = []
    for rhs in [d.rhs for d in checked.definitions] + [c.rhs for c in checked.claims]:
        for node in ast.walk(rhs):
            if isinstance(node, ast.SizeRef) and node.name not in names:
                names.append(node.name)
    return names


def _shape_check(scope: _Scope, shape: tuple[Size, ...]) -> str:
    """`(n, d)`; None for a size no input or declaration gives."""
    sizes = []
    for size in shape:
        known = size.value is not None or (size.name is not None and size.name in scope.dims)
        sizes.append(scope.size(size) if known else "None")
    return "(" + ", ".join(sizes) + ("," if len(sizes) == 1 else "") + ")"


def _plan(report: FileReport) -> _Plan:
    checked = report.checked
    assert checked is not None
    taken = set(_RESERVED)
    names: dict[tuple[str, str], str] = {}
    inputs = _inputs_of(checked, names, taken)
    for function in checked.functions:
        names[("fn", function)] = _identifier(function, taken)
    dims, dim_lines = _dims_of(checked, inputs, taken)
    for definition in checked.definitions:
        names[("array", definition.name)] = _identifier(definition.name, taken)
    derivatives = _derivative_lines(report, names, taken)
    scope = _Scope(names, dims)
    shapes = tuple((key, variable, _shape_check(scope, shape)) for key, variable, shape in inputs)
    defaults = tuple((a.name, a.value) for a in checked.arrays if a.is_leaf and a.value is not None)
    keys = tuple((key, variable) for key, variable, _ in inputs)
    return _Plan(
        keys,
        defaults,
        tuple(dim_lines),
        shapes,
        scope,
        derivatives,
        _passed_sizes(dim_lines, dims),
        _size_relations(checked, dims, dim_lines),
    )


def _derivative_lines(
    report: FileReport, names: dict[tuple[str, str], str], taken: set[str]
) -> tuple[tuple[Derivation, tuple[Adjoint, ...]], ...]:
    """Per derivative, the adjoints it needs that no earlier one computed."""
    done: set[str] = set()
    out = []
    for result in report.derivatives:
        needed = [a for a in facts.unique_adjoints((result,)) if a.label not in done]
        for adjoint in needed:
            done.add(adjoint.label)
            names[(t.ADJOINT, adjoint.label)] = _identifier(adjoint.label, taken)
        label = result.derivation.label
        names[("derivative", label)] = _identifier(label, taken)
        out.append((result.derivation, tuple(needed)))
    return tuple(out)


def _literal(data: ast.LiteralData) -> str:
    if isinstance(data, tuple):
        return "[" + ", ".join(_literal(d) for d in data) + "]"
    return repr(float(data))


def _line(variable: str, term: t.Term, target: tuple[t.Idx, ...], scope: _Scope) -> str:
    try:
        return f"    {variable} = {statement(term, target, scope)}"
    except CodeError as error:
        return f"    raise NotImplementedError({_q(f'{variable}: {error}')})"


def _head(report: FileReport, plan: _Plan) -> Iterator[str]:
    name = visible(report.source.name, keep="")
    labels = ", ".join(d.label for d, _ in plan.derivatives) or "none"
    layout = report.checked.layout if report.checked else "numerator"
    yield '"""Forward and backward passes of one .idx file, written by shapecheck.'
    yield ""
    yield "forward(**arrays) computes every definition of the file, in file order;"
    yield "backward(**arrays) every derivative asked for, with the adjoint lines"
    yield "it needs, each with its axes in the signature's order. Arrays are passed"
    yield "by name; sizes are read from their shapes."
    yield '"""'
    yield ""
    yield f"# Generated by shapecheck {__version__} from {name}."
    yield f"# Derivatives ({layout} layout): {labels}."
    yield ""
    yield "import numpy as np"
    yield ""
    keys = [_q(key) for key, _ in plan.inputs] + [_q(name) for name in plan.passed_sizes]
    yield f"INPUTS = ({', '.join(keys)}{',' if len(keys) == 1 else ''})"
    defaults = ", ".join(f"{_q(key)}: {_literal(value)}" for key, value in plan.defaults)
    yield f"# Literal values declared in the file: used when not passed.\nDEFAULTS = {{{defaults}}}"


def _stand_ins(report: FileReport, plan: _Plan) -> Iterator[str]:
    """Each `fn` function as the stand-in the checks used, to be replaced at will."""
    assert report.checked is not None
    if not report.checked.functions:
        return
    from shapecheck.numeric import standins

    seed = report.verification.seed if report.verification is not None else 0
    yield ""
    yield ""
    yield "# The file's `fn` functions, as the seeded stand-ins the checks used"
    yield f"# (seed {seed}): a sin(b x + c) + d x. Replace one with the function you"
    yield "# mean: it is called as f(x, order), order k giving its k-th derivative."
    for function in report.checked.functions:
        a, b, c, d = (repr(float(v)) for v in standins.coefficients(seed, function))
        yield ""
        yield ""
        yield f"def {plan.scope.names[('fn', function)]}(x, order=0):"
        yield f"    return _stand_in(x, order, {a}, {b}, {c}, {d})"


def _inputs_function(plan: _Plan) -> Iterator[str]:
    variables = [v for _, v in plan.inputs] + [d for d, _ in plan.dims]
    yield ""
    yield ""
    yield "def _inputs(arrays):"
    yield '    """The declared arrays by name, and the sizes read from their shapes."""'
    yield "    unknown = sorted(set(arrays) - set(INPUTS))"
    yield "    if unknown:"
    yield '        raise TypeError(f"unknown arrays {unknown}; this file takes {INPUTS}")'
    for key, variable in plan.inputs:
        yield f"    {variable} = _array(arrays, {_q(key)})"
    for variable, source in plan.dims:
        yield f"    {variable} = {source}"
    for key, variable, shape in plan.shapes:
        yield f"    _expect({_q(key)}, {variable}, {shape})"
    for name, variable, numerator, denominator in plan.relations:
        yield f"    _expect_size({_q(name)}, {variable}, {numerator}, {denominator})"
    yield f"    return ({', '.join(variables)}{',' if len(variables) == 1 else ''})"


def _unpack(plan: _Plan) -> str:
    variables = [v for _, v in plan.inputs] + [d for d, _ in plan.dims]
    if not variables:
        return "    _inputs(arrays)"
    return f"    {', '.join(variables)}{',' if len(variables) == 1 else ''} = _inputs(arrays)"


def _forward(report: FileReport, plan: _Plan) -> Iterator[str]:
    checked = report.checked
    assert checked is not None
    yield ""
    yield ""
    yield "def forward(**arrays):"
    yield '    """Every definition, in file order."""'
    yield _unpack(plan)
    for name, (lhs, rhs) in _lowered_definitions(checked):
        yield _line(plan.scope.array(name), rhs, lhs, plan.scope)
    yield from _returned([(d.name, plan.scope.array(d.name)) for d in checked.definitions])


def _lowered_definitions(
    checked: CheckedProgram,
) -> list[tuple[str, tuple[tuple[t.Idx, ...], t.Term]]]:
    """Each definition as terms; where one uses a derivative reference
    (spec 9.6), the derivative stands in it, as the symbolic stage derived it."""
    lowered = [(d.name, lower_definition(d)) for d in checked.definitions]
    if not any(has_reference(rhs) for _, (_, rhs) in lowered):
        return lowered
    deriver = Deriver(checked)
    return [(name, deriver.lowered[name]) for name, _ in lowered]


def _returned(entries: list[tuple[str, str]]) -> Iterator[str]:
    """`return {...}`, an entry a line when there are more than a few."""
    items = [f"{_q(key)}: {variable}" for key, variable in entries]
    if len(items) <= 3:
        yield f"    return {{{', '.join(items)}}}"
        return
    yield "    return {"
    yield from (f"        {item}," for item in items)
    yield "    }"


def _used_definitions(report: FileReport, plan: _Plan) -> list[str]:
    checked = report.checked
    assert checked is not None
    used: set[str] = set()
    for derivation, adjoints in plan.derivatives:
        stack = [derivation.formula, *(a.formula for a in adjoints)]
        while stack:
            node = stack.pop()
            if isinstance(node, t.Tensor) and node.kind == t.ARRAY:
                used.add(node.name)
            elif isinstance(node, t.Matrix):
                used.add(node.array)  # `det(S)` reads the whole of S
            stack.extend(t.children(node))
    return [d.name for d in checked.definitions if d.name in used]


def _backward(report: FileReport, plan: _Plan) -> Iterator[str]:
    yield ""
    yield ""
    yield "def backward(**arrays):"
    yield '    """Every derivative asked for, keyed by label; adjoints on lines of their own."""'
    yield _unpack(plan)
    used = _used_definitions(report, plan)
    if used:
        yield "    values = forward(**arrays)"
        for name in used:
            yield f"    {plan.scope.array(name)} = values[{_q(name)}]"
    scope = plan.scope
    for derivation, adjoints in plan.derivatives:
        for adjoint in adjoints:
            variable = scope.names[(t.ADJOINT, adjoint.label)]
            yield _line(variable, adjoint.formula, adjoint.indices, scope)
        variable = scope.names[("derivative", derivation.label)]
        yield _line(variable, derivation.formula, derivation.signature, scope)
    yield from _returned(
        [(d.label, scope.names[("derivative", d.label)]) for d, _ in plan.derivatives]
    )


_HELPERS = """

def _array(arrays, name):
    if name in arrays:
        return np.asarray(arrays[name], dtype=float)
    if name in DEFAULTS:
        return np.asarray(DEFAULTS[name], dtype=float)
    raise TypeError(f"missing array {name!r}; this file takes {INPUTS}")


def _expect(name, value, shape):
    if len(value.shape) != len(shape) or any(
        want is not None and have != want for have, want in zip(value.shape, shape)
    ):
        raise ValueError(f"{name} has shape {value.shape}, the file needs {shape}")
"""

# Written into a module only where a computed dim is read from a shape.
_SIZE_HELPER = """

def _expect_size(name, value, numerator, denominator):
    if value * denominator != numerator:
        raise ValueError(
            f"{name} is {value} by the shapes, but the file's size expression "
            f"gives {numerator}/{denominator}"
        )
"""


# softmax, logsumexp and norm (spec 9.5), written into a module that uses them.
# The largest entry is subtracted first, so that an argument of 1000 does not
# overflow.
_INDEXED_HELPERS = {
    "_softmax(": """

def _softmax(a, axis):
    e = np.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
""",
    "_logsumexp(": """

def _logsumexp(a, axis):
    m = a.max(axis=axis, keepdims=True)
    return np.log(np.exp(a - m).sum(axis=axis)) + m.squeeze(axis=axis)
""",
    "_norm(": """

def _norm(a, axis):
    return np.sqrt(np.square(a).sum(axis=axis))
""",
}


def module(report: FileReport) -> str:
    """The module for one file without errors."""
    plan = _plan(report)
    lines = [
        *_head(report, plan),
        *_stand_ins(report, plan),
        *_inputs_function(plan),
        *_forward(report, plan),
        *_backward(report, plan),
    ]
    text = "\n".join(lines) + "\n"
    helpers = _SIZE_HELPER if "_expect_size(" in text else ""
    helpers += "".join(code for call, code in _INDEXED_HELPERS.items() if call in text)
    if "_stand_in(" in text:
        from shapecheck.numeric.standins import SOURCE

        helpers += SOURCE
    return text + _HELPERS + helpers


def _refusal(report: FileReport) -> str:
    """A file with errors has no passes: a module that says so when imported."""
    from shapecheck.render.diagnostics import render_plain

    name = visible(report.source.name, keep="")
    lines = [f"# shapecheck {__version__}: {name} has errors; no module."]
    for problem in report.diagnostics:
        lines += ["# " + line for line in render_plain(report.source, problem).splitlines()]
    message = f"{report.source.name} has {report.errors} error(s); see the comments above"
    return "\n".join([*lines, f"raise ImportError({_q(message)})"]) + "\n"


def render(reports: Sequence[FileReport], *, strict: bool = False) -> str:
    """The module for the one file of `derive FILE --emit numpy`."""
    del strict  # warnings do not stop a module from being written
    if len(reports) != 1:
        raise ValueError("--emit numpy writes the module of exactly one file")
    report = reports[0]
    if report.checked is None or report.errors:
        return _refusal(report)
    return module(report)


def render_run(reports: Sequence[FileReport], context: RunContext) -> str:
    """The document of a run (the registry's entry point, render.output)."""
    return render(reports, strict=context.strict)
