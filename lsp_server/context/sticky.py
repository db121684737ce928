"""Neighbour snippets that stay put while the cursor moves within a file.

The snippets lead the prompt, and a KV cache keeps only what comes before the first
change (the embedded engine also moves cached runs that follow, but it cannot skip
new text): when a cursor move re-ranks them, the whole prompt after them is evaluated
again. Measured on a real model (`bench/bench_real_model.py replay --analyse`): with
snippets ranked per cursor area, every one of 15 moves through a 491-line file changed
the snippets and kept 3 to 61 of ~1,500 prompt tokens.

So a document keeps the snippets chosen for it while the cursor stays within
`STICKY_LINES` of where they were chosen and every line of them is still in its
source; past that, or when a source changed under them, the fresh ranking is taken.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from lsp_server.context.cursor import Snippet
from lsp_server.context.neighbours import Source

STICKY_LINES = 150
_DOCUMENTS = 256


@dataclass(frozen=True)
class _Choice:
    line: int
    snippets: tuple[Snippet, ...]


class StickySnippets:
    """The snippets last chosen per document (the most recent `_DOCUMENTS` documents)."""

    def __init__(self, lines: int = STICKY_LINES) -> None:
        self.lines = lines
        self._chosen: OrderedDict[str, _Choice] = OrderedDict()

    def choose(
        self, uri: str, line: int, fresh: tuple[Snippet, ...], sources: list[Source]
    ) -> tuple[Snippet, ...]:
        """`fresh` (the ranking for this cursor), unless the snippets kept for `uri`
        are near enough and still valid: then those."""
        kept = self._chosen.get(uri)
        if kept is not None and abs(line - kept.line) <= self.lines and _valid(kept, sources):
            self._chosen.move_to_end(uri)
            return kept.snippets
        self._chosen[uri] = _Choice(line, fresh)
        self._chosen.move_to_end(uri)
        while len(self._chosen) > _DOCUMENTS:
            self._chosen.popitem(last=False)
        return fresh

    def seen(self, uri: str) -> bool:
        """Whether snippets were chosen for `uri` before (a request in it came before)."""
        return uri in self._chosen

    def forget(self, uri: str) -> None:
        self._chosen.pop(uri, None)


def _valid(choice: _Choice, sources: list[Source]) -> bool:
    """Every line of every kept snippet is still in a source of the same path (the
    snippets may have dropped lines, so they are checked line by line)."""
    texts: dict[str, list[str]] = {}
    for source in sources:
        texts.setdefault(source.path, []).append(source.text)
    for snippet in choice.snippets:
        found = texts.get(snippet.path)
        if not found:
            return False
        for line in snippet.text.splitlines():
            if line.strip() and not any(line in text for text in found):
                return False
    return True
