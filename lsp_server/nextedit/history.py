"""What the user changed lately, as changes of whole lines (pure, no I/O).

`RecentEdits` in `workspace/recent_edits` remembers *where* edits happened; a next-edit
prompt needs *what* changed: the lines before and after. Keystrokes at one place are
merged into one change (typing a name letter by letter is one rename), so the history
reads like the edits a person would describe. Each document also keeps its text as it
was before its oldest remembered change: Sweep's `original/` window comes from it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from lsp_server.workspace.document import common_prefix_length

HISTORY_LIMIT = 8  # changes remembered, all documents together
MAX_CHANGE_LINES = 40  # a bigger change (a paste, a reformat) is remembered cut to this


@dataclass(frozen=True)
class LineChange:
    """Lines `old` of a document, from line `start`, became lines `new`."""

    uri: str
    start: int
    old: tuple[str, ...]
    new: tuple[str, ...]

    def unified_diff(self) -> str:
        """The change as one unified-diff hunk (no file header)."""
        head = f"@@ -{self.start + 1},{len(self.old)} +{self.start + 1},{len(self.new)} @@"
        body = [f"-{line}" for line in self.old] + [f"+{line}" for line in self.new]
        return "\n".join([head, *body])


def changed_lines(before: str, after: str) -> tuple[int, int, int] | None:
    """(first line, end line in `before`, end line in `after`) of the lines an edit
    changed, by common leading and trailing lines; None when nothing changed."""
    if before == after:
        return None
    old, new = before.split("\n"), after.split("\n")
    first = 0
    limit = min(len(old), len(new))
    while first < limit and old[first] == new[first]:
        first += 1
    old_end, new_end = len(old), len(new)
    while old_end > first and new_end > first and old[old_end - 1] == new[new_end - 1]:
        old_end -= 1
        new_end -= 1
    return first, old_end, new_end


Typed = tuple[int, int]  # offsets of what the user's latest keystrokes at one place wrote


@dataclass(frozen=True)
class HistoryView:
    """What a next-edit request reads of the history for one document, copied before
    the request's first await."""

    changes: tuple[LineChange, ...]
    baseline: str | None
    typed: Typed | None


@dataclass
class EditHistory:
    changes: deque[LineChange] = field(default_factory=lambda: deque(maxlen=HISTORY_LIMIT))
    # Per document: its text before its oldest remembered change.
    baselines: dict[str, str] = field(default_factory=dict)
    # Per document: offsets (in its current text) of the text its latest keystrokes at
    # one place wrote: what the user is typing, which no suggestion may touch.
    typed: dict[str, Typed] = field(default_factory=dict)

    def view(self, uri: str) -> HistoryView:
        return HistoryView(tuple(self.changes), self.baselines.get(uri), self.typed.get(uri))

    def opened(self, uri: str, text: str) -> None:
        self.baselines.setdefault(uri, text)

    def forget(self, uri: str) -> None:
        self.baselines.pop(uri, None)
        self.typed.pop(uri, None)
        self.changes = deque((c for c in self.changes if c.uri != uri), maxlen=HISTORY_LIMIT)

    def record(self, uri: str, before: str, after: str) -> None:
        region = changed_lines(before, after)
        if region is None:
            return
        self.typed[uri] = _typed(self.typed.get(uri), before, after)
        if not any(change.uri == uri for change in self.changes):
            self.baselines[uri] = before  # the document's first remembered change
        first, old_end, new_end = region
        old_lines, new_lines = before.split("\n"), after.split("\n")
        last = self.changes[-1] if self.changes else None
        if last is not None and last.uri == uri:
            merged = _merge(last, first, old_end, new_end, old_lines, new_lines)
            if merged is not None:
                self.changes.pop()
                if merged.old != merged.new:  # typed and undone: nothing to remember
                    self.changes.append(merged)
                return
        self.changes.append(
            _capped(
                LineChange(
                    uri, first, tuple(old_lines[first:old_end]), tuple(new_lines[first:new_end])
                )
            )
        )

    def last_change(self, uri: str) -> LineChange | None:
        """The newest change, when it was made in `uri`."""
        last = self.changes[-1] if self.changes else None
        return last if last is not None and last.uri == uri else None


def _typed(previous: tuple[int, int] | None, before: str, after: str) -> tuple[int, int]:
    """The offsets of what the edit wrote, joined with `previous` when it touches it."""
    start = common_prefix_length(before, after)
    limit = min(len(before), len(after)) - start
    tail = common_prefix_length(before[::-1][:limit], after[::-1][:limit])
    old_end, new_end = len(before) - tail, len(after) - tail
    if previous is None or start > previous[1] or old_end < previous[0]:
        return start, new_end
    low, high = previous
    return min(start, low), max(new_end, high + (new_end - old_end) if high >= old_end else high)


def _merge(
    last: LineChange,
    first: int,
    old_end: int,
    new_end: int,
    old_lines: list[str],
    new_lines: list[str],
) -> LineChange | None:
    """`last` extended by an edit at the same place (touching or next to its lines in
    the text before the edit), or None when the edit is elsewhere."""
    start, end = last.start, last.start + len(last.new)
    if first > end or old_end < start:
        return None
    low, high = min(first, start), max(old_end, end)
    old = (*old_lines[low:start], *last.old, *old_lines[end:high])
    new = tuple(new_lines[low : high + (new_end - old_end)])
    return _capped(LineChange(last.uri, low, old, new))


def _capped(change: LineChange) -> LineChange:
    return LineChange(
        change.uri, change.start, change.old[:MAX_CHANGE_LINES], change.new[:MAX_CHANGE_LINES]
    )
