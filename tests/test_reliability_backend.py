"""Backend faults against a real HTTP server on 127.0.0.1 (RELIABILITY.md case 12),
and the circuit breaker that keeps a dead backend from being hit per keystroke."""

from __future__ import annotations

import socket
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lsp_server.backends.base import GenerationRequest
from lsp_server.backends.breaker import BreakerBackend, CircuitBreaker
from lsp_server.backends.http import map_transport_errors
from lsp_server.errors import (
    BackendError,
    BackendHTTPError,
    BackendProtocolError,
    BackendUnavailable,
)
from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.strict_client import RawServer, inline_params, raw_server

URI = "file:///w/a.py"
OTHER = "file:///w/b.py"


def options(url: str, **completion: Any) -> dict[str, Any]:
    return {
        "backend": {"kind": "openai", "url": url, "model": "m", "readTimeoutMs": 400},
        "completion": {"timeoutMs": 1500, **completion},
    }


def error_statuses(server: RawServer) -> list[str]:
    return [
        n["params"]["detail"]
        for n in server.notifications
        if n["method"] == "ghostls/status" and n["params"]["state"] == "error"
    ]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(status=401, text="no"), "API key"),
        (Reply(status=429, headers={"Retry-After": "7"}, text="slow down"), "retry after 7"),
        (Reply(status=500, text="boom"), "HTTP 500"),
        (Reply(text="a b c d", fault="malformed"), "malformed"),
        (Reply(text="a b c d e f", fault="stall", stall_after=2), "stopped sending"),
        (Reply(text="a", fault="endless"), ""),
        (Reply(text="a" * 10_000_000), ""),
    ],
    ids=["401", "429", "500", "malformed-sse", "stall", "endless", "10MB"],
)
async def test_backend_faults_end_in_one_response_and_a_readable_status(
    tmp_path: Path, reply: Reply, expected: str
) -> None:
    with FakeBackend(Script([reply])) as backend:
        async with raw_server(tmp_path) as server:
            await server.initialize(options(backend.url))
            server.open(URI, "x")
            answer = await server.call(
                "textDocument/inlineCompletion", inline_params(URI, 0, 1), limit_s=30
            )
            assert "result" in answer or "Traceback" not in answer["error"]["message"]
            if expected:
                await server.wait_until(lambda: any(expected in s for s in error_statuses(server)))
            await server.finish()


async def test_a_refused_connection_is_named_and_other_requests_still_answer(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with raw_server(tmp_path) as server:
        await server.initialize(options(f"http://127.0.0.1:{port}"))
        server.open(URI, "x")
        for _ in range(5):  # the breaker answers the later ones without connecting
            await server.call("textDocument/inlineCompletion", inline_params(URI, 0, 1))
        await server.wait_until(lambda: any("refused" in s for s in error_statuses(server)))
        await server.finish()


async def test_other_requests_are_answered_during_a_stalled_stream(tmp_path: Path) -> None:
    script = Script(
        [Reply(text="a b c d", fault="stall", stall_after=1, when="stalls"), Reply(text="ok")]
    )
    with FakeBackend(script) as backend:
        async with raw_server(tmp_path) as server:
            await server.initialize(options(backend.url, timeoutMs=30000))
            server.open(URI, "stalls")
            server.open(OTHER, "z")
            stalled = server.request("textDocument/inlineCompletion", inline_params(URI, 0, 1))
            await server.wait_until(lambda: bool(backend.completion_requests()))
            unknown = await server.call("ghostls/noSuchMethod", {})
            assert unknown["error"]["code"] == -32601
            server.notify("$/cancelRequest", {"id": stalled})
            cancelled = await server.response(stalled)
            assert "result" in cancelled or cancelled["error"]["code"] == -32800
            await server.finish()


# -- the breaker (pure) -------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Failing:
    description = "fake"
    model_name = "m"

    def __init__(self, error: BackendError) -> None:
        self.error = error
        self.calls = 0

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        yield "ok"


async def drain(backend: BreakerBackend) -> list[str]:
    return [chunk async for chunk in backend.stream(None)]  # type: ignore[arg-type]


async def test_the_breaker_opens_after_repeated_failures_and_recovers() -> None:
    clock = Clock()
    inner = Failing(BackendUnavailable("127.0.0.1:9 refused the connection"))
    backend = BreakerBackend(inner, CircuitBreaker(threshold=3, cooldown_s=2, clock=clock))  # type: ignore[arg-type]
    for _ in range(10):
        with pytest.raises(BackendUnavailable, match="refused"):
            await drain(backend)
    assert inner.calls == 3  # the other 7 never reached the backend
    assert backend.breaker.state == "open"
    clock.now = 2.5
    inner.error = None  # type: ignore[assignment]
    assert await drain(backend) == ["ok"]
    assert backend.breaker.state == "closed"


async def test_the_breaker_honours_retry_after_and_ignores_bad_replies() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown_s=1, clock=clock)
    breaker.failure(BackendHTTPError("429", 429, retry_after_s=10))
    clock.now = 5
    assert breaker.state == "open"
    clock.now = 10.5
    assert breaker.state == "half-open"
    other = CircuitBreaker(threshold=1, clock=clock)
    other.failure(BackendProtocolError("malformed"))
    assert other.state == "closed"


def test_transport_errors_map_to_typed_errors_naming_the_endpoint() -> None:
    label = "http://127.0.0.1:8080"
    cases = [
        (httpx.ConnectTimeout("t"), BackendUnavailable, "in time"),
        (httpx.ConnectError("c"), BackendUnavailable, "refused"),
        (httpx.ReadTimeout("r"), BackendError, "stopped sending"),
        (httpx.RemoteProtocolError("p"), BackendProtocolError, "mid-reply"),
    ]
    for raised, kind, words in cases:
        with pytest.raises(kind, match=words), map_transport_errors(label, 1.0):
            raise raised
