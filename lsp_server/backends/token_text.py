"""Token bytes → the text of an answer: UTF-8 decoded across token boundaries, cut at
the first stop string, without the bytes that wrote a healed word again. The embedded
engine's worker feeds it one token at a time; what is certain goes to `emit`."""

from __future__ import annotations

import codecs
from collections.abc import Callable

from lsp_server.backends.token_healing import HealedStart


class StopMatcher:
    """Cuts a stream of text at the first stop string, even one split across chunks.

    Text that could be the start of a stop string is held back until it is not. A stop
    string that starts with a line break (an instruct model's closing code fence) is a
    line of its own, as the cut reads it (`postprocess/stops.py`): the line break stays
    in the text, and is sent at once (the line before it is complete without waiting
    for the next token).
    """

    def __init__(self, stops: tuple[str, ...]) -> None:
        self._stops = tuple(stop for stop in stops if stop)
        self._pending = ""
        self._line_start = False  # the text sent so far ends with a line break

    def feed(self, text: str) -> tuple[str, bool]:
        """(text safe to emit, whether a stop string was reached)."""
        pending = self._pending + text
        # The line break sent last still starts a stop string that follows it.
        lead = "\n" if self._line_start else ""
        seen = lead + pending
        hits = [i for i in (seen.find(stop) for stop in self._stops) if i >= 0]
        if hits:
            self._pending = ""
            at = min(hits)
            return seen[len(lead) : max(len(lead), at + (seen[at] == "\n"))], True
        keep = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(seen)), 0, -1):
                if stop.startswith(seen[-size:]):
                    keep = max(keep, size - stop.startswith("\n"))
                    break
        self._pending = pending[len(pending) - keep :]
        sent = pending[: len(pending) - keep]
        self._line_start = sent.endswith("\n") if sent else self._line_start
        return sent, False

    def flush(self) -> str:
        pending, self._pending = self._pending, ""
        return pending


class TextOutput:
    """Token bytes → text chunks: UTF-8 decoded incrementally (a character split over
    two tokens is sent whole), cut at the first stop string. With `healing`, the bytes
    that write the prompt's last word again are not part of the answer."""

    def __init__(
        self,
        stops: tuple[str, ...],
        emit: Callable[[object], None],
        healing: HealedStart | None = None,
    ) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._matcher = StopMatcher(stops)
        self._emit = emit
        self._healing = healing
        self.stopped = False

    def add(self, data: bytes) -> bool:
        """Send what is certain; True once a stop string was reached."""
        if self._healing is not None:
            data = self._healing.take(data)
        text, self.stopped = self._matcher.feed(self._decoder.decode(data))
        if text:
            self._emit(text)
        return self.stopped

    def finish(self) -> None:
        """The model ended: a cut UTF-8 sequence and text held back as a possible stop
        string are text after all."""
        if self.stopped:
            return
        text, self.stopped = self._matcher.feed(self._decoder.decode(b"", final=True))
        text += "" if self.stopped else self._matcher.flush()
        if text:
            self._emit(text)
