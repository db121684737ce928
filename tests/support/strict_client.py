"""A strict JSON-RPC client for protocol tests: every request gets exactly one response.

Two pieces:

- `StrictLedger` follows any client's requests and responses and fails on a missing,
  duplicate or unknown-id response (like ruff's e2e `TestServerBuilder` `Drop`).
  `tests/support/lsp.py::running_server` installs it on its pytest-lsp client.
- `RawServer` drives `python -m lsp_server serve` over raw stdio bytes, so tests can
  send what no well-behaved client would (malformed JSON, bad `Content-Length`,
  truncated bodies) and read every byte the server answers. `close()` fails on a
  response nobody consumed, a missing one, or a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.lsp import server_env


class StrictnessError(AssertionError):
    """The server broke the one-response-per-request rule."""


@dataclass
class StrictLedger:
    """Ids sent, responses seen; `check()` raises on any broken promise."""

    sent: dict[Any, str] = field(default_factory=dict)  # id → method
    answered: dict[Any, int] = field(default_factory=dict)  # id → responses seen
    unknown: list[Any] = field(default_factory=list)

    def request(self, msg_id: Any, method: str) -> None:
        self.sent[msg_id] = method

    def response(self, msg_id: Any) -> None:
        if msg_id not in self.sent:
            self.unknown.append(msg_id)
            return
        self.answered[msg_id] = self.answered.get(msg_id, 0) + 1

    def problems(self, exempt: set[Any] | None = None) -> list[str]:
        exempt = exempt or set()
        found = [
            f"no response to {method} (id {msg_id!r})"
            for msg_id, method in self.sent.items()
            if msg_id not in self.answered and msg_id not in exempt
        ]
        found += [
            f"{count} responses to {self.sent[msg_id]} (id {msg_id!r})"
            for msg_id, count in self.answered.items()
            if count > 1
        ]
        found += [f"response to an id never sent: {msg_id!r}" for msg_id in self.unknown]
        return found

    def check(self, exempt: set[Any] | None = None) -> None:
        problems = self.problems(exempt)
        if problems:
            raise StrictnessError("; ".join(problems))


def install_ledger(client: Any) -> StrictLedger:
    """Follow a pygls client's requests and responses (pytest-lsp's `LanguageClient`)."""
    ledger = StrictLedger()
    protocol = client.protocol
    send_request = protocol.send_request
    handle_response = protocol._handle_response

    def tracked_send(method: str, params: Any = None, callback: Any = None, msg_id: Any = None):  # type: ignore[no-untyped-def]
        future = send_request(method, params, callback, msg_id)
        # pygls keys its futures by id: the newest one is ours.
        ledger.request(next(reversed(protocol._request_futures)), method)
        return future

    def tracked_response(msg_id: Any, result: Any = None, error: Any = None):  # type: ignore[no-untyped-def]
        ledger.response(msg_id)
        return handle_response(msg_id, result, error)

    protocol.send_request = tracked_send
    protocol._handle_response = tracked_response
    return ledger


def frame(message: dict[str, Any] | bytes) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


@dataclass
class RawServer:
    """The real server over raw stdio; `send` bytes, `request`, `response(id)`."""

    process: asyncio.subprocess.Process
    ledger: StrictLedger = field(default_factory=StrictLedger)
    responses: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    server_requests: list[dict[str, Any]] = field(default_factory=list)
    consumed: set[Any] = field(default_factory=set)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None
    _drain: asyncio.Task[None] | None = None
    stderr: bytearray = field(default_factory=bytearray)
    eof: bool = False

    async def _read_stderr(self) -> None:
        # Drained all along: a full pipe would block a server logging at DEBUG.
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(65536):
            self.stderr += chunk

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = None
            while True:
                line = await stdout.readline()
                if not line:
                    self.eof = True
                    self._arrived.set()
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
                if line in (b"\r\n", b"\n") and length is not None:
                    break
            message = json.loads(await stdout.readexactly(length))
            self._dispatch(message)
            self._arrived.set()

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:
            self.server_requests.append(message)
            # Answer what the server asks (workspace/configuration etc.) with nulls.
            self.write(frame({"jsonrpc": "2.0", "id": message["id"], "result": None}))
        elif "method" in message:
            self.notifications.append(message)
        else:
            if message.get("id") is not None:  # id null: a parse error, checked apart
                self.ledger.response(message.get("id"))
            self.responses.setdefault(message.get("id"), []).append(message)

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)

    def send(self, message: dict[str, Any] | bytes) -> None:
        self.write(frame(message))

    def request(self, method: str, params: Any = None, msg_id: Any = None) -> Any:
        msg_id = next(self._ids) if msg_id is None else msg_id
        self.ledger.request(msg_id, method)
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    async def wait_until(self, predicate: Any, limit_s: float = 10.0) -> None:
        async with asyncio.timeout(limit_s):
            while not predicate():
                if self.eof:
                    raise StrictnessError("the server closed its output")
                self._arrived.clear()
                await self._arrived.wait()

    async def response(self, msg_id: Any, limit_s: float = 10.0) -> dict[str, Any]:
        await self.wait_until(lambda: msg_id in self.responses, limit_s)
        self.consumed.add(msg_id)
        return self.responses[msg_id][0]

    def null_responses(self) -> list[dict[str, Any]]:
        """Errors for messages the server could not attribute (id null), consumed."""
        self.consumed.add(None)
        return self.responses.get(None, [])

    async def call(self, method: str, params: Any = None, limit_s: float = 10.0) -> dict[str, Any]:
        return await self.response(self.request(method, params), limit_s)

    async def initialize(self, options: Any = None, **params: Any) -> dict[str, Any]:
        init = {"processId": None, "capabilities": {}, "initializationOptions": options}
        reply = await self.call("initialize", {**init, **params})
        self.notify("initialized", {})
        return reply

    async def wait_exit(self, limit_s: float = 10.0) -> int:
        async with asyncio.timeout(limit_s):
            return await self.process.wait()

    def check(self) -> None:
        """Every request answered once, every response consumed by the test."""
        self.ledger.check()
        unconsumed = set(self.responses) - self.consumed
        if unconsumed:
            raise StrictnessError(f"responses the test never looked at: {sorted(unconsumed)}")

    async def exit(self, status: int = 0) -> None:
        """`exit`: the process ends with `status`, then `check`."""
        self.notify("exit")
        assert await self.wait_exit() == status
        self.check()

    async def finish(self) -> None:
        """A clean end: `shutdown` answered with null, then `exit` with status 0."""
        assert (await self.call("shutdown"))["result"] is None
        await self.exit()

    def open(self, uri: str, text: str, language: str = "python") -> None:
        self.notify("textDocument/didOpen", open_params(uri, text, language))


def open_params(uri: str, text: str, language: str = "python") -> dict[str, Any]:
    return {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}


def inline_params(uri: str, line: int = 0, character: int = 0) -> dict[str, Any]:
    """`textDocument/inlineCompletion` params, triggered automatically."""
    return {
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": 2},
    }


@contextlib.asynccontextmanager
async def raw_server(
    tmp: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
) -> AsyncIterator[RawServer]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lsp_server",
        "serve",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=server_env(tmp, env),
        limit=64 * 1024 * 1024,
    )
    server = RawServer(process)
    server._reader = asyncio.create_task(server._read())
    server._drain = asyncio.create_task(server._read_stderr())
    try:
        yield server
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        for task in (server._reader, server._drain):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def stderr_text(server: RawServer) -> str:
    """Everything the server wrote to stderr, once it has exited."""
    if server._drain is not None and server.process.returncode is not None:
        with contextlib.suppress(Exception):
            await server._drain
    return server.stderr.decode("utf-8", "replace")
