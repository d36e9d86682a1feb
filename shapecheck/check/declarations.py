"""Check, declarations: `layout`, `dim`, `input` and `param` (spec section 2).

Before any statement: at most one `layout` per file, and it wins over
`--layout` (E104, W103); where every array name is introduced, so that a use
before its definition is told from an unknown name. Then, line by line: a
size is a whole number in `1..MAX_SIZE` (E105); a shape names dims declared
above (E101, E103); a literal value needs known sizes, fits its shape, and is
positive where the array is declared `positive` (E106). An integer array
(`input y[n] in c`, spec 9.3) is an `input` (E135), not `positive` (E136),
with a range that is a dim or a positive integer, and literal values that are
whole numbers in `1..c` (E137, with a hint where they look 0-based).
"""

from __future__ import annotations

from fractions import Fraction

from shapecheck.check import labels, sizeexpr
from shapecheck.check.program import ArrayInfo, Dim, Size
from shapecheck.check.scope import FileScope, did_you_mean, introduce
from shapecheck.check.sizeexpr import Poly
from shapecheck.diagnostics import Code, Label
from shapecheck.exhaustive import assert_never
from shapecheck.source import Span
from shapecheck.syntax import ast

MAX_SIZE = 2**31 - 1


def survey(file: FileScope, layout_override: str | None) -> None:
    """The file's layout, and where every array name is first introduced."""
    program = file.program
    layouts = [s for s in program.statements if isinstance(s, ast.LayoutStmt)]
    for extra in layouts[1:]:
        file.error(
            Code.E104,
            extra.span,
            "a file has at most one `layout` statement",
            labels=[Label(layouts[0].span, "the first is here")],
        )
    if layouts:
        file.layout = layouts[0].layout
        if layout_override and layout_override != file.layout:
            file.error(
                Code.W103,
                layouts[0].span,
                f"the file says `layout {file.layout}`, which wins over "
                f"`--layout {layout_override}`",
                hints=["the file's claims are written in its own layout"],
            )
    elif layout_override:
        file.layout = layout_override
    file.names.failed.update(program.unparsed_names)
    for statement in program.statements:
        if isinstance(statement, ast.DeclStmt):
            for entry in statement.entries:
                file.names.everywhere.setdefault(entry.name, entry.span)
        elif isinstance(statement, ast.Definition):
            file.names.everywhere.setdefault(statement.name, statement.name_span)
        elif isinstance(statement, ast.FnStmt):
            for function in statement.names:
                file.names.everywhere_functions.setdefault(function.name, function.span)


def check_dim(file: FileScope, statement: ast.DimStmt) -> None:
    """`dim n = 8, d, m = n - d + 1`: each size a whole number in range, none
    (symbolic), or an expression over earlier dims (spec 9.4)."""
    for entry in statement.entries:
        if not introduce(file, entry.name, entry.span, statement):
            continue
        if entry.size is not None:
            dim = _computed_dim(file, entry, statement)
            if dim is not None:
                file.names.dims[entry.name] = dim
            else:
                file.names.failed.add(entry.name)
            continue
        value = _whole_size(file, entry, statement)
        poly = Poly.dim(entry.name) if value is None else None
        file.names.dims[entry.name] = Dim(entry.name, value, entry.span, poly)


def _whole_size(file: FileScope, entry: ast.DimEntry, statement: ast.DimStmt) -> int | None:
    """The value as a size, or None after reporting why it is not one (E105)."""
    value = file.size_overrides.get(entry.name, entry.value)
    if value is None:
        return None
    if not (
        isinstance(value, int)
        or (isinstance(value, float) and value.is_integer() and value < 2**63)
    ):
        file.error(
            Code.E105, entry.span, f"`{entry.name}` = {value} is not a whole number", statement
        )
        return None
    if not 1 <= int(value) <= MAX_SIZE:
        file.error(
            Code.E105,
            entry.span,
            f"`{entry.name}` = {int(value):,} is out of range: sizes run from 1 to {MAX_SIZE:,}",
            statement,
            hints=["leave the size out (`dim n`) to let numeric checks choose one"],
        )
        return None
    return int(value)


def _computed_dim(file: FileScope, entry: ast.DimEntry, statement: ast.DimStmt) -> Dim | None:
    """`m = n - k + 1`: valued at once where every dim it names has a value."""
    assert entry.size is not None
    if entry.name in file.size_overrides:
        file.error(
            Code.E142,
            entry.span,
            f"`--size {entry.name}=...` sets a computed size: `{entry.name} = {entry.size}`",
            statement,
            hints=[
                "`--size` sets the sizes that have no expression; set those it is computed from"
            ],
        )
    try:
        poly = sizeexpr.read(entry.size, lambda node: _dim_poly(file, node, statement))
    except _UnknownDim:
        return None
    except sizeexpr.SizeProblem as problem:
        assert isinstance(problem.span, Span)
        file.error(Code.E141, problem.span, problem.message, statement)
        return None
    written = str(entry.size)
    value = poly.value
    if value is None:
        return Dim(entry.name, None, entry.span, poly, written)
    shown = f"`{entry.name} = {written}` is {_fraction_text(value)}"
    given = [
        f"{node.name} = {file.names.dims[node.name].value}"
        for node in dict.fromkeys(ast.size_names(entry.size))
    ]
    hints = [f"with {', '.join(dict.fromkeys(given))}"] if given else []
    if value.denominator != 1:
        file.error(Code.E105, entry.span, f"{shown}, not a whole number", statement, hints=hints)
        return None
    if not 1 <= value <= MAX_SIZE:
        file.error(
            Code.E105,
            entry.span,
            f"{shown}: sizes run from 1 to {MAX_SIZE:,}",
            statement,
            hints=hints,
        )
        return None
    return Dim(entry.name, int(value), entry.span, None, written)


def _fraction_text(value: Fraction) -> str:
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


class _UnknownDim(Exception):
    """A size expression names something that is not a dim above it (reported)."""


def _dim_poly(file: FileScope, node: ast.SizeDim, statement: ast.Statement) -> Poly:
    dim = file.names.dims.get(node.name)
    if dim is None:
        if node.name not in file.names.failed:
            _unknown_size(file, ast.SizeName(node.name, node.span), statement)
        raise _UnknownDim
    file.names.used.add(node.name)
    if dim.value is not None:
        return Poly.constant(dim.value)
    assert dim.poly is not None
    return dim.poly


def _size(file: FileScope, item: ast.ShapeItem, statement: ast.Statement) -> Size | None:
    match item:
        case ast.SizeLiteral():
            if not 1 <= item.value <= MAX_SIZE:
                file.error(
                    Code.E105,
                    item.span,
                    f"size {item.value} is out of range 1..{MAX_SIZE:,}",
                    statement,
                )
                return None
            return Size(None, item.value)
        case ast.SizeName():
            dim = file.names.dims.get(item.name)
            if dim is None:
                if item.name not in file.names.failed:
                    _unknown_size(file, item, statement)
                return None
            file.names.used.add(item.name)
            return dim.size()
        case _:
            assert_never(item)


def _unknown_size(file: FileScope, item: ast.SizeName, statement: ast.Statement) -> None:
    later = any(
        isinstance(s, ast.DimStmt) and any(e.name == item.name for e in s.entries)
        for s in file.program.statements
    )
    if later:
        file.error(
            Code.E103,
            item.span,
            f"size `{item.name}` is used before its `dim`",
            statement,
            hints=["move the `dim` line above"],
        )
    else:
        file.error(
            Code.E101,
            item.span,
            f"unknown size `{item.name}`",
            statement,
            hints=did_you_mean(item.name, file.names.dims) or [f"declare it: `dim {item.name}`"],
        )


def check_declaration(file: FileScope, statement: ast.DeclStmt) -> None:
    """`input X[n, d]`, `param W[d, h], b[h]`, with optional literal values."""
    for entry in statement.entries:
        if not introduce(file, entry.name, entry.span, statement):
            continue
        shape = [_size(file, item, statement) for item in entry.shape]
        if any(s is None for s in shape):
            file.names.failed.add(entry.name)
            continue
        sizes = tuple(s for s in shape if s is not None)
        classes = _classes(file, entry, statement) if entry.classes is not None else None
        if entry.classes is not None and classes is None:
            file.names.failed.add(entry.name)
            continue
        value = None
        if entry.value is not None:
            value = _literal_value(file, entry, entry.value, sizes, statement)
            if value is not None and classes is not None:
                value = labels.literal_labels(file, entry, value, classes, statement)
            if value is None:
                file.names.failed.add(entry.name)
                continue
        file.names.arrays[entry.name] = ArrayInfo(
            entry.name, statement.kind, sizes, entry.span, entry.positive, value, classes
        )


def _classes(file: FileScope, entry: ast.ArrayDecl, statement: ast.DeclStmt) -> Size | None:
    """The range of an integer array, or None after reporting why it has none."""
    assert entry.classes is not None and entry.classes_span is not None
    if statement.kind != "input":
        file.error(
            Code.E135,
            entry.classes_span,
            f"`in` declares an integer array, which is an `input`, not a `{statement.kind}`",
            statement,
            hints=[
                "labels and token ids are data: nothing differentiates with respect to them",
                f"write `input {entry.name}...`",
            ],
        )
        return None
    if entry.positive:
        file.error(
            Code.E136,
            entry.classes_span,
            f"`{entry.name}` is declared both `in {entry.classes}` and `positive`",
            statement,
            hints=["its values are 1 or more already: leave out `positive`"],
        )
        return None
    return _size(file, entry.classes, statement)


def _literal_value(
    file: FileScope,
    entry: ast.ArrayDecl,
    literal: ast.LiteralValue,
    shape: tuple[Size, ...],
    statement: ast.Statement,
) -> ast.LiteralData | None:
    """The value, or None after reporting why it cannot be this array's."""
    symbolic = next((s for s in shape if s.value is None), None)
    if symbolic is not None:
        file.error(
            Code.E106,
            literal.span,
            f"a literal value needs known sizes, but `{symbolic}` has no value",
            statement,
            hints=[f"give it one: `dim {symbolic} = ...`"],
        )
        return None
    problem = _misfit(literal.data, shape)
    if problem:
        declared = "×".join(str(s.value) for s in shape) or "a scalar"
        file.error(
            Code.E106,
            literal.span,
            f"the value of `{entry.name}` does not fit its shape {declared}: expected {problem}",
            statement,
        )
        return None
    if entry.positive:
        flat = _flatten(literal.data)
        if any(v <= 0 for v in flat):
            file.error(
                Code.E106,
                literal.span,
                f"`{entry.name}` is declared positive, but its value has {min(flat):g}",
                statement,
            )
            return None
    return literal.data


def _misfit(data: ast.LiteralData, sizes: tuple[Size, ...]) -> str | None:
    """What a literal value lacks to fit a shape of known sizes, or None if it fits."""
    if not sizes:
        return None if not isinstance(data, tuple) else "a number"
    if not isinstance(data, tuple):
        return f"a list of {sizes[0].value}"
    if len(data) != sizes[0].value:
        return f"{sizes[0].value} entries, not {len(data)}"
    for item in data:
        problem = _misfit(item, sizes[1:])
        if problem:
            return problem
    return None


def _flatten(data: ast.LiteralData) -> list[float]:
    # Iterative: a literal may nest as deep as the parser allows.
    flat: list[float] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(item)
        else:
            flat.append(item)
    return flat
