"""Ollama's native API (`kind: "ollama"`): `/api/generate` for completions, `/api/chat`
for chat, both streaming NDJSON.

Fill-in-the-middle uses Ollama's own `suffix` when the model's template supports it
(`/api/show`: `.Suffix` in the template or the `insert` capability); otherwise the FIM
prompt we render is sent with `raw: true`. `num_ctx` is held constant
(`backend.contextTokens`) because a different value makes Ollama reload the model;
`keep_alive` keeps it loaded between keystrokes. Closing the stream closes the HTTP
response, and Ollama stops generating when its client goes away.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from lsp_server.backends.base import (
    ChatRequest,
    Chunk,
    GenerationRequest,
    GenerationStats,
    StreamEnd,
)
from lsp_server.backends.http import (
    HttpBackend,
    checked_event,
    join_url,
    map_transport_errors,
    raise_for_status,
)
from lsp_server.backends.reasoning import (
    REASONING_ALLOWANCE_TOKENS,
    ReasoningBudgetExhausted,
    ReasoningFilter,
    reasoning_budget_message,
)
from lsp_server.errors import BackendError, BackendProtocolError
from lsp_server.settings import BackendSettings

DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
KEEP_ALIVE = "30m"
MAX_LINE_CHARS = 1 << 20  # one NDJSON frame; a longer line is a broken server


@dataclass(frozen=True)
class OllamaModelInfo:
    """What `/api/show` says about a model, for FIM and the probe."""

    native_fim: bool
    thinking: bool
    context_length: int | None
    template: str


def parse_show(payload: dict[str, Any]) -> OllamaModelInfo:
    template = payload.get("template")
    template = template if isinstance(template, str) else ""
    capabilities = payload.get("capabilities")
    capabilities = capabilities if isinstance(capabilities, list) else []
    context = None
    info = payload.get("model_info")
    if isinstance(info, dict):
        for key, value in info.items():
            if key.endswith(".context_length") and isinstance(value, int):
                context = value
    return OllamaModelInfo(
        native_fim=".Suffix" in template or "insert" in capabilities,
        thinking="thinking" in capabilities,
        context_length=context,
        template=template,
    )


async def iter_ndjson(response: httpx.Response, label: str) -> AsyncIterator[dict[str, Any]]:
    """JSON objects of an NDJSON stream, split incrementally; `error` frames raise."""
    async for line in response.aiter_lines():
        if not line.strip():
            continue
        if len(line) > MAX_LINE_CHARS:
            raise BackendProtocolError(f"{label} sent an oversized stream frame")
        try:
            payload = json.loads(line)
        except json.JSONDecodeError as error:
            raise BackendProtocolError(f"{label} sent a malformed stream frame") from error
        yield checked_event(payload, label, "frame")


def record_ollama_usage(frame: dict[str, Any], stats: GenerationStats) -> None:
    if isinstance(frame.get("prompt_eval_count"), int):
        stats.prompt_tokens = frame["prompt_eval_count"]
    if isinstance(frame.get("eval_count"), int):
        stats.extra["eval_count"] = float(frame["eval_count"])


class OllamaBackend(HttpBackend):
    kind = "ollama"

    def __init__(self, settings: BackendSettings) -> None:
        super().__init__(settings)
        self._info: OllamaModelInfo | None = None

    async def model_info(self) -> OllamaModelInfo:
        """`/api/show` for the configured model, asked once."""
        if self._info is None:
            url = join_url(self._settings.endpoint, "api/show")
            model = self._settings.model
            with map_transport_errors(self._label, self._settings.read_timeout_ms / 1000):
                response = await self._http().post(url, json={"model": model})
                if response.status_code == 404:
                    raise BackendError(
                        f"{self._label} has no model '{model}': run `ollama pull {model}` "
                        "or set backend.model to one that `ollama list` shows"
                    )
                await raise_for_status(response, self._label)
                payload = response.json()
            self._info = parse_show(payload if isinstance(payload, dict) else {})
        return self._info

    async def prepare(self) -> None:
        await self.model_info()

    def _options(
        self, max_tokens: int, temperature: float, stop: tuple[str, ...]
    ) -> dict[str, Any]:
        options: dict[str, Any] = {
            "num_predict": max_tokens,
            "num_ctx": self._settings.context_tokens,
            "temperature": temperature,
        }
        if stop:
            options["stop"] = list(dict.fromkeys(stop))
        return options

    async def generate_body(self, request: GenerationRequest) -> dict[str, Any]:
        info = await self.model_info()
        prompt = request.prompt
        stop = (*request.stop, *prompt.stop)
        body = self._body(info, request.max_tokens, request.temperature, stop, 0)
        if info.native_fim:
            body["prompt"], body["suffix"] = prompt.prefix, prompt.suffix
        else:
            body["prompt"], body["raw"] = prompt.text, True
        return body

    def _body(
        self,
        info: OllamaModelInfo,
        max_tokens: int,
        temperature: float,
        stop: tuple[str, ...],
        thinking_allowance: int,
    ) -> dict[str, Any]:
        """What /api/generate and /api/chat share: model, streaming, keep-alive, the
        thinking switch, and the options (`thinking_allowance` more tokens for a model
        that thinks)."""
        body: dict[str, Any] = {
            "model": self._settings.model,
            "stream": True,
            "keep_alive": KEEP_ALIVE,
        }
        if info.thinking:
            body["think"] = self._think()
            max_tokens += thinking_allowance
        body["options"] = self._options(max_tokens, temperature, stop)
        return body

    def _think(self) -> bool | str:
        # gpt-oss cannot switch thinking off, only lower its effort.
        return "low" if "gpt-oss" in self._settings.model else False

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[Chunk, None]:
        body = await self.generate_body(request)
        frames = self._stream("api/generate", body, request.timeout_s, "response")
        async with contextlib.aclosing(frames):
            async for chunk in frames:
                yield chunk

    async def chat(self, request: ChatRequest) -> AsyncGenerator[str, None]:
        info = await self.model_info()
        body = self._body(
            info,
            request.max_tokens,
            request.temperature,
            request.stop,
            REASONING_ALLOWANCE_TOKENS,
        )
        body["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
        frames = self._stream("api/chat", body, request.timeout_s, "message")
        async with contextlib.aclosing(frames):
            async for chunk in frames:
                if isinstance(chunk, str):
                    yield chunk

    async def _stream(
        self,
        path: str,
        body: dict[str, Any],
        timeout_s: float,
        key: str,
    ) -> AsyncGenerator[Chunk, None]:
        stats = self.new_stats()
        thinking = ReasoningFilter()
        reasoned = shown = 0
        reason = ""
        url = join_url(self._settings.endpoint, path)
        frames = self.post_events(url, body, timeout_s, events=iter_ndjson)
        async with contextlib.aclosing(frames):
            async for frame in frames:
                content, thought = _frame_text(frame, key)
                reasoned += len(thought)
                visible = thinking.feed(content)
                if visible:
                    shown += len(visible)
                    stats.chunks += 1
                    yield visible
                if frame.get("done") is True:
                    reason = str(frame.get("done_reason") or "")
                    record_ollama_usage(frame, stats)
                    break
        tail = thinking.finish()
        if tail:
            shown += len(tail)
            yield tail
        reasoned += thinking.hidden_chars
        if reason == "length" and reasoned and not shown:
            budget = int(body["options"]["num_predict"])
            raise ReasoningBudgetExhausted(reasoning_budget_message(self._label, budget))
        yield StreamEnd(reason == "length" if reason in ("stop", "length") else None)


def _frame_text(frame: dict[str, Any], key: str) -> tuple[str, str]:
    """(visible text, thinking text) of one frame of /api/generate or /api/chat."""
    if key == "message":
        message = frame.get("message")
        message = message if isinstance(message, dict) else {}
        content, thought = message.get("content"), message.get("thinking")
    else:
        content, thought = frame.get("response"), frame.get("thinking")
    return (
        content if isinstance(content, str) else "",
        thought if isinstance(thought, str) else "",
    )
