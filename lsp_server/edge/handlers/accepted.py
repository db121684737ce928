"""The `ghostls.accepted` command: a suggestion was taken; count it, and start the
next one (the prefetch) as if its text were typed."""

from __future__ import annotations

import logging
from typing import Any

from lsp_server.completion.pipeline import complete_snapshot
from lsp_server.context.cursor import display_path
from lsp_server.context.hygiene import is_sensitive_path
from lsp_server.edge.language_server import GhostlsServer
from lsp_server.workspace.document import TextDocument

log = logging.getLogger(__name__)


def accepted(ls: GhostlsServer, *args: Any) -> None:
    log.info("suggestion accepted: %s", args)
    if args and isinstance(args[0], str):
        ls.reports.accepted(args[0])
        prefetch_next(ls, args[0])


def prefetch_next(ls: GhostlsServer, item_id: str) -> None:
    """Ask for the suggestion after an accepted one, as if its text were typed."""
    engine, backend = ls.engine, ls.backend
    target = engine.accepted(item_id) if engine is not None else None
    if engine is None or backend is None or target is None:
        return
    uri, prefix, suffix = target
    document = ls.store.documents.get(uri)
    if document is None or is_sensitive_path(display_path(uri)):
        return
    future = TextDocument(uri, prefix + suffix, document.version, document.language_id)
    root = ls.workspace.root_path or ""
    streaming = ls.settings.streaming
    # Parsed here, so scopes and the multi-line decision are the editor's.
    snapshot = ls.store.snapshot(future, len(prefix), root, ls.settings, streaming, detached=True)
    complete_snapshot(engine, backend, snapshot, prefetch=True)
