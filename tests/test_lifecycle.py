"""Lifecycle edge cases driven directly on the engine (no server needed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from lsp_server.backends.base import Chunk, GenerationRequest, PromptFacts, StreamEnd
from lsp_server.completion.job import build_job
from lsp_server.completion.lifecycle import CompletionEngine
from lsp_server.context.cursor import build_cursor_context
from lsp_server.settings import Settings
from lsp_server.workspace.document import TextDocument

SOURCE = "def f():\n    \n"


class SlowBackend:
    description = "slow test backend"
    model_name = "qwen2.5-coder"

    def prompt_facts(self) -> PromptFacts:
        return PromptFacts(self.model_name)

    async def prepare(self) -> None:
        return None

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        await asyncio.sleep(10)
        yield "return 1"

    async def aclose(self) -> None:
        return None


async def test_a_generation_cancelled_before_it_starts_releases_its_waiter() -> None:
    engine = CompletionEngine(SlowBackend())
    document = TextDocument("file:///w/a.py", SOURCE, 1, "python")
    job = build_job(
        build_cursor_context(document, len("def f():\n    ")), Settings(), SlowBackend(), False
    )
    waiter = asyncio.ensure_future(engine.complete(job, None))
    await asyncio.sleep(0)  # the request starts its generation; the generation has not run
    engine.document_changed(document.uri, "def g():\n    \n")  # contradicts it at once
    assert await asyncio.wait_for(waiter, 5) is None
    await engine.aclose()


class SlowDoneBackend(SlowBackend):
    """Reads the model's last event (a `StreamEnd`), then a server that never sends
    `[DONE]`: the stream stays open until it is closed."""

    def __init__(self) -> None:
        self.closed = False

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[Chunk, None]:
        try:
            for chunk in ("total = ", "a + ", "b"):
                await asyncio.sleep(0)
                yield chunk
            yield StreamEnd(ran_out=False)
            await asyncio.Event().wait()  # no `[DONE]`, ever
        finally:
            self.closed = True


async def test_the_end_event_makes_the_suggestion_final_without_waiting_for_the_stream() -> None:
    """All the text before the `StreamEnd` is shown, and the answer does not wait for
    the stream to end: the engine closes it."""
    backend = SlowDoneBackend()
    engine = CompletionEngine(backend)
    document = TextDocument("file:///w/a.py", SOURCE, 1, "python")
    job = build_job(
        build_cursor_context(document, len("def f():\n    ")), Settings(), backend, False
    )
    suggestion = await asyncio.wait_for(engine.complete(job, None), 5)
    assert suggestion is not None and suggestion.text == "total = a + b"
    assert backend.closed
    await engine.aclose()
