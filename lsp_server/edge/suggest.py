"""Run a request's snapshot through the pipeline; answer `ContentModified` when the
document changed meanwhile, and send streamed updates after the answer they update."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified

from lsp_server.completion.lifecycle import Suggestion
from lsp_server.completion.pipeline import complete_snapshot
from lsp_server.edge.language_server import GhostlsServer
from lsp_server.edge.replies import placed
from lsp_server.edge.snapshot import EditorRequest


async def suggest(
    ls: GhostlsServer,
    request: EditorRequest | None,
    position: types.Position,
    streaming: bool,
    selected: bool = False,
) -> Suggestion | None:
    """Run the snapshot through the pipeline, and check the answer is still for the
    current text. A suggestion for a selected item is not streamed (its updates would
    not match)."""
    await ls.backend_ready()
    engine, backend = ls.engine, ls.backend
    if request is None or engine is None or backend is None:
        return None
    snapshot = request.snapshot
    document, offset, uri = snapshot.document, snapshot.offset, snapshot.document.uri
    version = document.version

    # An update must reach the editor after the answer it updates, or the editor
    # shows the (shorter) answer last. The answer is written when this handler's task
    # finishes (pygls's done callback, registered before the handler ran), and chunks
    # the backend already sent can be cut before that: such updates wait, the latest
    # one is sent right after the answer.
    answered = False
    held: list[Suggestion] = []

    def on_update(update: Suggestion) -> None:
        if not answered:
            held[:] = [update]
            return
        ls.send_update(uri, version, position, update, placed(document, offset, position, update))

    def release(task: asyncio.Task[Any]) -> None:
        nonlocal answered
        answered = True
        if held and not task.cancelled() and task.exception() is None:
            on_update(held.pop())

    updates = on_update if streaming and not selected else None
    suggestion = await complete_snapshot(engine, backend, snapshot, updates)
    current = ls.store.documents.get(uri)
    if current is not request.current or current.version != version:
        raise JsonRpcContentModified(f"{uri} changed while the suggestion was computed")
    task = asyncio.current_task()
    if task is None:
        answered = True  # not run as a request's task: nothing to wait for
    else:
        task.add_done_callback(release)
    return suggestion
