"""Stop sequences: the text before the first one is final; a partial one at the end of
the text is held back until the next characters tell.

A sequence that starts with a line break (a line break and three backticks: the fence
an instruct model closes its code with) is a line of its own: the line break before it
stays in the text (the line before it is complete), and is never held back itself. At
the start of a line (`line_start`) the sequence matches without it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class _StopMatcher:
    """A tuple of stop sequences, compiled: one regex search finds the first of them,
    and the text's tail is looked at only when it holds a character one starts with."""

    first: re.Pattern[str] | None
    starts: re.Pattern[str] | None
    sequences: tuple[str, ...]
    longest: int


@lru_cache(maxsize=32)
def _stop_matcher(stop: tuple[str, ...]) -> _StopMatcher:
    sequences = tuple(s for s in stop if s)  # an empty sequence stops nothing
    if not sequences:
        return _StopMatcher(None, None, (), 0)
    return _StopMatcher(
        first=re.compile("|".join(map(re.escape, sequences))),
        starts=re.compile("[" + "".join(sorted({re.escape(s[0]) for s in sequences})) + "]"),
        sequences=sequences,
        longest=max(map(len, sequences)),
    )


def cut_at_stop(
    raw: str, stop: tuple[str, ...], searched: int = 0, line_start: bool = False
) -> tuple[str, bool]:
    """Text before the first stop sequence (final), or with a partial stop held back.
    `raw[:searched]` is known to hold none: only a sequence ending after it is new.
    `line_start`: `raw` starts a line (the cursor is at the start of one)."""
    matcher = _stop_matcher(stop)
    if matcher.first is None or matcher.starts is None:
        return raw, False
    if line_start:
        # As if after a line break, which a sequence that starts with one keeps anyway.
        text, final = cut_at_stop("\n" + raw, stop, searched + 1 if searched else 0)
        return text[1:], final
    found = matcher.first.search(raw, max(0, searched - matcher.longest + 1))
    if found is not None:
        return raw[: found.start() + found.group().startswith("\n")], True
    tail_at = max(0, len(raw) - matcher.longest + 1)
    if matcher.starts.search(raw, tail_at) is None:
        return raw, False  # no sequence can start in the tail (almost always)
    held = 0
    for sequence in matcher.sequences:
        # Where the text's end could start the sequence: at its first character, found
        # in the last len(sequence) - 1 characters.
        tail = raw[max(0, len(raw) - len(sequence) + 1) :] if len(sequence) > 1 else ""
        at = tail.find(sequence[0])
        while at != -1 and len(tail) - at > held:
            if sequence.startswith(tail[at:]):
                # A line break that starts the sequence stays either way.
                held = max(held, len(tail) - at - sequence.startswith("\n"))
                break
            at = tail.find(sequence[0], at + 1)
    return raw[: len(raw) - held], False
