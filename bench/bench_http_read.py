"""The HTTP read path alone, side by side: httpx's default network backend (anyio) and
ghostls's (`lsp_server/backends/netstream.py`), over the same fast SSE stream.

    PYTHONPATH=. .venv/bin/python -m bench.bench_http_read [--rounds 4] [--rate 2000]

The scripted model of the tests runs in its own process (so its CPU is not counted),
streaming one SSE event per token at `--rate`. This process reads the stream with
`httpx.AsyncClient` and ghostls's SSE parser (`iter_sse_data`), once per transport per
round, alternating, and measures its own thread's CPU time per 1,000 tokens. The
rows are from the same run, so their ratios are the figure; the absolute values move
with the machine.

A third row is the floor under any Python reader on this event loop: a bare
`asyncio.Protocol` with no HTTP library, which skips the response head, splits the
body into SSE lines as it arrives and JSON-decodes each event, nothing else (no
chunked encoding, status, timeouts or errors: not a client). What it costs is the
event loop's wake-up, the socket read and the decoding, once per event.
Writes `bench/results/http_read.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.bench_stream import body
from lsp_server.backends.http import iter_sse_data
from lsp_server.backends.netstream import AsyncioTransport

RESULTS = Path(__file__).parent / "results" / "http_read.json"
FLOOR = "floor: bare asyncio protocol"


def start_backend(tokens: int, rate: float) -> tuple[subprocess.Popen[str], str]:
    script = {"replies": [{"text": body(tokens)}], "token_interval_ms": 1000 / rate}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_backend", "--script", json.dumps(script)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().split()[-1]
    return process, f"http://127.0.0.1:{port}"


async def read_once(client: httpx.AsyncClient, url: str) -> tuple[int, float, float]:
    """Events read, this thread's CPU seconds, wall seconds."""
    request = {"prompt": "x", "stream": True, "max_tokens": 1_000_000}
    cpu, wall, events = time.thread_time(), time.monotonic(), 0
    async with client.stream("POST", f"{url}/v1/completions", json=request) as response:
        async for _ in iter_sse_data(response, "bench"):
            events += 1
    return events, time.thread_time() - cpu, time.monotonic() - wall


class _FloorProtocol(asyncio.Protocol):
    """The least a reader does: `data:` lines of the body, handed over per read."""

    def __init__(self) -> None:
        self.head = b""
        self.in_body = False
        self.rest = b""
        self.events: list[bytes] = []
        self.ended = False
        self.waiter: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        if not self.in_body:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            self.in_body, data = True, self.head[end + 4 :]
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        self.events += [line[5:].strip() for line in lines if line.startswith(b"data:")]
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


async def read_floor(url: str) -> tuple[int, float, float]:
    """The same stream read by `_FloorProtocol`: events, CPU seconds, wall seconds."""
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps({"prompt": "x", "stream": True, "max_tokens": 1_000_000}).encode()
    decode = json.JSONDecoder().raw_decode
    loop = asyncio.get_running_loop()
    cpu, wall, events = time.thread_time(), time.monotonic(), 0
    transport, protocol = await loop.create_connection(_FloorProtocol, host, int(port))
    transport.write(
        b"POST /v1/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (host.encode(), len(payload), payload)
    )
    try:
        while not protocol.ended:
            for data in protocol.events:
                if data != b"[DONE]":
                    decode(data.decode())
                    events += 1
            protocol.events = []
            protocol.waiter = loop.create_future()
            await protocol.waiter
    finally:
        transport.close()
    return events, time.thread_time() - cpu, time.monotonic() - wall


async def measure(rounds: int, tokens: int, rate: float) -> dict[str, Any]:
    process, url = start_backend(tokens, rate)
    clients = {
        "anyio (httpx default)": httpx.AsyncClient(timeout=30),
        "asyncio (ghostls)": httpx.AsyncClient(
            timeout=30, transport=AsyncioTransport(httpx.Limits())
        ),
    }
    readers: dict[str, Callable[[], Awaitable[tuple[int, float, float]]]] = {
        name: functools.partial(read_once, client, url) for name, client in clients.items()
    }
    readers[FLOOR] = functools.partial(read_floor, url)
    per_1k: dict[str, list[float]] = {name: [] for name in readers}
    share: dict[str, list[float]] = {name: [] for name in readers}
    try:
        for read in readers.values():
            await read()  # connect and warm up
        for _ in range(rounds):
            for name, read in readers.items():
                events, cpu, wall = await read()
                per_1k[name].append(cpu * 1000 / events * 1000)
                share[name].append(100 * cpu / wall)
    finally:
        for client in clients.values():
            await client.aclose()
        process.kill()
        process.wait()
    return {
        name: {
            "cpu_ms_per_1k_tokens_median": statistics.median(per_1k[name]),
            "core_share_pct_median": statistics.median(share[name]),
            "runs": per_1k[name],
        }
        for name in readers
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=2500)
    parser.add_argument("--rate", type=float, default=2000)
    args = parser.parse_args()
    report = asyncio.run(measure(args.rounds, args.tokens, args.rate))
    print(f"{'reader':<32}{'cpu ms / 1k tokens':>20}{'core %':>9}")
    for name, row in report.items():
        print(
            f"{name:<32}{row['cpu_ms_per_1k_tokens_median']:>20.1f}"
            f"{row['core_share_pct_median']:>9.1f}"
        )
    base, ours, floor = (row["cpu_ms_per_1k_tokens_median"] for row in report.values())
    print(f"ratio ghostls / default: {ours / base:.2f}; floor / ghostls: {floor / ours:.2f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"args": vars(args), "rows": report}, indent=1))


if __name__ == "__main__":
    main()
