"""Mutations: byte-level ones for the shipped samples, token-level ones for programs.

Byte-level mutations know nothing of the language: bit flips, inserted,
deleted and duplicated bytes, splices of two files, and hostile bytes a file
could carry to a terminal or a parser (NUL, CR-only line ends, ESC sequences,
bidi overrides, invalid UTF-8, very long lines, deep parentheses).
Token-level mutations keep the text mostly well-formed so that the checker,
not only the parser, sees near-valid programs.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

HOSTILE: tuple[bytes, ...] = (
    b"\x00",
    b"\x1b]0;title\x07",
    b"\x1b[2J",
    b"\x1b[31mred\x1b[0m",
    "\u202e".encode(),
    "\u2066x\u2069".encode(),
    b"\xff\xfe",
    b"\xc3(",
    b"\xed\xa0\x80",  # a UTF-8-encoded surrogate: invalid
    b"\r",
    b"\x0b\x0c",
    b"\x7f",
    "\u0085".encode(),  # NEL, a C1 control that some readers treat as a line end
    "\ufeff".encode(),
    "\u2028".encode(),
    "Σ∂δ·×".encode(),
)


def _position(rng: random.Random, data: bytes) -> int:
    return rng.randint(0, len(data))


def _bit_flip(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    at = rng.randrange(len(data))
    return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1 :]


def _insert_byte(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    at = _position(rng, data)
    return data[:at] + bytes([rng.randrange(256)]) + data[at:]


def _delete(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    at = _position(rng, data)
    return data[:at] + data[at + rng.randint(1, 8) :]


def _duplicate(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    at = _position(rng, data)
    piece = data[at : at + rng.randint(1, 40)]
    return data[:at] + piece * rng.randint(2, 4) + data[at:]


def _splice(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    other = rng.choice(corpus)
    return data[: _position(rng, data)] + other[_position(rng, other) :]


def _hostile(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    at = _position(rng, data)
    return data[:at] + rng.choice(HOSTILE) + data[at:]


def _hostile_in_comment(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    """A comment is where hostile bytes can hide and still pass the parser."""
    lines = data.split(b"\n")
    at = rng.randrange(len(lines))
    lines[at] += b"  # " + rng.choice(HOSTILE[:6])
    return b"\n".join(lines)


def _carriage_returns(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    return data.replace(b"\n", rng.choice((b"\r", b"\r\n", b"\n\r")))


def _long_line(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    at = _position(rng, data)
    filler = rng.choice((b"x", b" + a", b"a[i] ", b"#", b" "))
    return data[:at] + filler * rng.choice((500, 5000, 21000)) + data[at:]


def _deep_parens(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    depth = rng.choice((50, 70, 101, 300, 1000))
    body = rng.choice((b"a", b"-a", b"exp(a", b"a^"))
    closing = b")" * (depth if body != b"exp(a" else 2 * depth)
    line = b"y = " + (b"(" + body) * depth + closing
    at = _position(rng, data)
    return data[:at] + b"\n" + line + b"\n" + data[at:]


BYTE_MUTATIONS: tuple[Callable[[random.Random, bytes, list[bytes]], bytes], ...] = (
    _bit_flip,
    _insert_byte,
    _delete,
    _duplicate,
    _splice,
    _hostile,
    _hostile,
    _hostile_in_comment,
    _hostile_in_comment,
    _carriage_returns,
    _long_line,
    _deep_parens,
)


def mutate_bytes(rng: random.Random, data: bytes, corpus: list[bytes]) -> tuple[bytes, str]:
    """One to four byte-level mutations; returns the bytes and their names."""
    names = []
    for _ in range(rng.randint(1, 4)):
        mutation = rng.choice(BYTE_MUTATIONS)
        data = mutation(rng, data, corpus)
        names.append(mutation.__name__.lstrip("_"))
    return data, "+".join(names)


_TOKEN = re.compile(r"\s+|d\w+/d\w+|[A-Za-z_]\w*|\d+(?:\.\d+)?(?:e-?\d+)?|\*\*|.", re.S)
INDEX_LIKE = ("i", "j", "k", "p", "q", "t", "n", "in", "sum", "L", "X0", "1", "0", "5")
REPLACEMENTS = ("(", ")", "[", "]", ",", "=", "+", "-", "^", "/", "derive", "sum", "delta",
                "1e400", "0", "-1", "99", "dL/dL", "loss", "#", "..", "for t in 1..2:")  # fmt: skip


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _solid(parts: list[str]) -> list[int]:
    return [n for n, part in enumerate(parts) if not part.isspace()]


def _token_edit(rng: random.Random, text: str) -> tuple[str, str]:
    parts = tokens(text)
    solid = _solid(parts)
    if not solid:
        return text + rng.choice(REPLACEMENTS), "append"
    at = rng.choice(solid)
    kind = rng.choice(("drop", "duplicate", "swap", "replace", "rename"))
    if kind == "drop":
        parts[at] = ""
    elif kind == "duplicate":
        parts[at] = parts[at] + " " + parts[at]
    elif kind == "swap":
        other = solid[min(solid.index(at) + 1, len(solid) - 1)]
        parts[at], parts[other] = parts[other], parts[at]
    elif kind == "replace":
        parts[at] = rng.choice(REPLACEMENTS)
    else:
        return _rename(rng, parts, at), "rename"
    return "".join(parts), kind


def _rename(rng: random.Random, parts: list[str], at: int) -> str:
    """Rename a name everywhere on its line, or once: both make near-valid text."""
    old, new = parts[at], rng.choice(INDEX_LIKE)
    if rng.random() < 0.5:
        parts[at] = new
        return "".join(parts)
    lines = "".join(parts).split("\n")
    line = rng.randrange(len(lines))
    lines[line] = re.sub(rf"\b{re.escape(old)}\b", new, lines[line])
    return "\n".join(lines)


def _line_edit(rng: random.Random, text: str) -> tuple[str, str]:
    lines = text.split("\n")
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    kind = rng.choice(("swap-lines", "drop-line", "duplicate-line", "indent-line"))
    if kind == "swap-lines":
        lines[a], lines[b] = lines[b], lines[a]
    elif kind == "drop-line":
        del lines[a]
    elif kind == "duplicate-line":
        lines.insert(a, lines[b])
    else:
        lines[a] = "    " + lines[a]
    return "\n".join(lines), kind


def mutate_tokens(rng: random.Random, text: str) -> tuple[str, str]:
    """One to three token- or line-level edits; returns the text and their names."""
    names = []
    for _ in range(rng.randint(1, 3)):
        edit = _line_edit if rng.random() < 0.2 else _token_edit
        text, name = edit(rng, text)
        names.append(name)
    return text, "+".join(names)
