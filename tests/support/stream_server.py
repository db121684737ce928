"""An asyncio stream server that stops without leaking a socket, for the fake model
servers of the tests (each runs on its own thread and event loop).

`asyncio.start_server` plus cancelling every task at the end leaked now and then: a
handler task cancelled before its first step never runs its cleanup, and in Python
3.11 an accept still under way when `Server.close()` runs fails an assertion and
drops the socket it accepted. Either shows up as a ResourceWarning in a later test.
Here every connection's transport is recorded the moment asyncio makes it, and
`close` ends connections rather than tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

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
