"""Where a model's text runs on into the code after the cursor (pure, no parsing).

FIM models that do not stop write the middle and then the suffix again. On the
cursor's own line that copy starts with the rest of the line — often punctuation
(`) {`, `);`, `:`, `]`, `})`) that the middle itself may contain too — so an occurrence
of the rest of the line is the end of the middle only when what the model writes from
there on is the suffix, compared without blanks (`suffix_overlap`). The same
comparison tells whether a text that ran out of tokens was only repeating the suffix
when it did (`ran_into_suffix`): then what came before is whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

CONFIRM_CHARS = 12  # non-blank characters of agreement with the suffix that confirm it
_BLANKS = re.compile(r"\s+")
_LOOK = 400  # characters of the model's text after a candidate end that are compared
_LINES = 8  # lines of the model's text searched for the rest of the cursor's line


@dataclass(frozen=True)
class Overlap:
    """The middle ends at `end` of the model's text: the rest of it is the suffix."""

    end: int
    confirmed: bool  # False: it agrees with the suffix so far, too briefly to tell


@lru_cache(maxsize=64)
def _rest_of_line(prefix: str, suffix: str) -> str:
    """The rest of the cursor's line, stripped, when the cursor is mid-line (else "").
    Cached: the cut asks on every re-cut, and the document can be long."""
    line_prefix = prefix[prefix.rfind("\n") + 1 :]
    end = suffix.find("\n")
    return suffix[: end if end >= 0 else len(suffix)].strip() if line_prefix.strip() else ""


@lru_cache(maxsize=64)
def _expected(suffix: str) -> str:
    return _BLANKS.sub("", suffix[:4096])


def _agreement(written: str, expected: str) -> bool | None:
    """True: `written` (blanks removed) is the suffix's start, long enough to tell;
    False: it differs, or goes on past a short suffix; None: too short to tell (a
    model that stopped there leaves it to the punctuation rules of the cut)."""
    size = min(len(written), len(expected))
    if written[:size] != expected[:size]:
        return False
    if size >= CONFIRM_CHARS:
        return True
    if len(written) > len(expected):
        return False  # it went on past the whole (short) suffix: its own code
    return None


def suffix_overlap(text: str, prefix: str, suffix: str, ended: bool = False) -> Overlap | None:
    """The cursor is mid-line and the rest of its line is in the model's first lines,
    followed by the suffix: the middle ends there. `ended`: the model's text is all
    there is (it stopped): no occurrence is left undecided. None when no occurrence of
    the rest of the line goes on as the suffix does (so far)."""
    rest = _rest_of_line(prefix, suffix)
    if not rest:
        return None
    line_end = text.find("\n")
    first = text if line_end < 0 else text[:line_end]
    end = _lines_end(text, _LINES)  # the middle's own lines (a call's arguments, a lambda)
    expected = _expected(suffix)
    # The rest's start is enough to look for: a long rest may be cut off by the end of
    # the text (the token limit), and what follows is compared with the suffix anyway.
    probe = rest[: 2 * CONFIRM_CHARS]
    at = text.find(probe, 0, end)
    while at >= 0:
        written = _BLANKS.sub("", text[at : at + _LOOK])
        verdict = _agreement(written, expected)
        if (
            ended
            and verdict is None
            and written == expected
            and len(expected) > len(_BLANKS.sub("", rest))
        ):
            verdict = True  # the whole (short) rest of the file and more than the line
        if verdict is True or (verdict is None and not ended):
            return Overlap(at, verdict is True)
        at = text.find(probe, at + 1, end)
    if line_end < 0 and not ended:
        # The line is still being written: its end may yet be the rest of the line.
        for size in range(min(len(rest), len(first)) - 1, 0, -1):
            if first.endswith(rest[:size]) and first[: len(first) - size].strip():
                return Overlap(len(first) - size, False)
    return None


def _lines_end(text: str, count: int) -> int:
    """Where the first `count` lines of `text` end."""
    end = -1
    for _ in range(count):
        end = text.find("\n", end + 1)
        if end < 0:
            return len(text)
    return end


def kept_before(text: str, end: int, suffix: str) -> str:
    """The middle before `end`, without the blanks the suffix starts with itself."""
    kept = text[:end]
    return kept.rstrip(" \t") if suffix[:1] in (" ", "\t") else kept


def ran_into_suffix(rest: str, suffix: str) -> bool:
    """`rest`, what a model that ran out of tokens wrote after the lines the cut kept,
    is (blanks aside) the start of the suffix: it was copying the code after the
    cursor when it ran out, so the lines before are the whole middle."""
    written = _BLANKS.sub("", rest)
    expected = _expected(suffix)
    line = _BLANKS.sub("", next((ln for ln in suffix[:4096].split("\n") if ln.strip()), ""))
    # As much as confirms a repeat, or the suffix's next line whole: a shared word's
    # start (`AccUtils.` of `AccUtils.home();`) is no copy yet.
    enough = min(CONFIRM_CHARS, len(expected), max(len(line), 1))
    return bool(written) and len(written) >= enough and expected.startswith(written)
