"""A pause of the cyclic garbage collector, for any stage that builds acyclic trees.

Parsing, checking, derivation and verification make hundreds of thousands of
small objects that form no cycles (AST nodes, tokens, spans, terms). Each
burst of allocations starts a collection that walks every live object: on a
10,000-line file the collector took ~30% of the front end's time, and a
quarter of a 1,000-step RNN's derivation. Objects without cycles are freed by reference counting
anyway; only the rare cyclic garbage (an exception's traceback, a recursive
local function) waits for a later full collection.

A collector resumed with a plain `gc.enable()` would sweep every object the
pause made at the first allocation after it, a pass as long as the ones the
pause saved (10-20% of the front end on a 10,000-line file, after the parse
and again after the check): so each pause first moves those objects to the
oldest generation (`gc.freeze` then `gc.unfreeze`, as documented), leaving
them to the next full collection.

At the end of a command the interpreter's own teardown runs full collections
over every object left (a sixth of the CPU time of `check` on a small file):
the command's entry point has it skip them (`collections_skipped_at_exit`).
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block, if it was running; restore it
    after, the objects the block made counting as old."""
    was_enabled = gc.isenabled()
    # Objects a caller froze itself (before a fork) must stay frozen.
    none_frozen = gc.get_freeze_count() == 0
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if none_frozen:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


# A whole command (`cli.main`) is paused the same way as one stage.
collector_paused_for_command = collector_paused


def collections_skipped_at_exit() -> None:
    """Freeze every object when the interpreter exits, once its exit handlers
    registered before this call are the only ones left to run.

    The teardown's collections walk every live object (the modules a run
    loaded, mostly) to find cycles that are about to vanish with the process
    anyway; frozen objects are never walked. Files are closed by their `with`
    blocks and standard output is flushed by the interpreter whatever the
    collector does, so nothing written is lost. For an entry point that ends
    the process only: in a process that goes on, the frozen objects could
    never be collected; registered once however often it is called.
    """
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
