"""Lifecycle edge cases driven directly on the engine (no server needed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from lsp_server.backends.base import GenerationRequest
from lsp_server.completion.job import build_job
from lsp_server.completion.lifecycle import CompletionEngine
from lsp_server.context.cursor import build_cursor_context
from lsp_server.prompt.budget import Tokenizer
from lsp_server.settings import Settings
from lsp_server.workspace.document import TextDocument

SOURCE = "def f():\n    \n"


class SlowBackend:
    description = "slow test backend"
    model_name = "qwen2.5-coder"

    def tokenizer(self) -> Tokenizer | None:
        return None

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


class EarlyVerdictBackend(SlowBackend):
    """Learns how the model ended before it has handed over all of its text (as the
    embedded engine's worker can, ahead of its queue), then gives the end mark."""

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        request.end.ran_out = False
        for chunk in ("total = ", "a + ", "b", ""):
            await asyncio.sleep(0)
            yield chunk


async def test_only_the_end_mark_ends_a_suggestion_early() -> None:
    """`request.end` set before the last text must not cut the text short: only the
    empty chunk after it (the end mark) makes the suggestion final early."""
    backend = EarlyVerdictBackend()
    engine = CompletionEngine(backend)
    document = TextDocument("file:///w/a.py", SOURCE, 1, "python")
    job = build_job(
        build_cursor_context(document, len("def f():\n    ")), Settings(), backend, False
    )
    suggestion = await asyncio.wait_for(engine.complete(job, None), 5)
    assert suggestion is not None and suggestion.text == "total = a + b"
    await engine.aclose()
