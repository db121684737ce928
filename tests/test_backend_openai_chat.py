"""`openai-chat` and chat on the `openai` kind, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest

from lsp_server.backends.base import ChatRequest, GenerationRequest
from lsp_server.backends.factory import create_backend, create_chat_backend
from lsp_server.backends.openai_chat import OpenAIChatBackend
from lsp_server.backends.reasoning import ReasoningBudgetExhausted
from lsp_server.context.cursor import CursorContext
from lsp_server.errors import BackendHTTPError, BackendProtocolError, GhostlsError
from lsp_server.prompt.budget import EstimatingTokenizer
from lsp_server.prompt.build import PromptBudget, build_prompt
from lsp_server.prompt.messages import ChatMessage
from lsp_server.prompt.templates import TEMPLATES
from lsp_server.settings import BackendSettings
from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.generation import collect, text_and_end

QUESTION = ChatRequest(messages=(ChatMessage("user", "explain this"),), max_tokens=64)


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    with FakeBackend() as backend:
        yield backend


def settings(url: str, kind: str = "openai-chat", model: str = "qwen2.5-coder") -> BackendSettings:
    return BackendSettings(kind=kind, url=url, model=model, read_timeout_ms=2000)  # type: ignore[arg-type]


async def disconnected(fake: FakeBackend) -> bool:
    """Wait (off the loop, which must keep running to close the socket) for the
    server to see the client go away."""
    return await asyncio.to_thread(fake.wait_for, lambda f: f.requests[-1].disconnected)


def generation(prefix: str, suffix: str = "\n") -> GenerationRequest:
    context = CursorContext("file:///a.py", "/a.py", "python", 1, prefix, suffix)
    prompt = build_prompt(context, TEMPLATES["qwen"], PromptBudget(), EstimatingTokenizer())
    return GenerationRequest(prompt=prompt, max_tokens=32)


@pytest.mark.parametrize("kind", ["openai-chat", "openai", "llamacpp"])
async def test_chat_streams_the_reply_on_every_openai_style_kind(
    fake: FakeBackend, kind: str
) -> None:
    fake.set_script(Script([Reply("It adds two numbers.")]))
    async with contextlib.aclosing(create_chat_backend(settings(fake.url, kind))) as backend:
        assert await collect(backend.chat(QUESTION)) == "It adds two numbers."
    (record,) = fake.completion_requests()
    assert record.path == "/v1/chat/completions"
    assert record.body["messages"] == [{"role": "user", "content": "explain this"}]
    assert record.body["stream"] is True


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_fields_never_reach_the_editor(fake: FakeBackend, field: str) -> None:
    fake.set_script(
        Script([Reply("return a + b", reasoning="We need to add them.", reasoning_field=field)])
    )
    async with contextlib.aclosing(
        OpenAIChatBackend(settings(fake.url, model="gpt-oss-20b"))
    ) as backend:
        assert await collect(backend.chat(QUESTION)) == "return a + b"
    body = fake.completion_requests()[0].body
    assert body["reasoning_effort"] == "low"
    assert body["max_tokens"] > QUESTION.max_tokens  # room for the thinking


async def test_harmony_analysis_channel_inline_is_dropped(fake: FakeBackend) -> None:
    raw = (
        "<|channel|>analysis<|message|>User wants sum.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Sum of a and b."
    )
    fake.set_script(Script([Reply(raw)]))
    async with contextlib.aclosing(
        OpenAIChatBackend(settings(fake.url, model="gpt-oss-120b"))
    ) as backend:
        assert await collect(backend.chat(QUESTION)) == "Sum of a and b."


async def test_budget_spent_reasoning_is_no_suggestion_with_the_reason(fake: FakeBackend) -> None:
    fake.set_script(Script([Reply("", reasoning="thinking " * 20, finish_reason="length")]))
    async with contextlib.aclosing(
        OpenAIChatBackend(settings(fake.url, model="gpt-oss-20b"))
    ) as backend:
        with pytest.raises(ReasoningBudgetExhausted, match="reasoning"):
            await collect(backend.stream(generation("x = ")))


async def test_non_reasoning_models_get_no_reasoning_fields(fake: FakeBackend) -> None:
    async with contextlib.aclosing(
        OpenAIChatBackend(settings(fake.url, model="qwen2.5-coder-7b-instruct"))
    ) as backend:
        await collect(backend.chat(QUESTION))
    assert "reasoning_effort" not in fake.completion_requests()[0].body


async def test_inline_completion_with_a_chat_model_extracts_the_middle(fake: FakeBackend) -> None:
    answer = "Here is the missing code:\n```python\n    return a + b\n```\nThis returns the sum."
    fake.set_script(Script([Reply(answer)]))
    async with contextlib.aclosing(create_backend(settings(fake.url))) as backend:
        text = await collect(backend.stream(generation("def add(a, b):\n    ", "\n\nprint(1)\n")))
    assert text == "return a + b"
    messages = fake.completion_requests()[0].body["messages"]
    assert messages[0]["role"] == "system"
    assert "def add(a, b):\n    <FILL_HERE>\n\nprint(1)" in messages[1]["content"]


async def test_closing_fence_ends_the_request(fake: FakeBackend) -> None:
    fake.set_script(Script([Reply("```\nx = 1\n```\n" + "commentary " * 200)], token_interval_ms=1))
    async with contextlib.aclosing(create_backend(settings(fake.url))) as backend:
        assert await collect(backend.stream(generation(""))) == "x = 1"
    assert await disconnected(fake)


@pytest.mark.parametrize(
    ("reply", "error", "match"),
    [
        (Reply(status=401), BackendHTTPError, "API key"),
        (Reply(status=429, headers={"Retry-After": "3"}), BackendHTTPError, "retry after 3"),
        (Reply(status=500), BackendHTTPError, "HTTP 500"),
        (Reply("a b c", fault="malformed"), BackendProtocolError, "malformed"),
    ],
)
async def test_chat_errors_are_typed(
    fake: FakeBackend, reply: Reply, error: type[Exception], match: str
) -> None:
    fake.set_script(Script([reply]))
    async with contextlib.aclosing(OpenAIChatBackend(settings(fake.url))) as backend:
        with pytest.raises(error, match=match):
            await collect(backend.chat(QUESTION))


@pytest.mark.parametrize("kind", ["openai-chat", "openai", "llamacpp"])
async def test_the_models_last_event_ends_the_reply_without_waiting_for_done(
    fake: FakeBackend, kind: str
) -> None:
    """`finish_reason` is the end: a server that then sends nothing more (no `[DONE]`)
    does not hold the reply until the read timeout fails it, and the stream is closed."""
    fake.set_script(Script([Reply("It adds two numbers.", fault="hold_end")]))
    async with contextlib.aclosing(create_chat_backend(settings(fake.url, kind))) as backend:
        reply = await collect(backend.chat(QUESTION))
    assert reply == "It adds two numbers."
    assert await disconnected(fake)


async def test_a_stall_mid_stream_times_out_and_disconnects(fake: FakeBackend) -> None:
    fake.set_script(Script([Reply("a b c d", fault="stall", stall_after=2)]))
    chat = OpenAIChatBackend(BackendSettings(kind="openai-chat", url=fake.url, read_timeout_ms=200))
    async with contextlib.aclosing(chat) as backend:
        with pytest.raises(GhostlsError, match="stopped sending"):
            await collect(backend.chat(QUESTION))
    assert await disconnected(fake)


async def test_every_kind_can_chat_including_the_embedded_engine() -> None:
    # The embedded engine chats through the GGUF's own chat template (test_actions_embedded).
    for kind in ("embedded", "openai", "openai-chat", "ollama", "llamacpp"):
        backend = create_chat_backend(BackendSettings(kind=kind, model_path="/nonexistent.gguf"))
        assert callable(backend.chat)
        await backend.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("answer", "finish_reason", "ran_out"),
    [
        ("```python\nreturn a + b", "length", True),  # cut off inside its code block
        ("```python\nreturn a + b", "stop", False),
        ("```python\nreturn a + b\n```\nMore words.", "length", False),  # closed it itself
    ],
)
async def test_inline_completion_says_whether_the_chat_model_ran_out_of_tokens(
    fake: FakeBackend, answer: str, finish_reason: str, ran_out: bool
) -> None:
    fake.set_script(Script([Reply(answer, finish_reason=finish_reason)]))
    asked = generation("def add(a, b):\n    ")
    async with contextlib.aclosing(create_backend(settings(fake.url))) as backend:
        text, end = await text_and_end(backend.stream(asked))
    assert text == "return a + b" and end.ran_out is ran_out
