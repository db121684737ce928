"""The latency controller against a fixed debounce, on a slow and a fast backend.

    .venv/bin/python -m bench.bench_latency [--words 12]

The real server over stdio, the scripted HTTP model of the tests in this process
(slow: first token after 400 ms, then 30 tokens/s; fast: 30 ms, 1,000 tokens/s; it
stops at the request's `max_tokens` as a real server does). A typing replay: words
typed a key every 110 ms, each key a didChange and an inline request, then a pause
until the answer. Latency = request sent → answer (the first text the editor shows),
for the request at the end of each word (the ones the user waits on; those during a
word are cancelled by the next key). Configurations: `debounceMs: 75` (fixed) and
`auto` (the controller), both with `targetLatencyMs: 500`, for a non-streaming client
(the answer holds the whole suggestion) and a streaming one (the answer may be the
words so far, the rest comes as updates). Also counts the backend requests started.
Medians over `--runs` replays. Writes `bench/results/latency.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.lsp import openai_options, running_server

SOURCE = "def f(a, b):\n    \n"
REPLY = "total = a + b\n    if total > 10:\n        return total\n    return total * 2\n" * 3
BACKENDS = {"slow": (400.0, 1000 / 30), "fast": (30.0, 1.0)}
KEY_GAP_S = 0.11
RESULTS = Path(__file__).parent / "results" / "latency.json"


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def replay(
    backend: FakeBackend, debounce: Any, words: int, streaming: bool
) -> dict[str, Any]:
    completion = {"debounceMs": debounce, "targetLatencyMs": 500, "timeoutMs": 20_000}
    options = {**openai_options(backend.url, **completion), "streaming": streaming}
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with running_server(Path(tmp), options) as s:
            uri = (Path(tmp) / "replay.py").as_uri()
            s.open(uri, SOURCE)
            backend.reset()
            column = 4
            for word in range(words):
                pending = []
                for char in f"v{word} ":
                    s.type_text(uri, 1, column, char)
                    column += 1
                    pending.append(s.inline(uri, 1, column))
                    await asyncio.sleep(KEY_GAP_S)
                sent = time.monotonic() - KEY_GAP_S
                results = await asyncio.gather(*pending, return_exceptions=True)
                answer = results[-1]
                if not isinstance(answer, BaseException) and answer.items:
                    latencies.append((time.monotonic() - sent) * 1000)
    return {
        "answered": len(latencies),
        "words": words,
        "p50_ms": _quantile(latencies, 0.5) if latencies else None,
        "p75_ms": _quantile(latencies, 0.75) if latencies else None,
        "backend_requests": len(backend.completion_requests()),
    }


def _median(values: list[Any]) -> Any:
    present = sorted(value for value in values if value is not None)
    return present[len(present) // 2] if present else None


async def measure(words: int, runs: int) -> list[dict[str, Any]]:
    rows = []
    for name, (ttft_ms, interval_ms) in BACKENDS.items():
        script = Script([Reply(text=REPLY)], ttft_ms=ttft_ms, token_interval_ms=interval_ms)
        with FakeBackend(script) as backend:
            for streaming in (False, True):
                for label, debounce in (("fixed 75 ms", 75), ("controller", "auto")):
                    done = [await replay(backend, debounce, words, streaming) for _ in range(runs)]
                    row = {key: _median([r[key] for r in done]) for key in done[0]}
                    row["p75_ms_runs"] = [r["p75_ms"] for r in done]
                    client = "streaming" if streaming else "answer"
                    rows.append({"backend": name, "client": client, "mode": label, **row})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--words", type=int, default=12)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    rows = asyncio.run(measure(args.words, args.runs))
    print(
        f"{'backend':<8}{'client':<11}{'mode':<13}{'answered':>9}{'p50 ms':>9}{'p75 ms':>9}"
        f"{'requests':>9}"
    )
    for row in rows:
        p50 = f"{row['p50_ms']:.0f}" if row["p50_ms"] is not None else "-"
        p75 = f"{row['p75_ms']:.0f}" if row["p75_ms"] is not None else "-"
        print(
            f"{row['backend']:<8}{row['client']:<11}{row['mode']:<13}{row['answered']:>5}/{row['words']:<3}"
            f"{p50:>9}{p75:>9}{row['backend_requests']:>9}"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"args": vars(args), "target_p75_ms": 500, "rows": rows}))


if __name__ == "__main__":
    main()
