"""Generation requests and streams for the backend tests: a Qwen FIM request, and the
whole text of a stream (closed even when the test fails half-way)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from lsp_server.backends.base import GenerationRequest
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


async def collect(chunks: AsyncGenerator[str, None]) -> str:
    async with contextlib.aclosing(chunks) as stream:
        return "".join([chunk async for chunk in stream])
