"""From the model's rewritten window to the smallest edits of the document (pure).

The answer is the window as the model thinks it should be. It is compared with the
window the prompt showed, line by line and then word by word inside each changed line,
so a rename that touches three places on two lines becomes three edits, each covering
only the old name. What is left out:

- an answer cut short by the token limit (the rest of the window would be deleted)
  unless it went on past the window with the document's next lines (then it is cut
  there), or one that does not look like the window at all (less than half kept);
- a no-op (the same text again);
- an edit that touches what the user is typing: the place of their latest change in
  this document, and the word at the cursor. Text inserted right at the cursor stays:
  that is a completion, offered as one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from lsp_server.nextedit.formats import NextEditFormat

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
_WORD = re.compile(r"\w")
MIN_KEPT_SHARE = 0.5
OVERRUN_ANCHOR_LINES = 3  # the document's lines after the window looked at for an overrun
OVERRUN_ANCHOR_CHARS = 6  # a shorter line (`}`, `end`) marks nothing


@dataclass(frozen=True)
class TextEdit:
    start: int  # code-point offsets in the document
    end: int
    text: str


def parse_answer(
    fmt: NextEditFormat,
    raw: str,
    ran_out: bool,
    following: Sequence[str] = (),
    window_lines: int = 0,
) -> str | None:
    """The rewritten window in `raw` (what the model wrote), or None when it is unusable.

    A model that does not end the window where its format says (a general model that
    copies on, or one that ran out of tokens) often goes on with the line that follows
    the window in the document (`following`, the document's next lines): the answer is
    cut where that line begins, searched from half the window's `window_lines` on."""
    text = raw
    if fmt.answer_start:
        at = text.find(fmt.answer_start)
        if at >= 0:
            text = text[at + len(fmt.answer_start) :]
        elif fmt.answer_start.strip() in text:
            text = text.split(fmt.answer_start.strip(), 1)[1].lstrip("\n")
    for stop in (*fmt.stop, fmt.answer_end):
        if stop and stop in text:
            text = text[: text.index(stop)]
    if fmt.cursor_marker:
        text = text.replace(fmt.cursor_marker, "")
    if ran_out:
        cut = _overrun_cut(text, following, window_lines)
        if cut is None:
            return None
        text = cut
    return text[:-1] if text.endswith("\n") else text


def _overrun_cut(text: str, following: Sequence[str], window_lines: int) -> str | None:
    """`text` up to the line where it writes the document's first non-blank line after
    the window (when that line says something: `OVERRUN_ANCHOR_CHARS`), blank lines
    before it included in the cut; None when it never does."""
    blank = 0
    while blank < len(following) and not following[blank].strip():
        blank += 1
    if blank == len(following) or len(following[blank].strip()) < OVERRUN_ANCHOR_CHARS:
        return None
    anchor = following[blank].rstrip()
    lines = text.split("\n")
    for at in range(max(1, window_lines // 2), len(lines)):
        if lines[at].rstrip() == anchor:
            return "\n".join(lines[: at - blank])
    return None


def window_edits(window_start: int, old: str, new: str) -> list[TextEdit]:
    """The smallest edits that turn `old` (at `window_start`) into `new`. Blank lines
    that end the window are kept as they are (models drop or add them freely)."""
    new = new.rstrip("\n") + old[len(old.rstrip("\n")) :]
    if old == new:
        return []
    if len(old) > 40 and SequenceMatcher(None, old, new, autojunk=False).ratio() < MIN_KEPT_SHARE:
        return []  # not a rewrite of this window: something else entirely
    old_lines, new_lines = old.split("\n"), new.split("\n")
    offsets = [0]
    for line in old_lines:
        offsets.append(offsets[-1] + len(line) + 1)
    edits: list[TextEdit] = []
    for tag, i1, i2, j1, j2 in _matcher(old_lines, new_lines).get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                edits += _word_edits(offsets[i1 + k], old_lines[i1 + k], new_lines[j1 + k])
            continue
        start, end = offsets[i1], offsets[i2]  # whole lines, with their line breaks
        replacement = "".join(line + "\n" for line in new_lines[j1:j2])
        if i2 == len(old_lines):  # the window's last line has no line break in `old`
            end -= 1
            if j2 > j1:
                replacement = replacement[:-1]
            elif start > 0:
                start -= 1  # deleting the last lines: take the line break before them
        edits += _trimmed(start, old[start:end], replacement)
    return [TextEdit(window_start + e.start, window_start + e.end, e.text) for e in edits]


def _matcher(a: list[str], b: list[str]) -> SequenceMatcher[str]:
    return SequenceMatcher(None, a, b, autojunk=False)


def _word_edits(base: int, old: str, new: str) -> list[TextEdit]:
    """One changed line: an edit per run of changed words."""
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    starts = [0]
    for token in old_tokens:
        starts.append(starts[-1] + len(token))
    edits = []
    matcher = SequenceMatcher(None, old_tokens, new_tokens, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits += _trimmed(
                base + starts[i1], old[starts[i1] : starts[i2]], "".join(new_tokens[j1:j2])
            )
    return edits


def _trimmed(start: int, old: str, new: str) -> list[TextEdit]:
    """`old` at `start` replaced by `new`, without their common ends; [] for a no-op."""
    if old == new:
        return []
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    return [TextEdit(start + head, start + len(old) - tail, new[head : len(new) - tail])]


def typing_spans(text: str, cursor: int, typed: tuple[int, int] | None) -> list[tuple[int, int]]:
    """What the user is typing: the word at the cursor, and their latest change in this
    document (its offsets in the current text), when there is one."""
    low = high = cursor
    while low > 0 and _WORD.match(text[low - 1]):
        low -= 1
    while high < len(text) and _WORD.match(text[high]):
        high += 1
    return [(low, high)] if typed is None else [(low, high), typed]


def keep_edit(edit: TextEdit, cursor: int, spans: list[tuple[int, int]]) -> bool:
    """False for an edit that touches what the user is typing (an insertion right at
    the cursor is a completion, and stays)."""
    if edit.start == edit.end == cursor:
        return True
    for low, high in spans:
        if edit.start == edit.end:
            if low < edit.start < high:
                return False
        elif edit.start < high and edit.end > low:
            return False
        elif low == high and edit.start <= low <= edit.end:
            return False  # a deletion's place is kept too
    return True
