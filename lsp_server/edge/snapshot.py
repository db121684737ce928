"""A completion request as it came in, taken before the handler's first `await`."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from lsp_server.context.cursor import display_path
from lsp_server.context.hygiene import is_sensitive_path
from lsp_server.edge.language_server import GhostlsServer
from lsp_server.edge.replies import wire_pos
from lsp_server.edge.selected import with_selected
from lsp_server.workspace.document import TextDocument
from lsp_server.workspace.snapshot import Snapshot


@dataclass(frozen=True)
class EditorRequest:
    """A completion request as it came in, taken before the handler's first `await`:
    the document as the editor has it (`live`, a copy; `current` is the store's object,
    kept only to tell at the end whether it changed meanwhile), the snapshot the
    suggestion is computed from, and where the selected suggest-widget item ends."""

    current: TextDocument
    live: TextDocument
    snapshot: Snapshot
    item_end: int


def take_request(
    ls: GhostlsServer,
    uri: str,
    position: types.Position,
    streaming: bool,
    selected: types.SelectedCompletionInfo | None = None,
) -> EditorRequest | None:
    """With `selected` (the editor's suggest widget item), the suggestion is for the
    text with that item applied. None for a document that is not open or must never
    reach a model (.env, keys)."""
    current = ls.store.documents.get(uri)
    if current is None or is_sensitive_path(display_path(uri)):
        return None
    live = current.copy()
    document, offset, item_end = live, live.offset_at(wire_pos(position)), 0
    if selected is not None:
        document, offset, item_end = with_selected(live, selected)
    root = ls.workspace.root_path or ""
    snapshot = ls.store.snapshot(document, offset, root, ls.settings, streaming)
    return EditorRequest(current, live, snapshot, item_end)
