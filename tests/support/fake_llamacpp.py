"""A real HTTP server on 127.0.0.1 speaking llama-server's native API: `/infill`
(SSE), `/props`, `/tokenize`, `/health`, and `/v1/chat/completions` for chat.
Shares its machinery with `fake_ollama.NativeServer`."""

from __future__ import annotations

import json
from typing import Any

from tests.support.fake_backend import split_tokens
from tests.support.fake_ollama import NativeRecord, NativeReply, NativeServer


class FakeLlamaCpp(NativeServer):
    content_type = "text/event-stream"
    stream_paths = ("/infill", "/v1/chat/completions")
    prompt_fields = ("input_prefix", "input_suffix")

    def __init__(
        self,
        replies: list[NativeReply] | None = None,
        n_ctx: int = 8192,
        fim: bool = True,
        token_interval_ms: float = 0,
    ):
        super().__init__(replies, token_interval_ms)
        self.n_ctx = n_ctx
        self.fim = fim

    def refuse(self, path: str) -> tuple[int, Any] | None:
        if path == "/infill" and not self.fim:
            return 501, {"error": {"code": 501, "message": "Infill is not supported by this model"}}
        return None

    def json_route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        if path == "/health":
            return 200, {"status": "ok"}
        if path == "/props":
            return 200, {
                "default_generation_settings": {"n_ctx": self.n_ctx},
                "total_slots": 1,
                "model_path": "/models/qwen2.5-coder-1.5b-q8_0.gguf",
            }
        if path == "/tokenize":
            return 200, {"tokens": list(range(len(split_tokens(str(body.get("content", ""))))))}
        if path == "/v1/models":
            return 200, {"data": [{"id": "qwen2.5-coder-1.5b", "meta": {"n_ctx_train": 32768}}]}
        if path == "/infill":  # non-streaming: the warm-up (n_predict 0) or the probe
            return 200, {"content": "", "stop": True, "timings": {"prompt_n": 3, "cache_n": 0}}
        return super().json_route(method, path, body)

    def frame(self, path: str, token: str, thinking: bool) -> bytes:
        if path == "/infill":
            payload: dict[str, Any] = {"content": token, "stop": False}
        else:
            key = "reasoning_content" if thinking else "content"
            payload = {"choices": [{"index": 0, "delta": {key: token}, "finish_reason": None}]}
        return b"data: " + json.dumps(payload).encode() + b"\n\n"

    def final_frame(self, path: str, reply: NativeReply, record: NativeRecord) -> bytes:
        if path == "/infill":
            payload: dict[str, Any] = {
                "content": "",
                "stop": True,
                "stopped_limit": reply.done_reason == "length",
                "timings": {"prompt_n": 12, "cache_n": 300},
            }
            return b"data: " + json.dumps(payload).encode() + b"\n\n"
        final = {"choices": [{"index": 0, "delta": {}, "finish_reason": reply.done_reason}]}
        return b"data: " + json.dumps(final).encode() + b"\n\ndata: [DONE]\n\n"

    def malformed_frame(self) -> bytes:
        return b"data: {not json\n\n"

    def error_frame(self) -> bytes:
        return b'data: {"error": {"message": "scripted failure mid-stream"}}\n\n'
