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
The rule is pure: the caller keeps the choices (`completion/snippet_memory.py`).
"""

from __future__ import annotations

from lsp_server.context.cursor import Snippet, SnippetChoice
from lsp_server.context.neighbours import Source

STICKY_LINES = 150


def choose_snippets(
    kept: SnippetChoice | None,
    line: int,
    fresh: tuple[Snippet, ...],
    sources: list[Source],
    lines: int = STICKY_LINES,
) -> SnippetChoice:
    """The choice kept for the document when it is near enough (`lines`) and still
    valid, else `fresh` (the ranking for this cursor) chosen at `line`."""
    if kept is not None and abs(line - kept.line) <= lines and _valid(kept, sources):
        return kept
    return SnippetChoice(line, fresh)


def _valid(choice: SnippetChoice, sources: list[Source]) -> bool:
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
