"""Real HTTP servers on 127.0.0.1 speaking Ollama's native API (this module) and
llama.cpp's llama-server API (`fake_llamacpp.py`), for tests and benchmarks.

`NativeServer` is the shared part: a thread running its own event loop, scripted
replies streamed at a set pace, faults per reply (HTTP status, a stall, a malformed
frame, an error frame, a reply that never ends), and a record of every request with
whether the client disconnected. Subclasses say which paths stream and how a frame
looks. Run as a process: `python -m tests.support.fake_ollama` prints `PORT n`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.support.fake_backend import split_tokens
from tests.support.stream_server import ThreadedServer, read_request, send_json, wait_or_eof


@dataclass
class NativeReply:
    text: str = "hello world"
    thinking: str = ""
    when: str = ""  # used for prompts that contain this text ("" matches all)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    fault: str = ""  # "" | stall | malformed | error_frame | endless
    stall_after: int = 0
    done_reason: str = "stop"


@dataclass
class NativeRecord:
    path: str
    body: dict[str, Any]
    tokens_sent: int = 0
    finished: bool = False
    disconnected: bool = False


class NativeServer(ThreadedServer):
    content_type = "application/x-ndjson"
    stream_paths: tuple[str, ...] = ()
    # The body fields whose text, joined, is the prompt (a chat body: its messages).
    prompt_fields: tuple[str, ...] = ()

    def __init__(self, replies: list[NativeReply] | None = None, token_interval_ms: float = 0):
        super().__init__()
        self.replies = replies or [NativeReply()]
        self.token_interval_ms = token_interval_ms
        self.requests: list[NativeRecord] = []

    # -- to be specialised -------------------------------------------------------------

    def refuse(self, path: str) -> tuple[int, Any] | None:
        """An error answer for `path` whatever the body, or None to serve it."""
        return None

    def json_route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        return 404, {"error": f"no route {path}"}

    def prompt_of(self, body: dict[str, Any]) -> str:
        if "messages" in body:
            return "\n".join(str(m.get("content", "")) for m in body["messages"])
        return "".join(str(body.get(name, "")) for name in self.prompt_fields)

    def frame(self, path: str, token: str, thinking: bool) -> bytes:
        raise NotImplementedError

    def final_frame(self, path: str, reply: NativeReply, record: NativeRecord) -> bytes:
        raise NotImplementedError

    def malformed_frame(self) -> bytes:
        return b"{not json\n"

    def error_frame(self) -> bytes:
        return b'{"error": "scripted failure mid-stream"}\n'

    # -- HTTP ------------------------------------------------------------------------

    def _reply_for(self, prompt: str) -> NativeReply:
        for reply in self.replies:
            if reply.when and reply.when in prompt:
                return reply
        return next((r for r in self.replies if not r.when), NativeReply(text=""))

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        method, path, _, body = await read_request(reader)
        record = NativeRecord(path, body)
        with self._lock:
            self.requests.append(record)
        self._notify()
        refusal = self.refuse(path)
        if refusal is not None:
            await send_json(writer, refusal[1], refusal[0])
            self._finish(record)
            return True
        if path in self.stream_paths and body.get("stream", True) is not False:
            await self._stream(reader, writer, record)
            return False
        status, payload = self.json_route(method, path, body)
        await send_json(writer, payload, status)
        self._finish(record)
        return True

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, record: NativeRecord
    ) -> None:
        reply = self._reply_for(self.prompt_of(record.body))
        if reply.status != 200:
            await send_json(writer, {"error": "scripted failure"}, reply.status, reply.headers)
            self._finish(record)
            return
        eof = asyncio.ensure_future(reader.read(1))
        broken = False
        try:
            writer.write(
                f"HTTP/1.1 200 OK\r\ncontent-type: {self.content_type}\r\n"
                "connection: close\r\n\r\n".encode()
            )
            for piece in split_tokens(reply.thinking):
                writer.write(self.frame(record.path, piece, thinking=True))
            tokens = split_tokens(reply.text) or (["x"] if reply.fault else [])
            index = 0
            while index < len(tokens) or reply.fault == "endless":
                if reply.fault == "stall" and index == reply.stall_after:
                    await eof
                    return
                if reply.fault == "malformed" and index == 1:
                    writer.write(self.malformed_frame())
                elif reply.fault == "error_frame" and index == 1:
                    writer.write(self.error_frame())
                else:
                    writer.write(self.frame(record.path, tokens[index % len(tokens)], False))
                await writer.drain()
                with self._lock:
                    record.tokens_sent += 1
                index += 1
                if await wait_or_eof(eof, self.token_interval_ms):
                    return
            writer.write(self.final_frame(record.path, reply, record))
            await writer.drain()
            self._finish(record)
        except ConnectionError:
            broken = True  # the write noticed the disconnect before the read did
        finally:
            if (broken or eof.done()) and not record.finished:
                with self._lock:
                    record.disconnected = True
                self._notify()
            eof.cancel()

    def _finish(self, record: NativeRecord) -> None:
        with self._lock:
            record.finished = True
        self._notify()


# Templates as `ollama show --template` prints them: a FIM-capable coder model and an
# instruct model whose template has no `.Suffix`.
FIM_TEMPLATE = (
    "{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>"
    "{{- else }}{{ .Prompt }}{{- end }}"
)
CHAT_TEMPLATE = "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>{{ end }}"


def show_payload(
    template: str, context_length: int = 32768, thinking: bool = False
) -> dict[str, Any]:
    capabilities = ["completion"] + (["insert"] if ".Suffix" in template else [])
    capabilities += ["thinking"] if thinking else []
    return {
        "template": template,
        "capabilities": capabilities,
        "model_info": {"general.architecture": "qwen2", "qwen2.context_length": context_length},
    }


class FakeOllama(NativeServer):
    stream_paths = ("/api/generate", "/api/chat")
    prompt_fields = ("prompt", "suffix")

    def __init__(
        self,
        replies: list[NativeReply] | None = None,
        models: dict[str, dict[str, Any]] | None = None,
        token_interval_ms: float = 0,
    ):
        super().__init__(replies, token_interval_ms)
        self.models = (
            models if models is not None else {"qwen2.5-coder:1.5b": show_payload(FIM_TEMPLATE)}
        )

    def json_route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        if path == "/api/version":
            return 200, {"version": "0.12.6"}
        if path == "/api/tags":
            return 200, {"models": [{"name": name, "model": name} for name in self.models]}
        if path == "/api/show":
            name = body.get("model") or body.get("name")
            if name in self.models:
                return 200, self.models[name]
            return 404, {"error": f"model '{name}' not found"}
        return super().json_route(method, path, body)

    def frame(self, path: str, token: str, thinking: bool) -> bytes:
        if path == "/api/chat":
            key = "thinking" if thinking else "content"
            payload: dict[str, Any] = {"message": {"role": "assistant", key: token}, "done": False}
        else:
            payload = {"response": "" if thinking else token, "done": False}
            if thinking:
                payload["thinking"] = token
        return json.dumps(payload).encode() + b"\n"

    def final_frame(self, path: str, reply: NativeReply, record: NativeRecord) -> bytes:
        payload: dict[str, Any] = {
            "done": True,
            "done_reason": reply.done_reason,
            "prompt_eval_count": 42,
            "eval_count": record.tokens_sent,
        }
        payload |= (
            {"message": {"role": "assistant", "content": ""}}
            if path == "/api/chat"
            else {"response": ""}
        )
        return json.dumps(payload).encode() + b"\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="a fake Ollama server")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = FakeOllama()
    server.port = args.port
    server.start()
    print(f"PORT {server.port}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    server.stop()


if __name__ == "__main__":
    main()
