"""`assert_never` for the one dispatch mechanism over node kinds (any stage).

Every `match` over a closed union of AST or term nodes ends in
`case _: assert_never(node)`, so that mypy names each place a new node kind
must be handled. `typing.assert_never` exists only from Python 3.11; this is
the same function for 3.10.
"""

from __future__ import annotations

from typing import NoReturn


def assert_never(value: NoReturn) -> NoReturn:
    """Mypy rejects a call reached by any value; at run time it is a bug."""
    raise AssertionError(f"unhandled node kind: {type(value).__name__}")
