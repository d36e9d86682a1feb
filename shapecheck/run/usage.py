"""The one exception of the run stage: a problem with the command itself.

Raised for a path that names nothing, a folder without `.idx` files, a file
that cannot be read or `--at` values that do not fit; `cli` turns it into
exit status 2 and a one-line message.
"""

from __future__ import annotations


class UsageProblem(Exception):
    """A problem with the command itself (exit status 2)."""
