"""Check, reductions of spec 9.2: `argmax[j](e)` and `argmin[j](e)` standing
in an array position.

A selection is an integer in `1..size of j`; like an integer array (spec 9.3,
`labels.py`) it may pick a position only of that size (E239). Its index's size
is known once the statement's sizes are resolved (`sizes.resolve_sizes`), so
the check runs after that. The brackets and scoping of `max[j]`, `min[j]`,
`argmax[j]` and `argmin[j]` are checked with the other reductions'
(`functions.py`, `summation.py`).
"""

from __future__ import annotations

from shapecheck.check.program import Size
from shapecheck.check.scope import StatementScope
from shapecheck.diagnostics import Code, Label


def check_selections(scope: StatementScope, resolved: dict[str, Size]) -> None:
    """E239: `argmax[j](e)` in a position whose size is not j's."""
    for select, size, place in scope.selections:
        own = select.call.indices[0]
        found = resolved.get(own.name)
        if found is None or found.same_as(size):
            continue
        scope.error(
            Code.E239,
            select.span,
            f"`{select.call.func}[{own.name}](...)` takes values in 1..{found.describe()}, "
            f"but {place} runs over 1..{size.describe()}",
            labels=[Label(own.span, f"`{own.name}` is {found.describe()} here")],
            hints=[f"{place} must have the size of `{own.name}`"],
        )
