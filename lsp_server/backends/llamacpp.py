"""llama.cpp's `llama-server` (`kind: "llamacpp"`): native `/infill`, streamed as SSE.

`/infill` builds the FIM prompt itself from the model's own FIM tokens, with
`input_extra` chunks (`{filename, text}`) for neighbour files placed before the
current file, which keeps the prompt's stable part first for the KV cache
(`cache_prompt: true`). `t_max_predict_ms` lets the server end a multi-line
suggestion that runs long. `/props` gives the context size; `/tokenize` calibrates
token budgets to the model's tokenizer. Chat (`/v1/chat/completions`) is served on
the same base URL.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncGenerator
from typing import Any

from lsp_server.backends.base import (
    ChatRequest,
    Chunk,
    GenerationRequest,
    StreamEnd,
)
from lsp_server.backends.http import (
    HttpBackend,
    join_url,
    map_transport_errors,
    raise_for_status,
)
from lsp_server.backends.openai_api import api_base, chat_turn
from lsp_server.prompt.budget import BYTES_PER_TOKEN_ESTIMATE, Tokenizer
from lsp_server.settings import BackendSettings

# Past this much generation time (after the first line break) the server stops.
T_MAX_PREDICT_MS = 1500
# Code to calibrate the bytes-per-token ratio with the server's own tokenizer.
CALIBRATION_SAMPLE = (
    "def fibonacci(n: int) -> list[int]:\n"
    '    """The first n Fibonacci numbers."""\n'
    "    numbers = [0, 1]\n"
    "    while len(numbers) < n:\n"
    "        numbers.append(numbers[-1] + numbers[-2])\n"
    "    return numbers[:n]\n\n"
    "for (let i = 0; i < items.length; i++) { console.log(`item ${i}: ${items[i]}`); }\n"
)


class CalibratedTokenizer:
    """Counts tokens from UTF-8 bytes at the ratio the server's `/tokenize` measured.

    Budgets are computed line by line and synchronously, so an HTTP call per count is
    out of the question; a measured ratio with a 5 % margin is close to exact on code.
    """

    def __init__(self, bytes_per_token: float) -> None:
        self.bytes_per_token = bytes_per_token

    def count_tokens(self, text: str) -> int:
        size = len(text.encode("utf-8", "surrogatepass"))
        return math.ceil(size * 1.05 / self.bytes_per_token)


class LlamaCppBackend(HttpBackend):
    kind = "llamacpp"

    def __init__(self, settings: BackendSettings) -> None:
        super().__init__(settings)
        self._tokenizer: CalibratedTokenizer | None = None
        self.context_size: int | None = None

    def tokenizer(self) -> Tokenizer | None:
        return self._tokenizer

    async def _get_json(self, method: str, path: str, body: Any = None) -> Any:
        with map_transport_errors(self._label, self._settings.read_timeout_ms / 1000):
            url = join_url(self._settings.endpoint, path)
            response = await self._http().request(method, url, json=body)
            await raise_for_status(response, self._label)
            return response.json()

    async def props(self) -> dict[str, Any]:
        payload = await self._get_json("GET", "props")
        return payload if isinstance(payload, dict) else {}

    async def tokenize(self, text: str) -> list[int]:
        payload = await self._get_json("POST", "tokenize", {"content": text})
        tokens = payload.get("tokens") if isinstance(payload, dict) else None
        return [t for t in tokens if isinstance(t, int)] if isinstance(tokens, list) else []

    async def prepare(self) -> None:
        """Context size from `/props`, and the tokenizer ratio from `/tokenize`."""
        self.context_size = context_size(await self.props())
        tokens = await self.tokenize(CALIBRATION_SAMPLE)
        ratio = len(CALIBRATION_SAMPLE.encode()) / len(tokens) if tokens else 0.0
        self._tokenizer = CalibratedTokenizer(ratio if ratio > 0.5 else BYTES_PER_TOKEN_ESTIMATE)

    def infill_body(self, request: GenerationRequest) -> dict[str, Any]:
        prompt = request.prompt
        return {
            "input_extra": [{"filename": s.path, "text": s.text} for s in prompt.snippets],
            "input_prefix": prompt.prefix,
            "input_suffix": prompt.suffix,
            "prompt": "",
            "n_predict": request.max_tokens,
            "temperature": request.temperature,
            "stop": list(dict.fromkeys(request.stop)),
            "cache_prompt": True,
            "t_max_predict_ms": T_MAX_PREDICT_MS,
            "stream": True,
        }

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[Chunk, None]:
        stats = self.new_stats()
        url = join_url(self._settings.endpoint, "infill")
        events = self.post_events(url, self.infill_body(request), request.timeout_s, stats)
        async with contextlib.aclosing(events):
            async for event in events:
                content = event.get("content")
                if isinstance(content, str) and content:
                    stats.chunks += 1
                    yield content
                if event.get("stop") is True:
                    limit = event.get("stopped_limit")
                    yield StreamEnd(limit if isinstance(limit, bool) else None)
                    return
        yield StreamEnd()

    async def warm_up(self, request: GenerationRequest) -> None:
        """Evaluate the prompt without generating (`n_predict: 0`), so the next real
        request after a file switch finds its prefix in the KV cache."""
        body = self.infill_body(request) | {"n_predict": 0, "stream": False}
        await self._get_json("POST", "infill", body)

    def chat(self, request: ChatRequest) -> AsyncGenerator[str, None]:
        """Chat on the same server's OpenAI-compatible endpoint, for code actions."""
        url = join_url(api_base(self._settings.endpoint), "chat/completions")
        return chat_turn(self, url, request)


def context_size(props: dict[str, Any]) -> int | None:
    """`n_ctx` from `/props` (per slot in `default_generation_settings`)."""
    settings = props.get("default_generation_settings")
    for source in (settings if isinstance(settings, dict) else {}, props):
        value = source.get("n_ctx")
        if isinstance(value, int) and value > 0:
            return value
    return None
