"""Numbers for opaque functions: the seeded smooth stand-in of each `fn` (spec 9.5).

An identity written with `fn f` holds for every smooth f, so numeric checks
may test it with any one. Each `fn f` is replaced by

    f(x) = a sin(b x + c) + d x

with a, b in [0.5, 1.5], c in [0, 2π) and d in [-1, 1] drawn by `values.py`
from the run's seed and the name (the stream of `fn f`, as every array has
its own), so one seed gives the same stand-in on every machine and under any
hash seed, and two functions differ. It is finite everywhere with exact
derivatives of every order, `f^(k)(x) = a b^k sin(b x + c + kπ/2)` (plus d
for k = 1), which is what `f'(...)`, `f''(...)` evaluate to. The same
formula is printed in the numpy lines (`codegen.py`) and in the module of
`derive --emit numpy`.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np

Array = Any

# The coefficients a, b, c, d of a stand-in, in this order, as drawn.
COEFFICIENTS = 4


def key(name: str) -> str:
    """The name the coefficients of `fn name` go under among the values (no
    array can be named so: names have no spaces)."""
    return f"fn {name}"


def coefficients(seed: int, name: str) -> Array:
    """a, b, c, d of `fn name` for `seed`: from the stream of `fn name`, seeded
    as `values.py` seeds each array's, `[seed, crc32(b"fn name")]`."""
    stream = np.random.default_rng([seed, zlib.crc32(key(name).encode("utf-8"))])
    low = np.array([0.5, 0.5, 0.0, -1.0])
    high = np.array([1.5, 1.5, 2.0 * math.pi, 1.0])
    return low + (high - low) * stream.random(COEFFICIENTS)


# The same stand-in as Python source, for the module of `--emit numpy`.
SOURCE = """

def _stand_in(x, order, a, b, c, d):
    value = a * b**order * np.sin(b * x + (c + order * np.pi / 2))
    if order == 0:
        return value + d * x
    return value + d if order == 1 else value
"""


def apply(coefficients: Array, order: int, x: Array) -> Array:
    """The stand-in's derivative of order `order` (0: its value) at `x`, entry by entry."""
    a, b, c, d = (float(v) for v in coefficients)
    with np.errstate(all="ignore"):
        value = a * b**order * np.sin(b * x + (c + order * math.pi / 2))
    if order == 0:
        return value + d * x
    if order == 1:
        return value + d
    return value
