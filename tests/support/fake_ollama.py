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
import time
from dataclasses import dataclass, field
from typing import Any

from tests.support.fake_backend import split_tokens
from tests.support.stream_server import StreamServer


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


class NativeServer:
    content_type = "application/x-ndjson"
    stream_paths: tuple[str, ...] = ()

    def __init__(self, replies: list[NativeReply] | None = None, token_interval_ms: float = 0):
        self.replies = replies or [NativeReply()]
        self.token_interval_ms = token_interval_ms
        self.requests: list[NativeRecord] = []
        self.port = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: StreamServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NativeServer:
        ready = threading.Event()

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            self._server = loop.run_until_complete(
                StreamServer.listen(self._serve, "127.0.0.1", self.port)
            )
            self.port = self._server.port
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name=type(self).__name__, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None

    def __enter__(self) -> NativeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Block until `predicate(self)` holds; it must read `self.requests` directly."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # -- to be specialised -------------------------------------------------------------

    def refuse(self, path: str) -> tuple[int, Any] | None:
        """An error answer for `path` whatever the body, or None to serve it."""
        return None

    def json_route(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        return 404, {"error": f"no route {path}"}

    def prompt_of(self, body: dict[str, Any]) -> str:
        return json.dumps(body)

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

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
        length = int(headers.get("content-length", "0") or 0)
        raw = await reader.readexactly(length) if length else b""
        body: dict[str, Any] = json.loads(raw) if raw else {}
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
                if await _paced(eof, self.token_interval_ms):
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


async def _paced(eof: asyncio.Future[bytes], delay_ms: float) -> bool:
    if eof.done():
        return True
    if delay_ms <= 0:
        await asyncio.sleep(0)
        return eof.done()
    done, _ = await asyncio.wait({eof}, timeout=delay_ms / 1000)
    return bool(done)


async def send_json(
    writer: asyncio.StreamWriter,
    payload: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> None:
    body = json.dumps(payload).encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    writer.write(
        f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n{extra}\r\n".encode()
        + body
    )
    await writer.drain()


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

    def prompt_of(self, body: dict[str, Any]) -> str:
        if "messages" in body:
            return "\n".join(str(m.get("content", "")) for m in body["messages"])
        return str(body.get("prompt", "")) + str(body.get("suffix", ""))

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
