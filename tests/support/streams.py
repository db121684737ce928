"""A backend's stream read whole in tests: its text, and how it ended."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from lsp_server.backends.base import Chunk, StreamEnd


async def text_and_end(chunks: AsyncGenerator[Chunk, None]) -> tuple[str, StreamEnd]:
    """The text and the `StreamEnd` of a completion stream; fails unless the stream
    ends with exactly one `StreamEnd` and no text after it (`Backend.stream`)."""
    parts: list[str] = []
    ends: list[StreamEnd] = []
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            if isinstance(chunk, StreamEnd):
                ends.append(chunk)
            else:
                assert not ends, f"text after the stream's end: {chunk!r}"
                parts.append(chunk)
    assert len(ends) == 1, f"{len(ends)} ends"
    return "".join(parts), ends[0]


async def collect(chunks: AsyncGenerator[Chunk, None]) -> str:
    """The text of a completion stream (checked as `text_and_end` checks it) or of a chat
    turn (text only)."""
    parts: list[str] = []
    ended = False
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            if isinstance(chunk, StreamEnd):
                assert not ended, "two ends"
                ended = True
            else:
                assert not ended, f"text after the stream's end: {chunk!r}"
                parts.append(chunk)
    return "".join(parts)
