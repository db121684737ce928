"""The machinery the fake model servers of the tests share: an asyncio stream server
that stops without leaking a socket, `ThreadedServer` (one on its own thread and event
loop, with a condition tests wait on), and the bits of HTTP/1.1 they all speak.

`asyncio.start_server` plus cancelling every task at the end leaked now and then: a
handler task cancelled before its first step never runs its cleanup, and in Python
3.11 an accept still under way when `Server.close()` runs fails an assertion and
drops the socket it accepted. Either shows up as a ResourceWarning in a later test.
Here every connection's transport is recorded the moment asyncio makes it, and
`close` ends connections rather than tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Self

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class StreamServer:
    def __init__(self, server: asyncio.Server, transports: set[asyncio.BaseTransport]) -> None:
        self._server = server
        self._transports = transports

    @property
    def port(self) -> int:
        return int(self._server.sockets[0].getsockname()[1])

    @classmethod
    async def listen(cls, handler: Handler, host: str, port: int) -> StreamServer:
        """`asyncio.start_server(handler, host, port)`, with its connections recorded."""
        transports: set[asyncio.BaseTransport] = set()

        def connection() -> asyncio.StreamReaderProtocol:
            return _RecordedProtocol(transports, asyncio.StreamReader(), handler)

        loop = asyncio.get_running_loop()
        return cls(await loop.create_server(connection, host, port), transports)

    async def close(self) -> None:
        """Stop accepting, end every connection, wait for every other task on this loop
        to finish, then close the listening socket."""
        current = asyncio.current_task()
        for listening in self._server.sockets:
            # Not `Server.close()` yet: an accept already under way must find it open.
            asyncio.get_running_loop().remove_reader(listening.fileno())
        for _ in range(200):  # ≤ 2 s
            # An aborted connection ends its handler (it reads the end of the stream);
            # one accepted meanwhile gets its transport, and is aborted, next round.
            for transport in list(self._transports):
                if not transport.is_closing():
                    transport.abort()
            tasks = [task for task in asyncio.all_tasks() if task is not current]
            if not tasks and not self._transports:  # (each gone once its socket is)
                break
            await asyncio.sleep(0.01)
        else:  # a handler that ignores its closed connection: a bug in that fake
            raise RuntimeError(f"handlers still running after their connections closed: {tasks}")
        self._server.close()


class _RecordedProtocol(asyncio.StreamReaderProtocol):
    """What `asyncio.start_server` builds per connection, recording its transport."""

    def __init__(self, transports: set[asyncio.BaseTransport], *args: Any) -> None:
        super().__init__(*args)
        self._transports = transports
        self._made: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._made = transport
        self._transports.add(transport)
        super().connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._made is not None:
            self._transports.discard(self._made)
        super().connection_lost(exc)


class ThreadedServer:
    """A `StreamServer` on its own thread and event loop. Subclasses answer one request
    per `_serve_one` call (True: the connection stays open for another) and call
    `_notify` after every change that a `wait_for` predicate may read."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        # Re-entrant: `wait_for` predicates may call the locking accessors.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: StreamServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        ready = threading.Event()

        def run() -> None:
            loop = self._loop = asyncio.new_event_loop()
            self._server = loop.run_until_complete(
                StreamServer.listen(self._serve, self.host, self.port)
            )
            self.port = self._server.port
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, predicate: Callable[[Self], bool], timeout: float = 10.0) -> bool:
        """Block until `predicate(self)` holds (woken by every `_notify`)."""
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
        raise NotImplementedError


async def read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], dict[str, Any]]:
    """One HTTP/1.1 request: its method, path, headers (names in lower case) and JSON body."""
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines if line)
    }
    length = int(headers.get("content-length", "0") or 0)
    raw = await reader.readexactly(length) if length else b""
    body: dict[str, Any] = json.loads(raw) if raw else {}
    return method, path, headers, body


async def send_json(
    writer: asyncio.StreamWriter,
    payload: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> bool:
    """Write a JSON answer; True, so a route can `return await send_json(...)` to keep
    the connection open."""
    body = json.dumps(payload).encode()
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    writer.write(
        f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n{extra}\r\n".encode()
        + body
    )
    await writer.drain()
    return True


async def wait_or_eof(eof: asyncio.Future[bytes], delay_ms: float) -> bool:
    """Sleep `delay_ms`; True if the client disconnected meanwhile (or already had)."""
    if eof.done():
        return True
    if delay_ms <= 0:
        await asyncio.sleep(0)
        return eof.done()
    done, _ = await asyncio.wait({eof}, timeout=delay_ms / 1000)
    return bool(done)
