"""A real HTTP model server on 127.0.0.1 for tests and benchmarks.

It speaks OpenAI-compatible `/v1/completions` and `/v1/chat/completions` (SSE), streams
a scripted reply at a set pace (time to first token, then one token per interval), and
records for every request what it received, how many tokens it sent, and whether and
when the client disconnected. Faults are chosen per reply: HTTP errors, a hang before
the first byte, a stall mid-stream, malformed events, a reply that never ends.

Plain asyncio over sockets, so a disconnect is seen the moment the client closes:
while streaming, a reader waits on the socket and EOF ends the reply at once.

Use it in-process (`FakeBackend().start()` runs it on its own thread and loop) or as a
process for editor tests: `python -m tests.support.fake_backend [--port N]`
prints `PORT <n>` and serves until killed. Control over HTTP:
`POST /_script` (a `Script` as JSON), `GET /_log`, `POST /_reset`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from tests.support.stream_server import ThreadedServer, read_request, send_json, wait_or_eof

_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")


def split_tokens(text: str) -> list[str]:
    """BPE-like pieces: a word or a punctuation mark with its leading whitespace."""
    return _TOKEN.findall(text)


@dataclass
class Reply:
    """What to send for a prompt that contains `when` (empty matches every prompt)."""

    text: str = "hello world"
    when: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    # hang | stall | malformed | endless | close | hold_end (the final event, then the
    # stream stays open without `[DONE]` until the client leaves)
    fault: str = ""
    stall_after: int = 0  # tokens sent before a "stall" or "close"
    # Chat only: thinking streamed before the answer in this delta field
    # ("reasoning_content" or "reasoning").
    reasoning: str = ""
    reasoning_field: str = "reasoning_content"
    # The final event's finish_reason ("length" whenever max_tokens cut the text short);
    # None: the final event says nothing.
    finish_reason: str | None = "stop"


@dataclass
class Script:
    replies: list[Reply] = field(default_factory=lambda: [Reply()])
    ttft_ms: float = 0.0
    token_interval_ms: float = 0.0
    # `GET /v1/models`: the ids it lists (None: no such route, 404), answered this late.
    models: list[str] | None = None
    models_delay_ms: float = 0.0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        replies = [Reply(**reply) for reply in data.get("replies", [{}])]
        return cls(
            replies=replies,
            ttft_ms=float(data.get("ttft_ms", 0.0)),
            token_interval_ms=float(data.get("token_interval_ms", 0.0)),
            models=data.get("models"),
            models_delay_ms=float(data.get("models_delay_ms", 0.0)),
        )

    def reply_for(self, prompt: str) -> Reply:
        for reply in self.replies:
            if reply.when and reply.when in prompt:
                return reply
        return next((reply for reply in self.replies if not reply.when), Reply(text=""))


@dataclass
class RequestRecord:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    started: float
    tokens_sent: int = 0
    first_token_at: float | None = None
    finished: bool = False
    finished_at: float | None = None  # when the end of the stream was written
    disconnected: bool = False
    disconnected_at: float | None = None
    # When each token was written (benchmarks measure the lag to the editor with it).
    token_times: list[float] = field(default_factory=list)

    @property
    def prompt(self) -> str:
        if "prompt" in self.body:
            return str(self.body["prompt"])
        messages = self.body.get("messages") or []
        return "\n".join(str(message.get("content", "")) for message in messages)


class FakeBackend(ThreadedServer):
    def __init__(self, script: Script | None = None, host: str = "127.0.0.1", port: int = 0):
        super().__init__(host, port)
        self.script = script or Script()
        self.requests: list[RequestRecord] = []
        self.model_lists: list[tuple[float, float]] = []  # GET /v1/models: arrived, answered
        # Benchmarks replace the script with a function of the prompt (an oracle model):
        # the text to send, or a whole `Reply` (to say how the model ended, say).
        self.responder: Callable[[str], str | Reply] | None = None
        # How a reply's text is cut into tokens (benchmarks may use a real model's
        # tokenizer: `bench/tokens.py`); `max_tokens` counts these pieces.
        self.tokenizer: Callable[[str], list[str]] = split_tokens

    # -- observation for tests ----------------------------------------------------

    def set_script(self, script: Script) -> None:
        with self._lock:
            self.script = script

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def completion_requests(self) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith("/v1/")]

    # -- HTTP ---------------------------------------------------------------------

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        method, path, headers, body = await read_request(reader)
        if path == "/_script" and method == "POST":
            self.set_script(Script.from_json(body))
            return await send_json(writer, {"ok": True})
        if path == "/_reset":
            self.reset()
            return await send_json(writer, {"ok": True})
        if path == "/_log":
            with self._lock:
                log = [asdict(r) | {"prompt": r.prompt} for r in self.requests]
            return await send_json(writer, log)
        if path == "/v1/models" and method == "GET" and self.script.models is not None:
            return await self._list_models(writer, self.script)
        if path.endswith("/completions") and method == "POST":
            record = RequestRecord(path, body, headers, time.monotonic())
            with self._lock:
                self.requests.append(record)
                script = self.script
            self._notify()
            chat = path.endswith("/chat/completions")
            await self._stream(reader, writer, record, script, chat)
            return False
        return await send_json(writer, {"error": f"no route {path}"}, status=404)

    async def _list_models(self, writer: asyncio.StreamWriter, script: Script) -> bool:
        arrived = time.monotonic()
        await asyncio.sleep(script.models_delay_ms / 1000)
        with self._lock:
            self.model_lists.append((arrived, time.monotonic()))
        data = [{"id": model, "object": "model"} for model in script.models or []]
        return await send_json(writer, {"object": "list", "data": data})

    async def _stream(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        record: RequestRecord,
        script: Script,
        chat: bool,
    ) -> None:
        reply = script.reply_for(record.prompt)
        if self.responder is not None:
            answer = self.responder(record.prompt)
            reply = answer if isinstance(answer, Reply) else Reply(text=answer)
        if reply.status != 200:
            await send_json(
                writer, {"error": {"message": "scripted failure"}}, reply.status, reply.headers
            )
            self._finish(record)
            return
        eof = asyncio.ensure_future(reader.read(1))
        try:
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"cache-control: no-cache\r\nconnection: close\r\n\r\n"
            )
            await writer.drain()
            if reply.fault == "hang":
                await eof
                return
            if await wait_or_eof(eof, script.ttft_ms):
                return
            if chat and reply.reasoning:
                for piece in split_tokens(reply.reasoning):
                    delta = {reply.reasoning_field: piece}
                    writer.write(_chat_delta_event(delta))
                await writer.drain()
            tokens = self.tokenizer(reply.text)
            finish_reason = reply.finish_reason
            limit = record.body.get("max_tokens")
            if not chat and isinstance(limit, int) and len(tokens) > limit:
                tokens = tokens[:limit]  # as a real server stops there, and says so
                finish_reason = finish_reason and "length"
            index = 0
            # Paced on an absolute schedule, so a sub-millisecond interval (the event
            # loop sleeps in whole milliseconds) still gives its rate, in small bursts.
            start = time.monotonic()
            while index < len(tokens) or reply.fault == "endless":
                if reply.fault in ("stall", "close") and index == reply.stall_after:
                    if reply.fault == "close":
                        return
                    await eof
                    return
                token = tokens[index % len(tokens)] if tokens else "x"
                writer.write(_event(token, chat, reply.fault == "malformed" and index == 1))
                await writer.drain()
                with self._lock:
                    record.tokens_sent += 1
                    record.token_times.append(time.monotonic())
                    record.first_token_at = record.first_token_at or record.token_times[-1]
                self._notify()
                index += 1
                due = start + index * script.token_interval_ms / 1000
                if await wait_or_eof(eof, (due - time.monotonic()) * 1000):
                    return
            if reply.fault == "hold_end":
                writer.write(_final_event(chat, finish_reason))
                await writer.drain()
                await eof
                return
            writer.write(_final_event(chat, finish_reason) + b"data: [DONE]\n\n")
            await writer.drain()
            self._finish(record)
        except ConnectionError:
            # The write failed before the EOF read noticed: the client is gone all the same.
            eof.cancel()
            with self._lock:
                record.disconnected = not record.finished
                record.disconnected_at = time.monotonic()
            self._notify()
        finally:
            if eof.done() and not eof.cancelled() and not record.finished:
                with self._lock:
                    record.disconnected = True
                    record.disconnected_at = time.monotonic()
                self._notify()
            eof.cancel()

    def _finish(self, record: RequestRecord) -> None:
        with self._lock:
            record.finished = True
            record.finished_at = time.monotonic()
        self._notify()


def _event(token: str, chat: bool, malformed: bool) -> bytes:
    if malformed:
        return b"data: {not json\n\n"
    if chat:
        payload = {"choices": [{"index": 0, "delta": {"content": token}, "finish_reason": None}]}
    else:
        payload = {"choices": [{"index": 0, "text": token, "finish_reason": None}]}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _chat_delta_event(delta: dict[str, str]) -> bytes:
    payload = {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _final_event(chat: bool, finish_reason: str | None = "stop") -> bytes:
    key = {"delta": {}} if chat else {"text": ""}
    payload = {"choices": [{"index": 0, **key, "finish_reason": finish_reason}]}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", help="a Script as JSON")
    args = parser.parse_args()
    script = Script.from_json(json.loads(args.script)) if args.script else Script()
    backend = FakeBackend(script, port=args.port).start()
    print(f"PORT {backend.port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        backend.stop()


if __name__ == "__main__":
    main()
