"""The reports every CI format (JUnit, SARIF, Code Quality, GitHub, JSON Lines,
Gradescope) is tested on: each shipped sample, each mistake, and hostile
input (controls, bidi overrides and undecodable bytes in messages and file
names), so that each format's consumer or schema sees all of them."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from support import SAMPLES

from shapecheck import analyze_text
from shapecheck.pipeline import FileReport, Options, analyze_bytes, analyze_path

DATA = Path(__file__).resolve().parent / "data"
SAMPLE_PATHS = (
    sorted(SAMPLES.glob("*.idx"))
    + sorted((SAMPLES / "mistakes").glob("*.idx"))
    + sorted((SAMPLES / "course").glob("*.idx"))
)
EVERY_C0 = "".join(chr(c) for c in range(0x20)) + "\x7f"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
HOSTILE = EVERY_C0 + "\x1b[2J\x9b\ufffe\uffff" + BIDI + "\u2028%,:](1)"
# Every character a log, a terminal, a viewer or an XML parser could take for more than text.
UNSAFE = [
    *EVERY_C0.replace("\n", "").replace("\t", ""),
    *(chr(c) for c in range(0x80, 0xA0)),
    *BIDI,
]
TWO_CLAIMS = """\
dim n = 6, d = 4
input X[n, d]
param W[d, d], b[d]
Y[i, k] = X[i, j] W[j, k] + b[k]
L = Y[i, k] Y[i, k]
dL/dW[j, k] = 2 X[i, k] Y[i, j]
dL/db[k] = 2 Y[i, k]
"""


@cache
def sample(path: Path) -> FileReport:
    return analyze_path(path, Options())


@cache
def hostile_reports() -> tuple[FileReport, ...]:
    wrong_claim = (SAMPLES / "mistakes" / "transposed_claim.idx").read_text()
    mismatch = (SAMPLES / "mistakes" / "size_mismatch.idx").read_text()
    return (
        # Controls in a comment and unexpected characters quoted in E002 messages.
        analyze_text(f"all{HOSTILE}.idx", f"param a  # {HOSTILE}\ny = a \x1b\u202e b\n", Options()),
        # A wrong claim, labels (E201) and a warning (W101) in files with hostile names.
        analyze_text(f"claim{BIDI}\x1b.idx", wrong_claim, Options()),
        analyze_text("dir/a,b:c%d\r.idx", mismatch, Options()),
        analyze_text("unused.idx", "param a, z\ny = a a\n", Options()),
        # Names Python carries with surrogates: an undecodable byte, a lone surrogate.
        analyze_text(os.fsdecode(b"bad-\xff.idx"), "param a\ny = b\n", Options()),
        analyze_text("lone-\ud800.idx", "param a\ny = b\n", Options()),
        # No text: a binary file (a position, no span) and an empty one (the whole file).
        analyze_bytes("binary.idx", b"dim n\n\x00", Options()),
        analyze_bytes("empty.idx", b"", Options()),
        analyze_bytes("latin1.idx", b"dim n\nparam x\xff[n]\n", Options()),
    )


def every_report() -> list[FileReport]:
    return [*(sample(p) for p in SAMPLE_PATHS), *hostile_reports()]


def assert_inert(text: str) -> None:
    """No raw control, bidi override or lone surrogate (newlines are layout)."""
    for char in UNSAFE:
        assert char not in text, f"{char!r} reached the output"
    text.encode("utf-8")  # no lone surrogate
