"""Speculative next suggestion over real JSON-RPC: `ghostls.accepted` asks the model for
the next suggestion at once, and the editor's request after inserting the accepted text
is served from it, with no new backend round trip."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.lsp import Session, openai_options, running_server

URI = "file:///work/spec.py"
SOURCE = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
FIRST = "total = a + b"
NEXT = "  # the sum"


def script() -> Script:
    return Script(
        [Reply(text=NEXT, when=FIRST + "<|fim_suffix|>"), Reply(text=FIRST)],
        token_interval_ms=5,
    )


async def wait_backend(backend: FakeBackend, predicate: Any) -> None:
    assert await asyncio.to_thread(backend.wait_for, predicate, 10), "backend never got there"


async def accept(session: Any, item: types.InlineCompletionItem) -> None:
    assert item.command is not None and item.command.arguments
    await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(item.command.command, item.command.arguments)
    )


@asynccontextmanager
async def first_suggestion(
    tmp: Path,
) -> AsyncIterator[tuple[Session, FakeBackend, types.InlineCompletionItem]]:
    """SOURCE open in a real server on the model of `script()`, and the item it shows in
    the function's empty body (FIRST)."""
    with FakeBackend(script()) as backend:
        async with running_server(tmp, openai_options(backend.url)) as session:
            session.open(URI, SOURCE)
            yield session, backend, (await session.inline(URI, 1, 4)).items[0]


async def test_accepting_prefetches_the_next_suggestion(tmp_path: Path) -> None:
    async with first_suggestion(tmp_path) as (session, backend, first):
        assert first.insert_text == FIRST
        await accept(session, first)
        await wait_backend(backend, lambda b: len(b.completion_requests()) == 2)
        inserted_at = time.monotonic()
        session.type_text(URI, 1, 4, FIRST)
        follow = await session.inline(URI, 1, 4 + len(FIRST))
        assert [item.insert_text for item in follow.items] == [NEXT]
        requests = backend.completion_requests()
        assert len(requests) == 2  # no round trip after the edit
        assert requests[1].started < inserted_at
        assert (FIRST + "<|fim_suffix|>") in requests[1].body["prompt"]


async def test_editor_inserting_before_the_command_also_gets_the_prefetch(
    tmp_path: Path,
) -> None:
    # VS Code inserts the text first and runs the item's command after it.
    async with first_suggestion(tmp_path) as (session, backend, first):
        session.type_text(URI, 1, 4, FIRST)
        await accept(session, first)
        await wait_backend(backend, lambda b: len(b.completion_requests()) == 2)
        follow = await session.inline(URI, 1, 4 + len(FIRST))
        assert [item.insert_text for item in follow.items] == [NEXT]
        assert len(backend.completion_requests()) == 2


async def test_an_edit_that_contradicts_the_accepted_text_drops_the_prefetch(
    tmp_path: Path,
) -> None:
    async with first_suggestion(tmp_path) as (session, backend, first):
        # The prefetch is still waiting for its first token when the edit comes.
        backend.set_script(Script(script().replies, ttft_ms=5000))
        await accept(session, first)
        await wait_backend(backend, lambda b: len(b.completion_requests()) == 2)
        session.type_text(URI, 1, 4, "x")  # the user typed something else
        await wait_backend(backend, lambda b: b.completion_requests()[1].disconnected)
