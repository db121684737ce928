"""The places edited lately (uri, line range), for neighbour context: the code the user
just touched elsewhere is what the model most likely needs next."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from lsp_server.workspace.document import common_prefix_length

RECENT_LIMIT = 8


def edited_region(before: str, after: str) -> tuple[int, int] | None:
    """Lines [first, last) of `after` that an edit changed, or None."""
    if before == after:
        return None
    start = common_prefix_length(before, after)
    limit = min(len(before), len(after)) - start
    tail = common_prefix_length(before[::-1][:limit], after[::-1][:limit])
    first = after.count("\n", 0, start)
    last = after.count("\n", 0, len(after) - tail) + 1
    return first, last


@dataclass
class RecentEdits:
    """The last few edited places (uri, line range), newest last."""

    places: deque[tuple[str, int, int]]

    @classmethod
    def empty(cls) -> RecentEdits:
        return cls(deque(maxlen=RECENT_LIMIT))

    def record(self, uri: str, before: str, after: str) -> None:
        region = edited_region(before, after)
        if region is None:
            return
        first, last = region
        if self.places and self.places[-1][0] == uri:
            _, old_first, old_last = self.places[-1]
            if first <= old_last + 1 and last >= old_first - 1:  # the same place again
                self.places.pop()
                first, last = min(first, old_first), max(last, old_last)
        self.places.append((uri, first, last))

    def forget(self, uri: str) -> None:
        self.places = deque((p for p in self.places if p[0] != uri), maxlen=RECENT_LIMIT)
