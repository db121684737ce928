"""OpenAI-compatible `/v1/completions` with `stream: true` (vLLM, llama-server, LM
Studio, `python -m llama_cpp.server`, hosted APIs).

The FIM prompt is rendered by us (`Prompt.text`), so any raw-completion endpoint can
serve fill-in-the-middle. Cancelling the consuming task raises `CancelledError` inside
`client.stream(...)`, whose exit closes the response: the server sees the disconnect.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from typing import Any

from lsp_server.backends.base import ChatRequest, GenerationRequest, GenerationStats
from lsp_server.backends.http import (
    HttpBackend,
    iter_sse_data,
    join_url,
    map_transport_errors,
    raise_for_status,
    record_usage,
)
from lsp_server.errors import BackendTimeout

# Hosted OpenAI-style APIs accept at most four stop sequences; we enforce the rest
# ourselves while post-processing.
MAX_STOP_SEQUENCES = 4


def api_base(url: str) -> str:
    """Base URL ending in /v1 (users paste either form)."""
    base = url.rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


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

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        url = join_url(api_base(self._settings.endpoint), "completions")
        deadline = time.monotonic() + request.timeout_s
        stats = self.last_stats = GenerationStats()
        with map_transport_errors(self._label, self._settings.read_timeout_ms / 1000):
            async with self._http().stream("POST", url, json=self._body(request)) as response:
                await raise_for_status(response, self._label)
                async for event in iter_sse_data(response, self._label):
                    text, reason = _choice(event)  # (vLLM sends the reason with the last text)
                    record_usage(event, stats)
                    if text:
                        stats.chunks += 1
                        yield text
                    if reason is not None:
                        request.end.ran_out = reason == "length"
                        yield ""  # the end mark (see `Backend.stream`)
                    if time.monotonic() > deadline:
                        raise BackendTimeout(
                            f"{self._label} exceeded the {request.timeout_s:g} s budget"
                        )

    def chat(self, request: ChatRequest) -> AsyncGenerator[str, None]:
        """Chat on the same server (`/v1/chat/completions`), for code actions."""
        from lsp_server.backends.openai_chat import chat_turn

        url = join_url(api_base(self._settings.endpoint), "chat/completions")
        return chat_turn(self._http(), url, request, self._label, self._settings, GenerationStats())


def _choice(event: dict[str, Any]) -> tuple[str, str | None]:
    """The first choice's text, and its `finish_reason` ("stop", "length") once given."""
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return "", None
    text, reason = choices[0].get("text"), choices[0].get("finish_reason")
    return (text if isinstance(text, str) else ""), (reason if isinstance(reason, str) else None)
