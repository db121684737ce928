"""The HTTP read path alone, side by side: httpx's default network backend (anyio) and
ghostls's (`lsp_server/backends/netstream.py`), over the same fast SSE stream.

    PYTHONPATH=. .venv/bin/python -m bench.bench_http_read [--rounds 4] [--rate 2000]

The scripted model of the tests runs in its own process (so its CPU is not counted),
streaming one SSE event per token at `--rate`. This process reads the stream with
`httpx.AsyncClient` and ghostls's SSE parser (`iter_sse_data`), once per transport per
round, alternating, and measures its own thread's CPU time per 1,000 tokens. The two
columns are from the same run, so their ratio is the figure; the absolute values move
with the machine. Writes `bench/results/http_read.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.bench_stream import body
from lsp_server.backends.http import iter_sse_data
from lsp_server.backends.netstream import AsyncioTransport

RESULTS = Path(__file__).parent / "results" / "http_read.json"


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


async def measure(rounds: int, tokens: int, rate: float) -> dict[str, Any]:
    process, url = start_backend(tokens, rate)
    clients = {
        "anyio (httpx default)": httpx.AsyncClient(timeout=30),
        "asyncio (ghostls)": httpx.AsyncClient(
            timeout=30, transport=AsyncioTransport(httpx.Limits())
        ),
    }
    per_1k: dict[str, list[float]] = {name: [] for name in clients}
    share: dict[str, list[float]] = {name: [] for name in clients}
    try:
        for client in clients.values():
            await read_once(client, url)  # connect and warm up
        for _ in range(rounds):
            for name, client in clients.items():
                events, cpu, wall = await read_once(client, url)
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
        for name in clients
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=2500)
    parser.add_argument("--rate", type=float, default=2000)
    args = parser.parse_args()
    report = asyncio.run(measure(args.rounds, args.tokens, args.rate))
    print(f"{'network backend':<24}{'cpu ms / 1k tokens':>20}{'core %':>9}")
    for name, row in report.items():
        print(
            f"{name:<24}{row['cpu_ms_per_1k_tokens_median']:>20.1f}"
            f"{row['core_share_pct_median']:>9.1f}"
        )
    base, ours = (row["cpu_ms_per_1k_tokens_median"] for row in report.values())
    print(f"ratio ghostls / default: {ours / base:.2f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"args": vars(args), "rows": report}, indent=1))


if __name__ == "__main__":
    main()
