"""Source text and positions: the one place that turns offsets into lines and columns.

Every AST node and diagnostic carries a `Span` of character offsets into the
file's text; only renderers ask a `Source` for line numbers, columns and
snippets, so no stage before them needs to think about lines.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use, their other methods on first call (deferred.py)
    from shapecheck.deferred import dataclass

# `\r\n`, `\n` and a lone `\r` (old Mac files) all end a line, as in syntax/lines.py.
_LINE_END = re.compile(r"\r\n?|\n")


@dataclass(frozen=True, order=True)
class Span:
    """Half-open range [start, end) of character offsets into a source text."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad span {self.start}..{self.end}")

    def cover(self, other: Span) -> Span:
        """The smallest span holding both."""
        return Span(min(self.start, other.start), max(self.end, other.end))

    def shifted(self, offset: int) -> Span:
        return Span(self.start + offset, self.end + offset)


@dataclass(frozen=True)
class Source:
    """A file's name and decoded text, with a line index built once."""

    name: str
    text: str
    _line_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = [0]
        starts.extend(end.end() for end in _LINE_END.finditer(self.text))
        object.__setattr__(self, "_line_starts", tuple(starts))

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of an offset; columns count code points."""
        offset = max(0, min(offset, len(self.text)))
        line_index = bisect.bisect_right(self._line_starts, offset) - 1
        return line_index + 1, offset - self._line_starts[line_index] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break."""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] if line < len(self._line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def line_start(self, line: int) -> int:
        return self._line_starts[line - 1]
