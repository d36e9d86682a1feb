"""How verification runs: BLAS threads chosen for the work.

On a busy two-core machine a multi-threaded BLAS makes the tiny products of
finite differences up to 100× slower (threads spin waiting for cores the
other processes hold). Verification runs with one BLAS thread unless one
perturbed input's arrays are large enough for threads to pay (a product of
1024×1024 matrices) *and* a core is idle to run them: with the machine's load
at or above its cores, even the largest product is slower on two threads
(measured on a shared two-core machine at load 8: 512×1024 by 1024×1024 took
60 ms on one OpenBLAS thread, 95-110 ms on two; the affine dL/dW at n = 512,
d = h = 1024 verified in 2.1 s of wall time on one thread, 3.3 s on two).
threadpoolctl limits the threads of whichever BLAS numpy loaded, and when it
is not installed the BLAS keeps its own setting. The choice is made for
speed (the products of that case came out bit for bit the same on one and two
OpenBLAS threads, though a BLAS does not promise it; the threaded path itself
is not new).

The cyclic garbage collector is paused while verification runs, by
`shapecheck.collector` (after deriving an RNN unrolled 1000 steps its
collections took half of verification's time).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

# Bytes of one perturbed input's arrays from which threads pay for themselves:
# about one 1024×1024 float64 matrix.
THREADED_FROM_BYTES = 8 * 2**20


@contextlib.contextmanager
def blas_threads(work_bytes: int) -> Iterator[None]:
    """One BLAS thread inside the block when the arrays are small, or when no
    core is idle to run a second thread."""
    if work_bytes >= THREADED_FROM_BYTES and _a_core_is_idle():
        yield
        return
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:  # an optional speed-up, never a requirement
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _a_core_is_idle() -> bool:
    """Whether the last minute's load leaves a core free besides this process's
    own (the load counts it). Where the load is not known, assume so."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average (Windows)
        return True
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return load + 1 <= (cores or 1)
