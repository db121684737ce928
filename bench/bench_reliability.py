"""Reliability figures (not pass/fail): `python -m bench.bench_reliability [--seconds N]`.

1. Document sync: random edits (emoji, CJK, CRLF, tabs, no final newline) under
   utf-8, utf-16 and utf-32 against the reference model of
   `tests/test_reliability_sync.py`; edits applied and divergences (must be 0).
2. Keystroke storm: 10,000 keystrokes over 20 documents, each followed by an inline
   completion request, against a fast local backend, twice (the first storm warms up:
   imports, grammars, allocator pools); unanswered and duplicated responses (must be
   0), the server's RSS growth over each storm once it has settled, and its live task
   count against the idle baseline (`ghostls/debugInfo`, `GHOSTLS_DEBUG=1`).
   `--top N` adds tracemalloc's N fastest-growing source lines per storm.
3. Load: 50 documents x 10 requests/s (`--rate`, `--documents`, `--seconds`) against
   a slow backend in its own process, open loop (sent on time whether or not the
   server keeps up), each new request cancelling the previous one of its document;
   the rate actually sent and answered, p50/p95 time from `$/cancelRequest` to the
   cancelled request's response and of an unrelated request sent each round. An
   overloaded server gets `DRAIN_S` to catch up; what is left is counted, not timed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from lsp_server.workspace.document import PositionEncoding
from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.strict_client import RawServer, raw_server
from tests.test_reliability_sync import TALLY, run_edits

DRAIN_S = 20.0  # load: how long an overloaded server may catch up after the sending
REPO = str(Path(__file__).resolve().parent.parent)
PIECES = [*"ab xyz\t\n\r", "\r\n", "😀", "𝄞", "日本", "é"]


def sync_figures(edits: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    TALLY.edits = TALLY.divergences = 0
    while TALLY.edits < edits:
        initial = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 40)))
        batch = [
            (
                rng.random(),
                rng.random(),
                "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4))),
                rng.random() < 0.2,
            )
            for _ in range(50)
        ]
        for encoding in PositionEncoding:
            run_edits(initial, batch, encoding)
    return {"edits": TALLY.edits, "divergences": TALLY.divergences}


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def open_docs(server: RawServer, count: int) -> list[str]:
    uris = [f"file:///bench/doc{i}.py" for i in range(count)]
    for uri in uris:
        server.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": 1,
                    "text": "def f():\n    ",
                }
            },
        )
    return uris


def keystroke(server: RawServer, uri: str, version: int, column: int) -> Any:
    position = {"line": 1, "character": column}
    server.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": position, "end": position}, "text": "x"}],
        },
    )
    return server.request(
        "textDocument/inlineCompletion",
        {
            "textDocument": {"uri": uri},
            "position": {"line": 1, "character": column + 1},
            "context": {"triggerKind": 2},
        },
    )


async def send_storm(
    server: RawServer, uris: list[str], versions: dict[str, int], keystrokes: int
) -> float:
    """`keystrokes` keystrokes round-robin over `uris`, each with a completion request;
    returns once every request is answered (seconds taken)."""
    ids = []
    started = time.perf_counter()
    for n in range(keystrokes):
        uri = uris[n % len(uris)]
        versions[uri] += 1
        ids.append(keystroke(server, uri, versions[uri], 4 + versions[uri] - 2))
        if n % 200 == 0:
            await asyncio.sleep(0)  # let the reader keep up
    await server.wait_until(lambda: all(i in server.responses for i in ids), limit_s=600)
    return time.perf_counter() - started


async def settled_info(server: RawServer, top: int = 0) -> dict[str, Any]:
    """`ghostls/debugInfo` once the server is idle: no task but its own session's."""
    for _ in range(100):
        await asyncio.sleep(0.1)
        info = (await server.call("ghostls/debugInfo", {"top": 0}))["result"]
        if info["generating"] == 0:
            break
    await asyncio.sleep(1.0)  # grace timers, breaker, status notifications
    return (await server.call("ghostls/debugInfo", {"top": top}))["result"]


async def storm(
    tmp: Path, keystrokes: int = 10_000, documents: int = 20, top: int = 0
) -> dict[str, Any]:
    """Two identical storms: the first warms up (imports, grammars, allocator pools),
    the growth that matters is the second's."""
    env = {"GHOSTLS_DEBUG": "1", **({"GHOSTLS_TRACEMALLOC": "1"} if top else {})}
    with FakeBackend(Script([Reply(text="return 1")])) as backend:
        async with raw_server(tmp, env=env) as server:
            await server.initialize(
                {"backend": {"kind": "openai", "url": backend.url, "model": "m"}}
            )
            uris = open_docs(server, documents)
            idle = await settled_info(server, top)
            versions = dict.fromkeys(uris, 1)
            first_s = await send_storm(server, uris, versions, keystrokes)
            warm = await settled_info(server, top)
            # The same storm again, over fresh documents with the same text.
            for uri in uris:
                server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
            uris = open_docs(server, documents)
            versions = dict.fromkeys(uris, 1)
            second_s = await send_storm(server, uris, versions, keystrokes)
            after = await settled_info(server, top)
            problems = server.ledger.problems()
            server.consumed.update(server.responses)
            await server.call("shutdown")
            server.notify("exit")
            code = await server.wait_exit()
            figures: dict[str, Any] = {
                "keystrokes_per_storm": keystrokes,
                "documents": documents,
                "storm_seconds": [round(first_s, 2), round(second_s, 2)],
                "unanswered": sum("no response" in p for p in problems),
                "duplicated": sum("responses to" in p for p in problems),
                "rss_idle_mb": round(idle["rssKb"] / 1024, 1),
                "rss_growth_first_storm_mb": round((warm["rssKb"] - idle["rssKb"]) / 1024, 2),
                "rss_growth_second_storm_mb": round((after["rssKb"] - warm["rssKb"]) / 1024, 2),
                "tasks_idle": idle["tasks"],
                "tasks_after": after["tasks"],
                "task_names_after": after["taskNames"],
                "engine_after": {k: after[k] for k in ("live", "recent", "tickets")},
                "backend_requests": len(backend.completion_requests()),
                "exit_code": code,
            }
            if top:
                figures["traced_kb"] = [idle["tracedKb"], warm["tracedKb"], after["tracedKb"]]
                figures["growth_first"] = warm["growth"]
                figures["growth_second"] = after["growth"]
            return figures


def p50(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1) if values else float("nan")


def p95(values: list[float]) -> float:
    return (
        round(statistics.quantiles(values, n=20)[-1] * 1000, 1)
        if len(values) >= 20
        else float("nan")
    )


@contextlib.asynccontextmanager
async def backend_process(script: dict[str, Any]) -> AsyncIterator[str]:
    """The fake backend in its own process (its own core share); yields its URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.fake_backend",
        "--port",
        "0",
        "--script",
        json.dumps(script),
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode()
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        process.kill()
        await process.wait()


async def load(
    tmp: Path, seconds: float, documents: int = 50, rate: float = 10.0, profile: str = ""
) -> dict[str, Any]:
    """Open loop: every 1/rate s each document gets a keystroke and a completion request
    (cancelling its previous one if unanswered), whether or not the server keeps up;
    an unrelated request each round measures how responsive the server stays."""
    slow = {"replies": [{"text": "a b c d e f g h i j"}], "ttft_ms": 300, "token_interval_ms": 50}
    env = {"GHOSTLS_DEBUG": "1", **({"GHOSTLS_PROFILE": profile} if profile else {})}
    async with backend_process(slow) as url, raw_server(tmp, env=env) as server:
        await server.initialize({"backend": {"kind": "openai", "url": url, "model": "m"}})
        uris = open_docs(server, documents)
        idle = await settled_info(server)
        versions = dict.fromkeys(uris, 1)
        live: dict[str, Any] = {}
        cancel_latency: list[float] = []
        other_latency: list[float] = []
        waits: list[asyncio.Task[None]] = []

        async def timed(msg_id: Any, sent: float, into: list[float]) -> None:
            await server.wait_until(lambda: msg_id in server.responses, limit_s=10**6)
            server.consumed.add(msg_id)
            into.append(time.perf_counter() - sent)

        tick = 1 / rate
        started = time.perf_counter()
        rounds = cancels_sent = 0
        while time.perf_counter() < started + seconds:
            rounds += 1
            for uri in uris:
                previous = live.get(uri)
                if previous is not None and previous not in server.responses:
                    # As an editor does: cancel the old request, then send the edit.
                    server.notify("$/cancelRequest", {"id": previous})
                    cancels_sent += 1
                    waits.append(
                        asyncio.create_task(timed(previous, time.perf_counter(), cancel_latency))
                    )
                versions[uri] += 1
                live[uri] = keystroke(server, uri, versions[uri], 4 + versions[uri] - 2)
            other = server.request("ghostls/unrelated", {})
            waits.append(asyncio.create_task(timed(other, time.perf_counter(), other_latency)))
            # The next round at its own time; a late round is sent at once, not skipped.
            await asyncio.sleep(max(0.0, started + rounds * tick - time.perf_counter()))
        sending_s = time.perf_counter() - started
        # An overloaded server gets DRAIN_S to catch up; what is still unanswered then
        # is counted (and the session killed), not waited for.
        ids = [*live.values(), *(m for m in server.ledger.sent if m not in server.responses)]
        with contextlib.suppress(TimeoutError):
            await server.wait_until(lambda: all(i in server.responses for i in ids), DRAIN_S)
        drained_s = time.perf_counter() - started
        unanswered = [i for i in server.ledger.sent if i not in server.responses]
        for wait in waits:
            wait.cancel()
        tasks_after: Any = "not settled (overloaded)"
        problems: list[str] = []
        early: Any = "not settled (overloaded)"
        generations: Any = None
        if not unanswered:
            settled = await settled_info(server)
            tasks_after, early = settled["tasks"], settled.get("earlyAnswers")
            generations = settled.get("startedGenerations")
            problems = server.ledger.problems()
            server.consumed.update(server.responses)
            await server.call("shutdown")
            server.notify("exit")
            await server.wait_exit()
        completions = rounds * documents
        return {
            "seconds": seconds,
            "documents": documents,
            "target_rate_per_doc": rate,
            "achieved_send_rate_per_doc": round(rounds / sending_s, 2),
            "completion_requests": completions,
            "unanswered_after_drain": len(unanswered),
            "answered_per_s": round((len(server.ledger.sent) - len(unanswered)) / drained_s, 1),
            "cancels_sent_answered": [cancels_sent, len(cancel_latency)],
            "cancel_p50_ms": p50(cancel_latency),
            "cancel_p95_ms": p95(cancel_latency),
            "unrelated_timed": len(other_latency),
            "unrelated_p50_ms": p50(other_latency),
            "unrelated_p95_ms": p95(other_latency),
            "problems": len(problems),
            "answered_before_running": early,
            "model_requests_started": generations,
            "tasks_idle_before_after": [idle["tasks"], tasks_after],
        }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0, help="load phase")
    parser.add_argument("--rate", type=float, default=10.0, help="load: requests/s per document")
    parser.add_argument("--documents", type=int, default=50, help="load: documents")
    parser.add_argument("--keystrokes", type=int, default=10_000, help="per storm")
    parser.add_argument("--edits", type=int, default=30_000)
    parser.add_argument("--top", type=int, default=0, help="storm: tracemalloc growth lines")
    parser.add_argument("--profile", default="", help="load: the server's cProfile to this path")
    parser.add_argument("--only", choices=["sync", "storm", "load"], action="append")
    args = parser.parse_args()
    phases = args.only or ["sync", "storm", "load"]
    if "sync" in phases:
        print("sync", sync_figures(args.edits), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if "storm" in phases:
            print("storm", await storm(Path(tmp), args.keystrokes, top=args.top), flush=True)
        if "load" in phases:
            figures = await load(Path(tmp), args.seconds, args.documents, args.rate, args.profile)
            print("load", figures, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
