"""The network layer under httpx: asyncio sockets without anyio's per-read costs.

httpx reads through httpcore, whose default network backend goes through anyio: every
read opens a cancel scope for its timeout and yields to the loop once more before
reading. A model streaming 2,000 tokens/s means about that many reads a second, and
those costs were about a fifth of the server's CPU. This backend implements httpcore's network
interface on an `asyncio.Protocol`: data the socket has already delivered is returned
without waiting at all, and a timeout is one `call_later`. Everything above it (h11,
connection pooling, keep-alive, TLS verification, httpx's errors) is unchanged.
"""

# httpcore's network interface passes each operation its timeout as an argument.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Iterable
from typing import Any, cast

import httpcore
import httpx

# As httpcore types a socket option: (level, name, value) or (level, name, None, length).
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)

# Stop reading from the socket while this much is buffered and unread (back-pressure
# for a reader that stalls); resume below the low mark.
_HIGH_WATER = 1 << 20
# A spare connection older than this is not used (see `AsyncioNetworkBackend`).
SPARE_MAX_AGE_S = 4.0
_LOW_WATER = 1 << 18


class _StreamProtocol(asyncio.Protocol):
    """Buffers what the socket delivers and wakes the one waiting reader or writer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer: list[bytes] = []
        self.buffered = 0
        self.eof = False
        self.error: Exception | None = None
        self.reading_paused = False
        self.reader: asyncio.Future[None] | None = None
        self.writing_paused = False
        self.drained: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # (some loops' are no subclass)

    def data_received(self, data: bytes) -> None:
        self.buffer.append(data)
        self.buffered += len(data)
        if self.buffered > _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake_reader()
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def _wake_reader(self) -> None:
        if self.reader is not None and not self.reader.done():
            self.reader.set_result(None)

    def take(self, max_bytes: int) -> bytes:
        data = self.buffer[0] if len(self.buffer) == 1 else b"".join(self.buffer)
        self.buffer.clear()
        if len(data) > max_bytes:
            self.buffer.append(data[max_bytes:])
            data = data[:max_bytes]
        self.buffered -= len(data)
        if self.reading_paused and self.buffered < _LOW_WATER and self.transport is not None:
            self.transport.resume_reading()
            self.reading_paused = False
        return data


def _expire(waiter: asyncio.Future[None], error: Exception) -> None:
    if not waiter.done():
        waiter.set_exception(error)


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _StreamProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._loop = asyncio.get_running_loop()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.buffer and not protocol.eof:
            await self._wait(timeout, httpcore.ReadTimeout("timed out reading"), reading=True)
        if protocol.buffer:
            return protocol.take(max_bytes)
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error)) from protocol.error
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._transport.write(buffer)
        if self._protocol.writing_paused:
            await self._wait(timeout, httpcore.WriteTimeout("timed out writing"), reading=False)
            if self._protocol.error is not None:
                raise httpcore.WriteError(str(self._protocol.error))

    async def _wait(self, timeout: float | None, expired: Exception, *, reading: bool) -> None:
        waiter: asyncio.Future[None] = self._loop.create_future()
        if reading:
            self._protocol.reader = waiter
        else:
            self._protocol.drained = waiter
        timer = (
            None if timeout is None else self._loop.call_later(timeout, _expire, waiter, expired)
        )
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            if reading:
                self._protocol.reader = None
            else:
                self._protocol.drained = None

    async def aclose(self) -> None:
        # `close()` alone shuts the socket on a later loop iteration; half-closing first
        # sends the server its end of stream now, so it stops generating at once.
        if not self._transport.is_closing() and self._transport.can_write_eof():
            with contextlib.suppress(OSError, RuntimeError):
                self._transport.write_eof()
        self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                transport = await self._loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as error:
            self._transport.close()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from error
        except (OSError, ssl.SSLError) as error:
            self._transport.close()
            raise httpcore.ConnectError(str(error)) from error
        if transport is None:
            raise httpcore.ConnectError("the TLS handshake did not complete")
        self._protocol.transport = transport
        return AsyncioStream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # Idle, anything readable means the server closed or broke the connection.
            return bool(self._protocol.buffer) or self._protocol.eof
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info in ("ssl_object", "socket") and not self._transport.is_closing():
            return self._transport.get_extra_info(info)  # (a closed TLS one raises)
        return None


_Connected = tuple[asyncio.Transport, _StreamProtocol, float]


class AsyncioNetworkBackend(httpcore.AsyncNetworkBackend):
    """`spare`: keep one connection per endpoint opened ahead, handed out by the next
    connect. A stream closed to stop the model (a cancelled completion) cannot go back
    to the pool, so the request after a cancel would pay a connect (a TCP handshake;
    with TLS, a round trip or two more); with a spare it does not. A spare older than
    `SPARE_MAX_AGE_S` (servers close idle connections: uvicorn after 5 s) or one the
    server closed is dropped, and a fresh connection is made as without."""

    def __init__(self, spare: bool = False) -> None:
        self._spare = spare
        self._spares: dict[tuple[str, int, str | None], asyncio.Task[_Connected]] = {}

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        key = (host, port, local_address)
        connected = self._take_spare(key)
        if connected is None:
            connected = await _open(host, port, timeout, local_address)
        if self._spare:
            spare = asyncio.ensure_future(_open(host, port, timeout, local_address))
            spare.add_done_callback(_retrieve)  # a failed one is no error of anybody's
            self._spares[key] = spare
        transport, protocol, _ = connected
        sock: socket.socket | None = transport.get_extra_info("socket")
        if sock is not None:
            for option in socket_options or ():
                sock.setsockopt(*cast(tuple[Any, ...], option))
        return AsyncioStream(transport, protocol)

    def _take_spare(self, key: tuple[str, int, str | None]) -> _Connected | None:
        task = self._spares.pop(key, None)
        if task is None:
            return None
        if not task.done():
            task.cancel()  # still connecting: no better than a connect of our own
            return None
        if task.cancelled() or task.exception() is not None:
            return None
        transport, protocol, opened = task.result()
        fresh = asyncio.get_running_loop().time() - opened <= SPARE_MAX_AGE_S
        if fresh and not transport.is_closing() and not protocol.eof and not protocol.buffer:
            return transport, protocol, opened
        transport.close()
        return None

    def close_spares(self) -> None:
        for task in self._spares.values():
            if task.done() and not task.cancelled() and task.exception() is None:
                task.result()[0].close()
            else:
                task.cancel()
        self._spares.clear()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _retrieve(task: asyncio.Task[_Connected]) -> None:
    if not task.cancelled():
        task.exception()


async def _open(
    host: str, port: int, timeout: float | None, local_address: str | None
) -> _Connected:
    loop = asyncio.get_running_loop()
    protocol = _StreamProtocol()
    local = (local_address, 0) if local_address else None
    try:
        async with asyncio.timeout(timeout):
            transport, _ = await loop.create_connection(
                lambda: protocol, host, port, local_addr=local
            )
    except TimeoutError as error:
        raise httpcore.ConnectTimeout("timed out connecting") from error
    except OSError as error:
        raise httpcore.ConnectError(str(error)) from error
    return transport, protocol, loop.time()


class AsyncioTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP transport (h11, pooling, keep-alive, TLS, its error types) over
    `AsyncioNetworkBackend`. httpx takes no network backend argument, so the pool it
    would build is built here instead, with the same settings."""

    def __init__(  # not super().__init__(): it would build a pool only to drop it
        self,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | None = None,
        spare: bool = False,
    ) -> None:
        self._network = AsyncioNetworkBackend(spare)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=self._network,
        )

    async def aclose(self) -> None:
        self._network.close_spares()
        await super().aclose()

    async def __aexit__(self, *exc: Any) -> None:  # (httpx's skips `aclose`)
        self._network.close_spares()
        await super().__aexit__(*exc)
