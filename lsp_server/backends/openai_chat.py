"""OpenAI-compatible `/v1/chat/completions` with `stream: true` (`kind: "openai-chat"`).

Two uses: `chat()` for code actions, and `stream()` for inline completion with a
chat-only model (a prompt with a hole marker, the middle extracted from the answer,
see `chat_prompt.py`). Reasoning never reaches the editor: `reasoning_content` /
`reasoning` deltas are counted and dropped, inline `<think>` and harmony channels are
filtered (`reasoning.py`), and a low reasoning effort is requested from models that
reason. `stream_chat_completions` is shared with the `openai` kind, whose servers
(vLLM, llama-server) serve chat on the same base URL.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator
from typing import Any

import httpx

from lsp_server.backends.base import (
    ChatMessage,
    ChatRequest,
    GenerationRequest,
    GenerationStats,
    StreamEnd,
)
from lsp_server.backends.chat_prompt import MiddleExtractor, chat_messages
from lsp_server.backends.http import (
    HttpBackend,
    iter_sse_data,
    join_url,
    map_transport_errors,
    raise_for_status,
    record_usage,
)
from lsp_server.backends.openai import MAX_STOP_SEQUENCES, api_base
from lsp_server.backends.reasoning import (
    REASONING_ALLOWANCE_TOKENS,
    ReasoningBudgetExhausted,
    ReasoningFilter,
    is_reasoning_model,
    reasoning_budget_message,
)
from lsp_server.errors import BackendTimeout
from lsp_server.settings import BackendSettings


def chat_body(
    model: str,
    messages: tuple[ChatMessage, ...],
    max_tokens: int,
    temperature: float,
    stop: tuple[str, ...],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": m.role, "content": m.content} for m in messages],
        "max_tokens": max_tokens,
        "temperature": temperature,
        "stream": True,
    }
    if stop:
        body["stop"] = list(dict.fromkeys(stop))[:MAX_STOP_SEQUENCES]
    if is_reasoning_model(model):
        # vLLM and hosted APIs read `reasoning_effort`; llama-server's gpt-oss template
        # reads it from the template kwargs. Servers ignore what they do not know.
        body["reasoning_effort"] = "low"
        body["chat_template_kwargs"] = {"reasoning_effort": "low"}
        body["max_tokens"] = max_tokens + REASONING_ALLOWANCE_TOKENS
    return body


async def stream_chat_completions(
    client: httpx.AsyncClient,
    url: str,
    body: dict[str, Any],
    label: str,
    settings: BackendSettings,
    timeout_s: float,
    stats: GenerationStats,
    end: StreamEnd | None = None,
) -> AsyncGenerator[str, None]:
    """Visible answer text of a streamed chat completion; reasoning is dropped. `end`
    learns whether the model ran out of tokens, once the server says."""
    deadline = time.monotonic() + timeout_s
    thinking = ReasoningFilter()
    reasoned = shown = 0
    finish: str | None = None
    with map_transport_errors(label, settings.read_timeout_ms / 1000):
        async with client.stream("POST", url, json=body) as response:
            await raise_for_status(response, label)
            async for event in iter_sse_data(response, label):
                delta, finish = _delta(event, finish)
                record_usage(event, stats)
                reasoned += len(_text(delta, "reasoning_content")) + len(_text(delta, "reasoning"))
                visible = thinking.feed(_text(delta, "content"))
                if visible:
                    shown += len(visible)
                    stats.chunks += 1
                    yield visible
                if finish is not None:
                    break  # the model's last event: no waiting for what may follow (`[DONE]`)
                if time.monotonic() > deadline:
                    raise BackendTimeout(f"{label} exceeded the {timeout_s:g} s budget")
    if end is not None and finish is not None:
        end.ran_out = finish == "length"
    tail = thinking.finish()
    if tail:
        shown += len(tail)
        yield tail
    reasoned += thinking.hidden_chars
    stats.extra["reasoning_chars"] = float(reasoned)
    if finish == "length" and reasoned and not shown:
        raise ReasoningBudgetExhausted(reasoning_budget_message(label, int(body["max_tokens"])))


def chat_turn(
    client: httpx.AsyncClient,
    url: str,
    request: ChatRequest,
    label: str,
    settings: BackendSettings,
    stats: GenerationStats,
) -> AsyncGenerator[str, None]:
    """A chat turn (code actions) on an OpenAI-compatible `/v1/chat/completions`: the
    visible reply, as `stream_chat_completions` gives it."""
    body = chat_body(
        settings.model, request.messages, request.max_tokens, request.temperature, request.stop
    )
    return stream_chat_completions(client, url, body, label, settings, request.timeout_s, stats)


def _delta(event: dict[str, Any], finish: str | None) -> tuple[dict[str, Any], str | None]:
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return {}, finish
    choice = choices[0]
    reason = choice.get("finish_reason")
    delta = choice.get("delta")
    return (delta if isinstance(delta, dict) else {}), (
        reason if isinstance(reason, str) else finish
    )


def _text(delta: dict[str, Any], key: str) -> str:
    value = delta.get(key)
    return value if isinstance(value, str) else ""


class OpenAIChatBackend(HttpBackend):
    """`kind: "openai-chat"`: chat and chat-prompted inline completion."""

    kind = "openai-chat"

    def _url(self) -> str:
        return join_url(api_base(self._settings.endpoint), "chat/completions")

    def chat(self, request: ChatRequest) -> AsyncGenerator[str, None]:
        stats = self.last_stats = GenerationStats()
        return chat_turn(self._http(), self._url(), request, self._label, self._settings, stats)

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        """Inline completion: the hole prompt, and only the middle of the answer."""
        prompt = request.prompt
        messages = chat_messages(prompt)
        body = chat_body(
            self._settings.model, messages, request.max_tokens, request.temperature, ()
        )
        stats = self.last_stats = GenerationStats()
        extractor = MiddleExtractor(prompt.prefix)
        replies = stream_chat_completions(
            self._http(),
            self._url(),
            body,
            self._label,
            self._settings,
            request.timeout_s,
            stats,
            request.end,
        )
        async with contextlib.aclosing(replies):
            async for text in replies:
                middle = extractor.feed(text)
                if middle:
                    yield middle
                if extractor.done:
                    request.end.ran_out = False  # the model closed its code block itself
                    return  # the closing fence: the rest is commentary, stop the model
        rest = extractor.finish()
        if rest:
            yield rest
