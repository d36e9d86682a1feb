"""The one escaping layer between user text and a terminal, a CI log or an XML file.

Everything a renderer prints that came from the user (source lines, file
names, messages quoting names) passes through `visible` first, so that a
comment cannot retitle the terminal, clear the screen or reorder a line with
bidi overrides (Trojan Source). Escapes are visible, never silent deletions:

- C0 controls and DEL become the Unicode Control Pictures (`␛` for ESC, as
  ruff prints it): one column each, so carets under a snippet stay put;
- C1 controls become `\\x9b`, bidi overrides `\\u202e`, lone surrogates (from
  undecodable file names) `\\xff` for a byte Python smuggled in with
  `surrogateescape` and `\\udc80`-style otherwise. These are wider than one
  column: `visible_with_columns` tells a snippet where each character went.

XML 1.0 forbids U+FFFE and U+FFFF too, even as character references:
`xml_text` escapes those on top of `visible`.
"""

from __future__ import annotations

import functools
import re

_C0_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}
_C0_PICTURES[0x7F] = "\u2421"  # ␡
_BIDI = "\u202a-\u202e\u2066-\u2069"


# Compiled on first use, and only for text that is not printable: compiling
# the two at import took 3 ms of every run (their ranges reach past U+00FF).
@functools.cache
def _unsafe() -> re.Pattern[str]:
    """What a terminal would act on or reorder; tab and newline are decided per call."""
    return re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")


@functools.cache
def _xml_unsafe() -> re.Pattern[str]:
    return re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff\ufffe\uffff]")


def _safe(text: str) -> bool:
    # Every character `_unsafe` matches is a control (Cc), a format character
    # (Cf: the bidi overrides) or a surrogate (Cs), none of them printable, so
    # printable text needs no regex; the rest (tabs, newlines) is searched.
    return text.isprintable() or not _unsafe().search(text)


def _escape_char(char: str) -> str:
    code = ord(char)
    if code in _C0_PICTURES:
        return _C0_PICTURES[code]
    if 0x80 <= code <= 0x9F:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:
        # A byte that was not UTF-8, carried in a file name by surrogateescape.
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def _replace(match: re.Match[str], keep: str) -> str:
    char = match.group()
    return char if char in keep else _escape_char(char)


def visible(text: str, keep: str = "\t") -> str:
    """`text` with every control, bidi override and lone surrogate made visible,
    except the characters in `keep` (tab by default; pass "\\t\\n" where a
    newline is part of the layout)."""
    if _safe(text):
        return text
    return _unsafe().sub(lambda match: _replace(match, keep), text)


@functools.lru_cache(maxsize=8)
def visible_with_columns(text: str) -> tuple[str, tuple[int, ...]]:
    """`visible(text)` with tab shown as a space, and for each character of
    `text` (and its end) the 0-based column where it lands, so that carets
    under a snippet point at the same characters after escaping.

    Cached: a long line with many diagnostics is shown once for each of them,
    and escaping it anew every time made the text report quadratic in the
    line's length (a fuzzed 8,000-character line with 1,600 errors took 20 s)."""
    if _safe(text):
        # Nothing widens (a tab is unsafe too): every character keeps its column.
        return text, tuple(range(len(text) + 1))
    shown: list[str] = []
    columns: list[int] = []
    column = 0
    for char in text:
        columns.append(column)
        piece = " " if char == "\t" else visible(char, keep="")
        shown.append(piece)
        column += len(piece)
    columns.append(column)
    return "".join(shown), tuple(columns)


def xml_text(text: str, keep: str = "\t\n") -> str:
    """`visible` for XML 1.0: also escapes U+FFFE and U+FFFF, which XML forbids
    even as character references; carriage returns become visible too."""
    if (text.isprintable() or not _xml_unsafe().search(text)) and "\r" not in text:
        return text
    return visible(text, keep).replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")
