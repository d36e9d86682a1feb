"""Check, integer arrays: labels and token ids (spec 9.3).

`input y[n] in c` declares integers in `1..c`. Here: literal labels are whole
numbers in range (E137, with a hint where they look 0-based; along a dim
without a value the largest is recorded as a `SizeNeed`, so that the size
numeric checks choose holds it); an array standing in an index position
(`P[i, y[i]]`) is an integer array (E236) whose range is the size of the
position (E235, rule 1 for gathers); an integer array is never a derivative
target (E139).
"""

from __future__ import annotations

from shapecheck.check.program import ArrayInfo, Size, SizeNeed
from shapecheck.check.scope import FileScope, StatementScope
from shapecheck.diagnostics import Code, Label
from shapecheck.source import Span
from shapecheck.syntax import ast


def _flat_with_positions(data: ast.LiteralData) -> list[tuple[tuple[int, ...], float]]:
    """Every number of a literal with its 1-based position, in row-major order."""
    found: list[tuple[tuple[int, ...], float]] = []
    stack: list[tuple[tuple[int, ...], ast.LiteralData]] = [((), data)]
    while stack:
        at, item = stack.pop()
        if isinstance(item, tuple):
            stack.extend(((*at, k + 1), x) for k, x in reversed(list(enumerate(item))))
        else:
            found.append((at, item))
    return found


def looks_zero_based(values: list[float], classes: int | None) -> bool:
    """Values that hold a 0 and would all lie in range shifted by one."""
    return 0 in values and all(v >= 0 and (classes is None or v < classes) for v in values)


def entry_text(name: str, at: tuple[int, ...]) -> str:
    return name + ("[" + ", ".join(str(k) for k in at) + "]" if at else "")


def literal_labels(
    file: FileScope,
    entry: ast.ArrayDecl,
    data: ast.LiteralData,
    classes: Size,
    statement: ast.DeclStmt,
) -> ast.LiteralData | None:
    """The literal labels, or None after reporting the first entry out of range."""
    assert entry.value is not None
    flat = _flat_with_positions(data)
    values = [v for _, v in flat]
    bad = next(
        (
            (at, v)
            for at, v in flat
            if not float(v).is_integer()
            or v < 1
            or (classes.value is not None and v > classes.value)
        ),
        None,
    )
    if bad is None:
        if classes.value is None and flat:
            assert classes.name is not None
            file.size_needs.append(
                SizeNeed(classes.name, int(max(values)), entry.value.span, "array")
            )
        return data
    at, value = bad
    whole = float(value).is_integer()
    shown = int(value) if whole else value
    outside = f"is outside 1..{classes.describe()}" if whole else "is not a whole number"
    hints = [f"the values of `{entry.name}` are whole numbers from 1 to {classes}"]
    if looks_zero_based(values, classes.value):
        hints.insert(0, "these look 0-based: labels are 1-based, as in the notes; add 1 to each")
    file.error(
        Code.E137,
        entry.value.span,
        f"{entry_text(entry.name, at)} = {shown} {outside}",
        statement,
        hints=hints,
    )
    return None


def visit_gather(
    scope: StatementScope, gather: ast.IndexGather, size: Size | None, place: str
) -> ArrayInfo | None:
    """An array standing in an index position: an integer array whose range is
    the position's size (`size`; None in a delta, which the gather sizes)."""
    info = scope.lookup(gather.name, gather.span)
    if info is None:
        return None
    if info.classes is None:
        scope.error(
            Code.E236,
            gather.span,
            f"`{gather.name}` stands in an index position, but it is not an integer array",
            labels=[Label(info.span, f"`{gather.name}` is declared here")],
            hints=[
                "an array that picks positions is declared with its range: "
                f"`input {gather.name}[...] in c`"
            ],
        )
        return None
    if size is not None and not info.classes.same_as(size):
        scope.error(
            Code.E235,
            gather.span,
            f"`{gather.name}` takes values in 1..{info.classes.describe()}, "
            f"but {place} runs over 1..{size.describe()}",
            labels=[Label(info.span, f"`{gather.name}` is declared `in {info.classes}` here")],
            hints=[f"{place} must have the size named after `in`"],
        )
    return info


def check_target(file: FileScope, name: str, span: Span | None, what: str) -> bool:
    """Whether `name` may be differentiated with respect to (not an integer array)."""
    info = file.names.arrays.get(name)
    if info is None or info.classes is None:
        return True
    file.error(
        Code.E139,
        span,
        f"{what} is with respect to `{name}`, an integer array",
        labels=[Label(info.span, f"`{name}` is declared `in {info.classes}` here")],
        hints=[
            "labels and token ids are constants to every derivative; "
            "differentiate with respect to the array they index"
        ],
    )
    return False
