"""What the OpenAI-compatible kinds share (`openai`, `openai-chat`, and `llamacpp`'s
chat): the `/v1` base URL, the stop-sequence limit, and a streamed
`/v1/chat/completions` turn.

Reasoning never reaches the editor: `reasoning_content` / `reasoning` deltas are
counted and dropped, inline `<think>` and harmony channels are filtered
(`reasoning.py`), and a low reasoning effort is requested from models that reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Any

from lsp_server.backends.base import ChatRequest, Chunk, GenerationStats, StreamEnd
from lsp_server.backends.http import HttpBackend
from lsp_server.backends.reasoning import (
    REASONING_ALLOWANCE_TOKENS,
    ReasoningBudgetExhausted,
    ReasoningFilter,
    is_reasoning_model,
    reasoning_budget_message,
)
from lsp_server.prompt.messages import ChatMessage

# Hosted OpenAI-style APIs accept at most four stop sequences; we enforce the rest
# ourselves while post-processing.
MAX_STOP_SEQUENCES = 4


def api_base(url: str) -> str:
    """Base URL ending in /v1 (users paste either form)."""
    base = url.rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


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
    events: AsyncGenerator[dict[str, Any], None],
    label: str,
    max_tokens: int,
    stats: GenerationStats,
) -> AsyncGenerator[Chunk, None]:
    """Visible answer text of a streamed chat completion (`events`, from
    `HttpBackend.post_events`), then a `StreamEnd`; reasoning is dropped. `max_tokens`
    is the body's, for the message when reasoning used them all."""
    thinking = ReasoningFilter()
    reasoned = shown = 0
    finish: str | None = None
    async with contextlib.aclosing(events):
        async for event in events:
            delta, finish = _delta(event, finish)
            reasoned += len(_text(delta, "reasoning_content")) + len(_text(delta, "reasoning"))
            visible = thinking.feed(_text(delta, "content"))
            if visible:
                shown += len(visible)
                stats.chunks += 1
                yield visible
            if finish is not None:
                break  # the model's last event: no waiting for what may follow (`[DONE]`)
    tail = thinking.finish()
    if tail:
        shown += len(tail)
        yield tail
    reasoned += thinking.hidden_chars
    stats.extra["reasoning_chars"] = float(reasoned)
    if finish == "length" and reasoned and not shown:
        raise ReasoningBudgetExhausted(reasoning_budget_message(label, max_tokens))
    yield StreamEnd(None if finish is None else finish == "length")


async def chat_turn(
    backend: HttpBackend, url: str, request: ChatRequest, stats: GenerationStats | None = None
) -> AsyncGenerator[str, None]:
    """A chat turn (code actions) on an OpenAI-compatible `/v1/chat/completions`: the
    visible reply, as `stream_chat_completions` gives it (counted in `stats` if given)."""
    stats = stats if stats is not None else GenerationStats()
    body = chat_body(
        backend.model_name, request.messages, request.max_tokens, request.temperature, request.stop
    )
    events = backend.post_events(url, body, request.timeout_s, stats)
    replies = stream_chat_completions(events, backend.label, int(body["max_tokens"]), stats)
    async with contextlib.aclosing(replies):
        async for chunk in replies:
            if isinstance(chunk, str):
                yield chunk


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
