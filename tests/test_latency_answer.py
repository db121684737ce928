"""The latency budget over real JSON-RPC: a streaming client whose first line cannot
arrive within `targetLatencyMs` is answered with the words so far, and the rest grows
through updates; a non-streaming client still gets the whole suggestion."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.lsp import openai_options, running_server

URI = "file:///work/budget.py"
SOURCE = "def f(alpha, beta, gamma, delta, epsilon):\n    \n"
BODY = (1, 4)
LINE = "total = alpha + beta + gamma + delta + epsilon"


def slow_line(interval_ms: float) -> Script:
    # About a dozen tokens: the first line takes many budgets to arrive.
    return Script([Reply(text=LINE)], token_interval_ms=interval_ms)


async def test_a_streaming_client_gets_the_words_so_far_when_the_budget_runs_out(
    tmp_path: Path,
) -> None:
    with FakeBackend(slow_line(interval_ms=80)) as backend:
        options = openai_options(backend.url, streaming=True, targetLatencyMs=40)
        async with running_server(tmp_path, options) as session:
            session.open(URI, SOURCE)
            result = await session.inline(URI, *BODY)
            early = result.items[0].insert_text
            # A start of the line, ending at a word boundary, before the line is whole.
            assert early and LINE.startswith(early) and len(early) < len(LINE)
            assert not re.match(r"\w", LINE[len(early)]), early
            await session.wait_until(lambda: any(u["done"] for u in session.updates))
            texts = [update["text"] for update in session.updates]
            assert texts[-1] == LINE
            assert all(LINE.startswith(text) for text in texts)
            assert session.updates[-1]["itemId"] == result.items[0].command.arguments[0]
            assert len(backend.completion_requests()) == 1


async def test_a_non_streaming_client_waits_for_the_whole_suggestion(tmp_path: Path) -> None:
    with FakeBackend(slow_line(interval_ms=20)) as backend:
        options = openai_options(backend.url, targetLatencyMs=40)
        async with running_server(tmp_path, options) as session:
            session.open(URI, SOURCE)
            result = await session.inline(URI, *BODY)
            assert [item.insert_text for item in result.items] == [LINE]
            assert session.updates == []
