"""Generation requests and streams for the backend tests: a Qwen FIM request, and the
whole text of a stream and how it ended (closed even when the test fails half-way)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from lsp_server.backends.base import Chunk, GenerationRequest, StreamEnd
from lsp_server.prompt.build import Prompt
from lsp_server.prompt.templates import TEMPLATES

QWEN = TEMPLATES["qwen"]


def qwen_request(
    prefix: str,
    suffix: str = "\n",
    context: str = "",
    *,
    max_tokens: int = 16,
    stop: tuple[str, ...] = (),
    timeout_s: float = 30.0,
) -> GenerationRequest:
    """A request whose prompt is Qwen's FIM layout of `context`, `prefix` and `suffix`."""
    prompt = Prompt(QWEN.render(prefix, suffix, context), prefix, suffix, QWEN, (), 0)
    return GenerationRequest(prompt, max_tokens=max_tokens, stop=stop, timeout_s=timeout_s)


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
