"""A pause of the cyclic garbage collector, for any stage that builds acyclic trees.

Parsing, checking, derivation and verification make hundreds of thousands of
small objects that form no cycles (AST nodes, tokens, spans, terms). Each
burst of allocations starts a collection that walks every live object: on a
10,000-line file the collector took ~30% of the front end's time, and a
quarter of a 1,000-step RNN's derivation. Objects without cycles are freed by reference counting
anyway; only the rare cyclic garbage (an exception's traceback) waits for the
collector to resume at the end of the stage.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block, if it was running; restore it after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def collector_paused_for_command() -> Iterator[None]:
    """Pause the cyclic collector for a whole command (`cli.main`); after it,
    the objects the command made count as old instead of being swept at once.

    A collector resumed after a whole run would sweep every object the run
    made (all the modules it loaded) at the first allocation, a pass as long
    as the ones the pause saved; moving them to the oldest generation first
    (`gc.freeze` then `gc.unfreeze`, as documented) leaves them to the next
    full collection, as the pauses of `collector_paused` never need to.
    """
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
