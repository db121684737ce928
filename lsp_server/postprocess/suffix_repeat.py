"""Whether the model's lines are the code after the cursor again: a line that repeats
the suffix's next line, confirmed by the text after it; a line still being written
that so far starts the suffix."""

from __future__ import annotations

import re
from functools import lru_cache

from lsp_server.postprocess.scan import CLOSER_LINE, next_nonblank_line, same_line

_DISTINCTIVE_CHARS = 24  # a suffix line this long, absent from the prefix, decides alone


def exact_line(line: str, anchor: str) -> bool:
    """`line` is `anchor` at the same indentation (elsewhere it is another statement)."""
    return line.rstrip() == anchor.rstrip() or (
        bool(CLOSER_LINE.match(anchor)) and same_line(line, anchor)
    )


def is_cut_short(line: str, other: str, last: bool) -> bool:
    """The last line the model wrote before it stopped starts `other`."""
    return last and bool(line.strip()) and other.strip().startswith(line.strip())


_CONFIRM_CHARS = 12  # non-blank characters of agreement with the suffix that confirm a repeat


_BLANKS = re.compile(r"\s+")


@lru_cache(maxsize=64)
def _after_anchor(suffix: str) -> str:
    """The suffix after its next non-blank line, without whitespace (the first
    characters are all a confirmation needs)."""
    lines = suffix.split("\n", 64)
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    return _BLANKS.sub("", "\n".join(lines[start + 1 :])[:4096])


def confirms_suffix(text: str, suffix: str) -> bool | None:
    """After a line that repeats the suffix's next line, does the model's text go on as
    the suffix does? Compared character by character without whitespace: True once
    `_CONFIRM_CHARS` characters (or the whole rest of the suffix) agree, False as soon
    as one differs, None while they agree but are too few to tell."""
    written = _BLANKS.sub("", text)
    expected = _after_anchor(suffix)
    size = min(len(written), len(expected))
    if written[:size] != expected[:size]:
        return False
    if size >= _CONFIRM_CHARS or not expected:
        return True
    if size == len(expected):
        # The whole of a short rest: a copy only where the model's words end with it
        # (`return dir` at the end of the file is no copy in `return dir.normalize(t)`).
        return len(written) == size or _words_follow(text, suffix)
    return None


def _words_follow(text: str, suffix: str) -> bool:
    """The text's first words are all the words of the suffix after its next line."""
    lines = suffix[:4096].split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    expected = "\n".join(lines[start + 1 :]).split()
    return text.split()[: len(expected)] == expected


def is_distinctive(line: str, prefix: str) -> bool:
    """A line long enough, and absent from the prefix, to be the suffix on its own."""
    return len(line.strip()) >= _DISTINCTIVE_CHARS and line.strip() not in prefix


def runs_into_suffix(rest: str, suffix: str) -> bool:
    """`rest` (what the model wrote after the lines kept) is, blanks aside, the start
    of the suffix, long enough not to agree by chance (or the whole of it)."""
    written, after = _BLANKS.sub("", rest), _BLANKS.sub("", suffix[:8192])
    return (
        bool(written)
        and len(written) >= min(_CONFIRM_CHARS, len(after))
        and after.startswith(written)
    )


@lru_cache(maxsize=64)
def _suffix_anchor(suffix: str) -> str:
    return next_nonblank_line(suffix[:4096])


def may_repeat_suffix(partial: str, suffix: str) -> bool:
    """A line still being written that so far is the start of the suffix's next line:
    most often the model running on into the code after the cursor, which the cut
    then drops. Not shown until it differs, so the editor does not flash it."""
    return bool(partial.strip()) and _suffix_anchor(suffix).startswith(partial)
