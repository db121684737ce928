"""Ollama (`/api/generate`, `/api/chat`, NDJSON) and llama.cpp (`/infill`, SSE)
against real local servers speaking their wire formats."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest

from lsp_server.backends.base import ChatRequest, GenerationRequest
from lsp_server.backends.factory import create_backend, effective_settings
from lsp_server.backends.llamacpp import LlamaCppBackend
from lsp_server.backends.ollama import DEFAULT_OLLAMA_URL, OllamaBackend
from lsp_server.backends.reasoning import ReasoningBudgetExhausted
from lsp_server.context.cursor import CursorContext, Snippet
from lsp_server.errors import BackendError, BackendHTTPError, BackendProtocolError, GhostlsError
from lsp_server.prompt.budget import EstimatingTokenizer
from lsp_server.prompt.build import PromptBudget, build_prompt
from lsp_server.prompt.messages import ChatMessage
from lsp_server.prompt.templates import TEMPLATES
from lsp_server.settings import BackendSettings
from tests.support.fake_llamacpp import FakeLlamaCpp
from tests.support.fake_ollama import (
    CHAT_TEMPLATE,
    FakeOllama,
    NativeReply,
    NativeServer,
    show_payload,
)
from tests.support.generation import collect, text_and_end

QUESTION = ChatRequest(messages=(ChatMessage("user", "explain"),), max_tokens=50)
CODER, INSTRUCT, THINKER = "qwen2.5-coder:1.5b", "qwen2.5:7b-instruct", "gpt-oss:20b"


def request(prefix: str = "def add(a, b):\n    ", suffix: str = "\n") -> GenerationRequest:
    context = CursorContext(
        "file:///a.py", "/a.py", "python", 1, prefix, suffix, (Snippet("/b.py", "B = 2\n"),)
    )
    budget = PromptBudget(snippet_share=0.2)
    prompt = build_prompt(context, TEMPLATES["qwen"], budget, EstimatingTokenizer())
    return GenerationRequest(prompt=prompt, max_tokens=40)


async def disconnected(server: NativeServer) -> bool:
    return await asyncio.to_thread(server.wait_for, lambda s: s.requests[-1].disconnected)


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    models = {
        CODER: show_payload(
            "{{ if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}{{ end }}"
        ),
        INSTRUCT: show_payload(CHAT_TEMPLATE),
        THINKER: show_payload(CHAT_TEMPLATE, thinking=True),
    }
    with FakeOllama(models=models) as server:
        yield server  # type: ignore[misc]


def ollama_backend(server: NativeServer, model: str = CODER, **extra: int) -> OllamaBackend:
    settings = BackendSettings(kind="ollama", url=server.url, model=model, **extra)  # type: ignore[arg-type]
    return OllamaBackend(settings)


async def test_ollama_fim_model_uses_native_suffix(ollama: FakeOllama) -> None:
    ollama.replies = [NativeReply("return a + b")]
    async with contextlib.aclosing(ollama_backend(ollama)) as backend:
        assert await collect(backend.stream(request())) == "return a + b"
    body = ollama.requests[-1].body
    assert ollama.requests[-1].path == "/api/generate"
    assert body["prompt"].endswith("def add(a, b):\n    ") and body["suffix"] == "\n"
    assert "raw" not in body
    assert body["options"]["num_predict"] == 40
    assert body["options"]["num_ctx"] == BackendSettings().context_tokens
    assert body["keep_alive"]
    assert backend.last_stats.prompt_tokens == 42


async def test_ollama_without_suffix_template_sends_our_fim_prompt_raw(ollama: FakeOllama) -> None:
    async with contextlib.aclosing(ollama_backend(ollama, INSTRUCT)) as backend:
        await collect(backend.stream(request()))
    body = ollama.requests[-1].body
    assert body["raw"] is True and "suffix" not in body
    assert body["prompt"].startswith("<|file_sep|>/b.py\n") and "<|fim_middle|>" in body["prompt"]


async def test_ollama_chat_streams_and_hides_thinking(ollama: FakeOllama) -> None:
    ollama.replies = [NativeReply("It adds.", thinking="Let me think about it.")]
    async with contextlib.aclosing(ollama_backend(ollama, THINKER)) as backend:
        assert await collect(backend.chat(QUESTION)) == "It adds."
    body = ollama.requests[-1].body
    assert ollama.requests[-1].path == "/api/chat"
    assert body["messages"] == [{"role": "user", "content": "explain"}]
    assert body["think"] == "low"


async def test_ollama_budget_spent_thinking_raises_with_the_reason(ollama: FakeOllama) -> None:
    ollama.replies = [NativeReply("", thinking="hmm " * 10, done_reason="length")]
    async with contextlib.aclosing(ollama_backend(ollama, THINKER)) as backend:
        with pytest.raises(ReasoningBudgetExhausted, match="maxTokens"):
            await collect(backend.chat(QUESTION))


async def test_ollama_missing_model_names_the_pull_command(ollama: FakeOllama) -> None:
    async with contextlib.aclosing(ollama_backend(ollama, "nonexistent:7b")) as backend:
        with pytest.raises(BackendError, match="ollama pull nonexistent:7b"):
            await backend.prepare()


async def test_ollama_stall_times_out(ollama: FakeOllama) -> None:
    ollama.replies = [NativeReply("a b c", fault="stall", stall_after=1)]
    async with contextlib.aclosing(ollama_backend(ollama, read_timeout_ms=200)) as backend:
        with pytest.raises(GhostlsError, match="stopped sending"):
            await collect(backend.stream(request()))
    assert await disconnected(ollama)


def test_ollama_kind_defaults_to_its_own_port() -> None:
    assert effective_settings(BackendSettings(kind="ollama")).url == DEFAULT_OLLAMA_URL
    custom = BackendSettings(kind="ollama", url="http://127.0.0.1:9999")
    assert effective_settings(custom).url == "http://127.0.0.1:9999"


# -- llama.cpp ------------------------------------------------------------------------


@pytest.fixture
def llamacpp() -> Iterator[FakeLlamaCpp]:
    with FakeLlamaCpp() as server:
        yield server  # type: ignore[misc]


def llamacpp_backend(server: NativeServer, **extra: int) -> LlamaCppBackend:
    settings = BackendSettings(kind="llamacpp", url=server.url, **extra)  # type: ignore[arg-type]
    backend = create_backend(settings)
    assert isinstance(backend, LlamaCppBackend)
    return backend


async def test_llamacpp_infill_sends_native_fields_and_reports_cache(
    llamacpp: FakeLlamaCpp,
) -> None:
    llamacpp.replies = [NativeReply("return a + b")]
    async with contextlib.aclosing(llamacpp_backend(llamacpp)) as backend:
        assert await collect(backend.stream(request())) == "return a + b"
    body = llamacpp.requests[-1].body
    assert llamacpp.requests[-1].path == "/infill"
    assert body["input_prefix"].endswith("def add(a, b):\n    ")
    assert body["input_suffix"] == "\n"
    assert body["input_extra"] == [{"filename": "/b.py", "text": "B = 2\n"}]
    assert body["cache_prompt"] is True
    assert body["n_predict"] == 40 and body["t_max_predict_ms"] > 0
    assert backend.last_stats.cached_prompt_tokens == 300
    assert backend.last_stats.prompt_tokens == 312


async def test_llamacpp_prepare_reads_context_and_calibrates_tokenizer(
    llamacpp: FakeLlamaCpp,
) -> None:
    async with contextlib.aclosing(llamacpp_backend(llamacpp)) as backend:
        assert backend.tokenizer() is None
        await backend.prepare()
    assert backend.context_size == 8192
    tokenizer = backend.tokenizer()
    assert tokenizer is not None
    assert tokenizer.count_tokens("x" * 300) > 0
    assert [r.path for r in llamacpp.requests] == ["/props", "/tokenize"]


async def test_llamacpp_warm_up_evaluates_without_generating(llamacpp: FakeLlamaCpp) -> None:
    async with contextlib.aclosing(llamacpp_backend(llamacpp)) as backend:
        await backend.warm_up(request())
    body = llamacpp.requests[-1].body
    assert body["n_predict"] == 0 and body["stream"] is False and body["cache_prompt"] is True


async def test_llamacpp_model_without_fim_is_a_clear_error() -> None:
    with FakeLlamaCpp(fim=False) as server:
        async with contextlib.aclosing(llamacpp_backend(server)) as backend:
            with pytest.raises(BackendHTTPError, match="501"):
                await collect(backend.stream(request()))


async def test_llamacpp_chat_hides_reasoning(llamacpp: FakeLlamaCpp) -> None:
    llamacpp.replies = [NativeReply("Adds.", thinking="ponder ponder")]
    async with contextlib.aclosing(llamacpp_backend(llamacpp)) as backend:
        assert await collect(backend.chat(QUESTION)) == "Adds."
    assert llamacpp.requests[-1].path == "/v1/chat/completions"


# -- both ----------------------------------------------------------------------------


@pytest.fixture(params=["ollama", "llamacpp"])
def native(request: pytest.FixtureRequest) -> NativeServer:
    """Each native server in turn: the `ollama` fixture, then the `llamacpp` one."""
    server: NativeServer = request.getfixturevalue(request.param)
    return server


def native_backend(server: NativeServer, **extra: int) -> OllamaBackend | LlamaCppBackend:
    if isinstance(server, FakeOllama):
        return ollama_backend(server, **extra)
    return llamacpp_backend(server, **extra)


FAULTS = [
    (NativeReply(status=401), BackendHTTPError, "API key"),
    (NativeReply(status=429, headers={"Retry-After": "2"}), BackendHTTPError, "retry after 2"),
    (NativeReply(status=500), BackendHTTPError, "HTTP 500"),
    (NativeReply("a b c", fault="malformed"), BackendProtocolError, "malformed"),
    (NativeReply("a b c", fault="error_frame"), BackendError, "mid-stream"),
]


@pytest.mark.parametrize(("reply", "error", "match"), FAULTS)
async def test_faults_are_typed(
    native: NativeServer, reply: NativeReply, error: type[Exception], match: str
) -> None:
    native.replies = [reply]
    async with contextlib.aclosing(native_backend(native)) as backend:
        with pytest.raises(error, match=match):
            await collect(backend.stream(request()))


async def test_closing_the_stream_aborts(native: NativeServer) -> None:
    native.replies = [NativeReply("a b c", fault="endless")]
    native.token_interval_ms = 1
    async with contextlib.aclosing(native_backend(native)) as backend:
        chunks = backend.stream(request())
        async for _ in chunks:
            break
        await chunks.aclose()
    assert await disconnected(native)


@pytest.mark.parametrize("reason", ["stop", "length"])
async def test_the_stream_says_whether_the_model_ran_out_of_tokens(
    native: NativeServer, reason: str
) -> None:
    native.replies = [NativeReply("return a + b", done_reason=reason)]
    asked = request()
    async with contextlib.aclosing(native_backend(native)) as backend:
        text, end = await text_and_end(backend.stream(asked))
    assert text == "return a + b" and end.ran_out is (reason == "length")
