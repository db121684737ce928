"""The one way from a snapshot to a suggestion: context → prompt and job → engine.

The editor's requests (inline completion and the completion-item fallback), the
prefetch after an accepted suggestion and `ghostls complete` all come through
`complete_snapshot`, so each builds the same context (neighbours, scopes, the syntax's
multi-line decision), the same prompt and the same cut for the same text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from lsp_server.backends.base import Backend
from lsp_server.completion.generation import CompletionJob, Suggestion, UpdateSink
from lsp_server.completion.job import build_job
from lsp_server.completion.latency import LatencyPlan
from lsp_server.completion.lifecycle import CompletionEngine
from lsp_server.workspace.snapshot import Snapshot


def complete_snapshot(
    engine: CompletionEngine,
    backend: Backend,
    snapshot: Snapshot,
    on_update: UpdateSink | None = None,
    *,
    paced: bool = True,
    prefetch: bool = False,
) -> Awaitable[Suggestion | None]:
    """The suggestion for `snapshot`, to await (None when there is none).

    `paced`: the engine's latency controller plans the request (debounce, token budget,
    an early answer for streaming clients): an editor's requests and the prefetch. A
    single request (`ghostls complete`) takes the settings as they are.
    `prefetch`: start the generation now with nobody waiting (the request the editor
    makes once the accepted text is in the document adopts it); resolves to None.

    The context and prompt are only built when no live generation serves the request
    and no newer request replaced it while it waited out the debounce."""
    settings, streaming = snapshot.settings, snapshot.streaming
    plan: LatencyPlan | None = None
    within: float | None = None
    if paced:
        plan = engine.latency.plan(backend.description, settings.completion, streaming)
        within = engine.latency.answer_within_s(settings.completion, streaming)

    def make_job() -> CompletionJob:
        context = engine.snippets.context_for(snapshot)
        return build_job(context, settings, backend, streaming, plan)

    if prefetch:
        engine.prefetch(make_job())  # now, not when awaited: before the next request
        nothing: asyncio.Future[Suggestion | None] = asyncio.get_running_loop().create_future()
        nothing.set_result(None)
        return nothing
    return engine.complete_lazily(
        snapshot.document.uri,
        snapshot.prefix,
        snapshot.suffix,
        streaming,
        make_job,
        on_update,
        within,
        plan.debounce_s if plan is not None else 0.0,
    )
