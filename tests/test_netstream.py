"""httpx over ghostls's asyncio network backend (`lsp_server/backends/netstream.py`),
against real servers on 127.0.0.1: streamed bodies, TLS (a certificate made here with
the `openssl` tool), a keep-alive connection the server closed, timeouts, and closing
a response mid-stream."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from lsp_server.backends.netstream import AsyncioTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """A server on 127.0.0.1 (its port); on leaving, every connection it accepted has
    been handled to the end and closed."""
    handlers: list[asyncio.Task[None]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.create_task(handle(reader, writer)))

    server = await asyncio.start_server(accepted, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
        async with asyncio.timeout(5):
            await asyncio.gather(*handlers, return_exceptions=True)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)


async def stream_events(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Three SSE events, each flushed on its own, then the end of the body."""
    await read_request(reader)
    writer.write(STREAM_HEAD)
    for index in range(3):
        writer.write(chunk(b'data: {"n": %d}\n\n' % index))
        await writer.drain()
        await asyncio.sleep(0)
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    writer.close()


def client(ssl_context: ssl.SSLContext | None = None, read_s: float = 5.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=AsyncioTransport(httpx.Limits(), ssl_context=ssl_context),
        timeout=httpx.Timeout(5.0, read=read_s),
    )


async def test_a_streamed_body_arrives_whole_and_in_order() -> None:
    async with (
        serving(stream_events) as port,
        client() as http,
        http.stream("GET", f"http://127.0.0.1:{port}/events") as response,
    ):
        body = b"".join([part async for part in response.aiter_bytes()])
    assert body == b'data: {"n": 0}\n\ndata: {"n": 1}\n\ndata: {"n": 2}\n\n'


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl tool makes this test's certificate; it is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


async def test_tls_is_verified_and_used(certificate: tuple[Path, Path]) -> None:
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    async with (
        serving(stream_events, server_tls(certificate)) as port,
        client(trusting) as http,
        http.stream("GET", f"https://127.0.0.1:{port}/events") as response,
    ):
        assert response.extensions["network_stream"].get_extra_info("ssl_object") is not None
        body = b"".join([part async for part in response.aiter_bytes()])
    assert body.count(b"data:") == 3


async def test_an_untrusted_certificate_is_refused(certificate: tuple[Path, Path]) -> None:
    async with serving(stream_events, server_tls(certificate)) as port, client() as http:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await http.get(f"https://127.0.0.1:{port}/events")


async def test_a_keep_alive_connection_the_server_closed_is_not_reused() -> None:
    connections = 0

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # no `Connection: close`: the client thinks it may keep it

    async with serving(answer_once) as port, client() as http:
        first = await http.get(f"http://127.0.0.1:{port}/")
        network = first.extensions["network_stream"]
        async with asyncio.timeout(5):
            # The client's own state (the server's end of stream has arrived): no event
            # to wait on.
            while not network.get_extra_info("is_readable"):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        second = await http.get(f"http://127.0.0.1:{port}/")
    assert (first.text, second.text, connections) == ("ok", "ok", 2)


async def test_a_stalled_body_times_out() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(STREAM_HEAD + chunk(b"data: {}\n\n"))
        await writer.drain()
        await reader.read()  # nothing more until the client goes
        writer.close()

    async with (
        serving(stall) as port,
        client(read_s=0.2) as http,
        http.stream("GET", f"http://127.0.0.1:{port}/") as response,
    ):
        with pytest.raises(httpx.ReadTimeout):
            async for _ in response.aiter_bytes():
                pass


async def test_a_refused_connection_is_a_connect_error() -> None:
    async with serving(stream_events) as port:
        pass  # closed again: nothing listens on the port now
    async with client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/")


async def test_closing_a_response_mid_stream_ends_the_connection_at_once() -> None:
    """The server sees the end of the stream while it is still writing: the model is
    told to stop without waiting for the loop to get round to closing the socket."""
    ended = asyncio.Event()

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(STREAM_HEAD)
        try:
            while not reader.at_eof():
                writer.write(chunk(b"data: {}\n\n"))
                await writer.drain()
                await asyncio.sleep(0.001)
        except ConnectionError:
            pass  # the client's end of stream, then a reset for what came after it
        ended.set()
        writer.close()

    async with serving(endless) as port, client() as http:
        async with http.stream("GET", f"http://127.0.0.1:{port}/") as response:
            async for _ in response.aiter_bytes():
                break
        async with asyncio.timeout(5):
            await ended.wait()


async def test_the_request_after_a_stream_closed_mid_way_goes_out_on_a_spare_connection() -> None:
    """A completion stopped mid-stream closes its connection (the model must stop);
    the next request does not wait for a connect: it takes the connection opened
    ahead, and a new spare is opened for the one after."""
    requests: list[int] = []  # the connection (in order of acceptance) of each request
    accepted = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        connection = accepted
        try:
            await read_request(reader)
        except asyncio.IncompleteReadError:
            return  # a spare closed unused
        requests.append(connection)
        writer.write(STREAM_HEAD + chunk(b"data: 0\n\n"))
        await writer.drain()
        if len(requests) == 1:
            await reader.read()  # streams until the client leaves
            return
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    transport = AsyncioTransport(httpx.Limits(), spare=True)
    async with (
        serving(handler) as port,
        httpx.AsyncClient(transport=transport, timeout=5.0) as http,
    ):
        url = f"http://127.0.0.1:{port}/v1/completions"
        async with http.stream("POST", url) as response:
            async for _ in response.aiter_bytes():
                break  # stopped mid-stream: the connection is closed, not pooled
        spares = list(transport._network._spares.values())
        assert len(spares) == 1
        await asyncio.wait(spares)
        assert (await http.post(url)).status_code == 200
        assert len(transport._network._spares) == 1  # the next one, opened ahead
    assert requests == [1, 2]
    assert accepted == 3
