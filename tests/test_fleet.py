"""Fleets over real HTTP: OpenAI backends on scripted servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

import pytest

from lsp_server.backends.base import GenerationRequest
from lsp_server.backends.fleet import FleetBackend
from lsp_server.backends.openai import OpenAICompletionsBackend
from lsp_server.context.cursor import CursorContext
from lsp_server.errors import BackendError
from lsp_server.prompt.budget import EstimatingTokenizer
from lsp_server.prompt.build import PromptBudget, build_prompt
from lsp_server.prompt.templates import TEMPLATES
from lsp_server.settings import BackendSettings
from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.generation import collect, text_and_end

CONTEXT = CursorContext("file:///a.py", "/a.py", "python", 1, "x = ", "\n", ())
PROMPT = build_prompt(CONTEXT, TEMPLATES["qwen"], PromptBudget(), EstimatingTokenizer())
REQUEST = GenerationRequest(prompt=PROMPT, max_tokens=8)


def fleet(*urls: str, now: list[float] | None = None) -> FleetBackend:
    base = BackendSettings(kind="openai", model="m", connect_timeout_ms=500)
    clock = (lambda: now[0]) if now is not None else None
    backends = [OpenAICompletionsBackend(dataclasses.replace(base, url=url)) for url in urls]
    return FleetBackend(backends, clock=clock) if clock else FleetBackend(backends)


async def text(backend: FleetBackend) -> str:
    return await collect(backend.stream(REQUEST))


def failing() -> Script:
    return Script([Reply(status=500)])


async def test_a_failing_endpoint_is_retried_elsewhere_and_rested() -> None:
    now = [100.0]
    with FakeBackend(failing()) as bad, FakeBackend(Script([Reply("1")])) as good:
        backend = fleet(bad.url, good.url, now=now)
        try:
            assert [await text(backend) for _ in range(3)] == ["1", "1", "1"]
            assert len(bad.completion_requests()) == 1  # resting after its failure
            assert len(good.completion_requests()) == 3
            now[0] += 1.5  # the back-off (1 s) is over: it is tried again, fails again
            assert await text(backend) == "1"
            assert len(bad.completion_requests()) == 2
            assert backend.endpoints[0].unhealthy_until == pytest.approx(now[0] + 2.0)
        finally:
            await backend.aclose()


async def test_requests_spread_over_the_fewest_in_flight() -> None:
    slow = Script([Reply("a b c d")], token_interval_ms=200)
    with FakeBackend(slow) as one, FakeBackend(slow) as two:
        backend = fleet(one.url, two.url)
        first, second = backend.stream(REQUEST), backend.stream(REQUEST)
        try:
            assert await anext(first) == "a" and await anext(second) == "a"
            assert len(one.completion_requests()) == len(two.completion_requests()) == 1
        finally:
            await first.aclose()
            await second.aclose()
            await backend.aclose()
        for server in (one, two):  # closing the fleet's stream closed the endpoint's
            assert await asyncio.to_thread(
                server.wait_for, lambda s: s.completion_requests()[0].disconnected, 10
            )


async def test_every_endpoint_failing_raises_after_one_retry() -> None:
    with FakeBackend(failing()) as one, FakeBackend(failing()) as two:
        backend = fleet(one.url, two.url)
        try:
            with pytest.raises(BackendError):
                await text(backend)
            assert len(one.completion_requests()) + len(two.completion_requests()) == 2
        finally:
            with contextlib.suppress(Exception):
                await backend.aclose()


@pytest.mark.parametrize("reason", ["stop", "length"])
async def test_a_fleet_ends_its_stream_with_the_endpoints_end_event(reason: str) -> None:
    """The endpoint's `StreamEnd` (from `finish_reason`) comes through the fleet, once
    and after all of the text; the prompt facts are the endpoint's."""
    with FakeBackend(Script([Reply("return a + b", finish_reason=reason)])) as server:
        backend = fleet(server.url)
        try:
            text, end = await text_and_end(backend.stream(REQUEST))
            assert text == "return a + b" and end.ran_out is (reason == "length")
            facts = backend.prompt_facts()
            assert facts == backend.endpoints[0].backend.prompt_facts()
            assert facts.model_name == "m" and facts.template_hint == ""
        finally:
            await backend.aclose()
