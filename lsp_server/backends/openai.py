"""OpenAI-compatible `/v1/completions` with `stream: true` (vLLM, llama-server, LM
Studio, `python -m llama_cpp.server`, hosted APIs).

The FIM prompt is rendered by us (`Prompt.text`), so any raw-completion endpoint can
serve fill-in-the-middle. Cancelling the consuming task raises `CancelledError` inside
`client.stream(...)`, whose exit closes the response: the server sees the disconnect.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Any

from lsp_server.backends.base import (
    ChatRequest,
    Chunk,
    GenerationRequest,
    StreamEnd,
)
from lsp_server.backends.http import HttpBackend, join_url
from lsp_server.backends.openai_api import MAX_STOP_SEQUENCES, api_base, chat_turn


class OpenAICompletionsBackend(HttpBackend):
    kind = "openai"

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        stop = list(dict.fromkeys((*request.stop, *request.prompt.stop)))[:MAX_STOP_SEQUENCES]
        return {
            "model": self._settings.model,
            "prompt": request.prompt.text,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
            "stop": stop,
        }

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[Chunk, None]:
        url = join_url(api_base(self._settings.endpoint), "completions")
        stats = self.new_stats()
        events = self.post_events(url, self._body(request), request.timeout_s, stats)
        ended = False
        async with contextlib.aclosing(events):
            async for event in events:
                if ended:
                    continue  # what follows the model's last event: usage, `[DONE]`
                text, reason = _choice(event)  # (vLLM sends the reason with the last text)
                if text:
                    stats.chunks += 1
                    yield text
                if reason is not None:
                    ended = True
                    yield StreamEnd(ran_out=reason == "length")  # at once (`Backend.stream`)
        if not ended:
            yield StreamEnd()

    def chat(self, request: ChatRequest) -> AsyncGenerator[str, None]:
        """Chat on the same server (`/v1/chat/completions`), for code actions."""
        url = join_url(api_base(self._settings.endpoint), "chat/completions")
        return chat_turn(self, url, request)


def _choice(event: dict[str, Any]) -> tuple[str, str | None]:
    """The first choice's text, and its `finish_reason` ("stop", "length") once given."""
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return "", None
    text, reason = choices[0].get("text"), choices[0].get("finish_reason")
    return (text if isinstance(text, str) else ""), (reason if isinstance(reason, str) else None)
