"""The neighbour snippets last chosen per document, given back to the next request's
context so they stay put while the cursor moves (`context/sticky.py`: the prompt's head
stays in the backend's KV cache). Owned by what keeps a backend's cache warm — the
completion engine, the next-edit service — not by the context stage, which stays pure."""

from __future__ import annotations

from collections import OrderedDict

from lsp_server.context.assemble import assemble_context
from lsp_server.context.cursor import CursorContext, SnippetChoice
from lsp_server.workspace.snapshot import Snapshot

DOCUMENTS = 256  # the most recent documents whose choice is kept


class SnippetMemory:
    def __init__(self, documents: int = DOCUMENTS) -> None:
        self._documents = documents
        self._chosen: OrderedDict[str, SnippetChoice] = OrderedDict()

    def context_for(self, snapshot: Snapshot) -> CursorContext:
        """The snapshot's context, with the snippets kept for its document; remembers
        the choice for the next request."""
        uri = snapshot.document.uri
        context = assemble_context(snapshot, self._chosen.get(uri))
        if context.chosen is not None:
            self._chosen[uri] = context.chosen
            self._chosen.move_to_end(uri)
            while len(self._chosen) > self._documents:
                self._chosen.popitem(last=False)
        return context

    def forget(self, uri: str) -> None:
        self._chosen.pop(uri, None)

    def __len__(self) -> int:
        return len(self._chosen)
