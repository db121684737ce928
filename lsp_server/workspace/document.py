"""Open documents: text, version, and LSP positions in any negotiated encoding.

Positions on the wire count UTF-16 code units by default (or UTF-8 bytes / code
points when negotiated); Python strings count code points. Every conversion happens
here, so nothing else indexes a string by wire units by accident.

Out-of-range input follows one documented rule, *clamp*, and is never dropped:
- a line past the end of the document means the end of the document;
- a character past the end of its line means the end of the line (LSP spec);
- a character inside a surrogate pair / UTF-8 sequence rounds down to the code point;
- a reversed range (end before start) is treated as the range between the two.
Each clamp is reported (`EditOutcome.clamped`) so the server can log it.
"""

from __future__ import annotations

import copy
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from enum import StrEnum
from typing import AnyStr

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class PositionEncoding(StrEnum):
    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"


@dataclass(frozen=True)
class Pos:
    line: int
    character: int


@dataclass(frozen=True)
class Change:
    """One `TextDocumentContentChangeEvent`: a range edit, or the whole text when
    `start` is None."""

    text: str
    start: Pos | None = None
    end: Pos | None = None


@dataclass(frozen=True)
class EditOutcome:
    clamped: tuple[str, ...] = ()


def _units(char: str, encoding: PositionEncoding) -> int:
    code = ord(char)
    if encoding is PositionEncoding.UTF16:
        return 2 if code > 0xFFFF else 1
    if encoding is PositionEncoding.UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 1


def units_in(text: str, encoding: PositionEncoding) -> int:
    """Length of `text` in wire units."""
    if encoding is PositionEncoding.UTF32:
        return len(text)
    if encoding is PositionEncoding.UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def line_starts(text: str) -> list[int]:
    """Code-point offset where each line begins (`\\n`, `\\r\\n` and `\\r` all break)."""
    return [0, *(match.end() for match in _LINE_BREAK.finditer(text))]


def _restarted(starts: list[int], text: str, start: int, end: int, inserted: int) -> list[int]:
    """`line_starts(text)` after `text[start:end]` was replaced by `inserted` characters,
    from the starts before: only the lines around the edit are scanned again (from the
    line before it, as a `\r` there may now pair with an inserted `\n`), the rest are
    shifted. A keystroke costs no scan of the whole document."""
    delta = inserted - (end - start)
    low = max(0, bisect_right(starts, start) - 2)
    high = bisect_right(starts, end + 1)  # the first line starting after the edit's end
    last = high == len(starts)
    scan_to = len(text) if last else starts[high] + delta
    middle = [
        match.end()
        for match in _LINE_BREAK.finditer(text, starts[low], scan_to)
        if last or match.end() < scan_to  # (that line's start is kept below)
    ]
    return [*starts[: low + 1], *middle, *(at + delta for at in starts[high:])]


def _line_end(text: str, starts: list[int], line: int) -> int:
    """Offset of the end of `line`'s content, before its line break."""
    if line + 1 < len(starts):
        end = starts[line + 1]
        if text[end - 2 : end] == "\r\n":
            return end - 2
        return end - 1
    return len(text)


@dataclass
class TextDocument:
    uri: str
    text: str
    version: int
    language_id: str = ""
    encoding: PositionEncoding = PositionEncoding.UTF16
    _starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._starts = line_starts(self.text)

    def copy(self) -> TextDocument:
        """A copy later edits leave alone, in O(1): `apply` rebinds `text` and the line
        starts, it never changes them in place."""
        return copy.copy(self)

    # -- positions ---------------------------------------------------------------

    def offset_at(self, pos: Pos, clamped: list[str] | None = None) -> int:
        """Code-point offset of a wire position, clamped as the module doc says."""
        notes = clamped if clamped is not None else []
        if pos.line < 0 or pos.character < 0:
            notes.append(f"negative position {pos.line}:{pos.character}")
            pos = Pos(max(pos.line, 0), max(pos.character, 0))
        if pos.line >= len(self._starts):
            notes.append(f"line {pos.line} past the end ({len(self._starts)} lines)")
            return len(self.text)
        start = self._starts[pos.line]
        end = _line_end(self.text, self._starts, pos.line)
        # One unit per code point (utf-32, or an ASCII line in any encoding): no walk.
        if self.encoding is PositionEncoding.UTF32 or self.text[start:end].isascii():
            if pos.character > end - start:
                notes.append(f"character {pos.character} past the end of line {pos.line}")
            return min(start + pos.character, end)
        remaining = pos.character
        offset = start
        while offset < end and remaining > 0:
            width = _units(self.text[offset], self.encoding)
            if width > remaining:
                notes.append(f"character {pos.character} splits a code point on line {pos.line}")
                return offset
            remaining -= width
            offset += 1
        if remaining > 0:
            notes.append(f"character {pos.character} past the end of line {pos.line}")
        return offset

    def position_at(self, offset: int) -> Pos:
        """Wire position of a code-point offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        return Pos(line, units_in(self.text[start:offset], self.encoding))

    # -- edits -------------------------------------------------------------------

    def apply(self, changes: list[Change], version: int) -> EditOutcome:
        """Apply content changes in order (LSP requires it) and take `version`."""
        notes: list[str] = []
        for change in changes:
            if change.start is None or change.end is None:
                self.text = change.text
            else:
                start = self.offset_at(change.start, notes)
                end = self.offset_at(change.end, notes)
                if end < start:
                    notes.append(f"reversed range {change.start}..{change.end}")
                    start, end = end, start
                self.text = self.text[:start] + change.text + self.text[end:]
                self._starts = _restarted(self._starts, self.text, start, end, len(change.text))
                continue
            self._starts = line_starts(self.text)
        self.version = version
        return EditOutcome(tuple(notes))


def common_prefix_length(a: AnyStr, b: AnyStr) -> int:
    """Length of the common prefix of two texts (or byte strings), by bisection over
    C-speed slice compares: cheap per keystroke even on long files."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low
