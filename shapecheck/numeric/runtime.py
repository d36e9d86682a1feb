"""How verification runs: BLAS threads chosen for the work.

On a busy two-core machine a multi-threaded BLAS makes the tiny products of
finite differences up to 100× slower (threads spin waiting for cores the
other processes hold). Verification runs with one BLAS thread unless one
perturbed input's arrays are large enough for threads to pay (a product of
1024×1024 matrices); threadpoolctl limits the threads of whichever BLAS numpy
loaded, and when it is not installed the BLAS keeps its own setting.

The cyclic garbage collector is paused while verification runs, by
`shapecheck.collector` (after deriving an RNN unrolled 1000 steps its
collections took half of verification's time).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

# Bytes of one perturbed input's arrays from which threads pay for themselves:
# about one 1024×1024 float64 matrix.
THREADED_FROM_BYTES = 8 * 2**20


@contextlib.contextmanager
def blas_threads(work_bytes: int) -> Iterator[None]:
    """One BLAS thread inside the block when the arrays are small."""
    if work_bytes >= THREADED_FROM_BYTES:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:  # an optional speed-up, never a requirement
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
