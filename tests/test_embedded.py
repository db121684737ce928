"""The embedded engine, for real: llama-cpp-python running the tiny GGUF of
tests/support/tiny_gguf.py. No mocks; what is asserted is what llama.cpp did."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from lsp_server.backends.base import GenerationRequest, GenerationStats
from lsp_server.backends.embedded import (
    DONE,
    EVAL_CHUNK,
    EmbeddedBackend,
    Engine,
    Job,
    StopFlag,
)
from lsp_server.backends.token_text import StopMatcher
from lsp_server.errors import BackendError, BackendTimeout, ModelNotFound
from lsp_server.settings import BackendSettings
from tests.support.generation import collect, qwen_request, text_and_end

PREFIX = "".join(f"def function_{i}(x):\n    return x + {i}\n\n" for i in range(12))


def fim_request(prefix: str = PREFIX, suffix: str = "\n", **options: Any) -> GenerationRequest:
    return qwen_request(prefix, suffix, **options)


async def test_streams_tokens_and_reports_the_model(tiny_backend: EmbeddedBackend) -> None:
    assert tiny_backend.template_hint == "" and tiny_backend.tokenizer() is None
    text, end = await text_and_end(tiny_backend.stream(fim_request(max_tokens=16)))
    assert text
    assert tiny_backend.last_stats.extra["generated_tokens"] == 16  # this model never ends
    assert end.ran_out is True
    assert tiny_backend.last_stats.chunks >= 1
    assert tiny_backend.template_hint == "<|fim_prefix|>"
    assert tiny_backend.context_length == BackendSettings().context_tokens
    assert tiny_backend.model_name == "tiny.gguf"


async def test_tokenizer_is_the_models(tiny_backend: EmbeddedBackend) -> None:
    await tiny_backend.prepare()
    tokenizer = tiny_backend.tokenizer()
    assert tokenizer is not None
    assert tokenizer.count_tokens("") == 0
    assert tokenizer.count_tokens("<|fim_prefix|>") == 1  # a control token, not 14 bytes
    assert tokenizer.count_tokens("abc") == 3  # bytes, no merge applies
    assert tokenizer.count_tokens("return") == 1  # merged
    assert tokenizer.count_tokens("é") == 2  # two UTF-8 bytes, no merge
    assert tokenizer.count_tokens("😀") == 4


async def test_stops_at_end_of_generation_token(tiny_eos_gguf_path: Path) -> None:
    backend = EmbeddedBackend(BackendSettings(model_path=str(tiny_eos_gguf_path)))
    try:
        text, end = await text_and_end(backend.stream(fim_request(max_tokens=16)))
        assert text == ""
        assert backend.last_stats.extra["generated_tokens"] == 1  # <|endoftext|>, not shown
        assert end.ran_out is False
    finally:
        await backend.aclose()


async def test_stops_at_a_stop_string_and_hides_it(tiny_backend: EmbeddedBackend) -> None:
    full = await collect(tiny_backend.stream(fim_request(max_tokens=24)))
    stop = full[6:9]
    cut = await collect(tiny_backend.stream(fim_request(max_tokens=24, stop=(stop,))))
    assert cut == full[: full.index(stop)]


async def test_greedy_output_is_the_same_with_and_without_the_kv_cache(
    tiny_backend: EmbeddedBackend, tiny_gguf_path: Path
) -> None:
    first = await collect(tiny_backend.stream(fim_request()))
    cached = await collect(tiny_backend.stream(fim_request()))  # whole prompt already evaluated
    fresh_backend = EmbeddedBackend(BackendSettings(model_path=str(tiny_gguf_path)))
    try:
        fresh = await collect(fresh_backend.stream(fim_request()))
    finally:
        await fresh_backend.aclose()
    assert first == cached == fresh


async def test_a_prompt_sharing_a_prefix_evaluates_only_new_tokens(
    tiny_backend: EmbeddedBackend,
) -> None:
    await collect(tiny_backend.stream(fim_request(PREFIX, "\n")))
    first = tiny_backend.last_stats
    assert first.prompt_tokens is not None
    assert first.extra["evaluated_prompt_tokens"] == first.prompt_tokens
    assert first.cached_prompt_tokens == 0

    # The next keystroke: same prefix plus two characters.
    await collect(tiny_backend.stream(fim_request(PREFIX + "de", "\n")))
    second = tiny_backend.last_stats
    tokenizer = tiny_backend.tokenizer()
    assert tokenizer is not None and second.prompt_tokens is not None
    shared = tokenizer.count_tokens("<|fim_prefix|>" + PREFIX)
    evaluated = second.extra["evaluated_prompt_tokens"]
    assert second.cached_prompt_tokens == second.prompt_tokens - evaluated
    assert second.cached_prompt_tokens >= shared
    assert evaluated <= second.prompt_tokens - shared
    assert evaluated >= 1


async def test_closing_the_stream_stops_the_worker_within_one_token(
    tiny_backend: EmbeddedBackend,
) -> None:
    request = fim_request(max_tokens=3000)  # tens of seconds of work if never stopped
    async with contextlib.aclosing(tiny_backend.stream(request)) as chunks:
        async for _ in chunks:
            break
    await tiny_backend.wait_idle()
    stats = tiny_backend.last_stats
    assert stats.extra["generated_tokens"] < 3000
    assert stats.extra["tokens_after_stop"] <= 1


async def test_cancelling_the_task_stops_the_worker_within_one_token(
    tiny_backend: EmbeddedBackend,
) -> None:
    first_chunk = asyncio.Event()

    async def consume() -> None:
        async with contextlib.aclosing(tiny_backend.stream(fim_request(max_tokens=3000))) as chunks:
            async for _ in chunks:
                first_chunk.set()

    task = asyncio.ensure_future(consume())
    await first_chunk.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await tiny_backend.wait_idle()
    assert tiny_backend.last_stats.extra["generated_tokens"] < 3000
    assert tiny_backend.last_stats.extra["tokens_after_stop"] <= 1


async def test_a_request_after_a_cancel_is_served_correctly(
    tiny_backend: EmbeddedBackend, tiny_gguf_path: Path
) -> None:
    async with contextlib.aclosing(tiny_backend.stream(fim_request(max_tokens=3000))) as chunks:
        async for _ in chunks:
            break
    after_cancel = await collect(tiny_backend.stream(fim_request(PREFIX + "x", "\n")))
    fresh_backend = EmbeddedBackend(BackendSettings(model_path=str(tiny_gguf_path)))
    try:
        fresh = await collect(fresh_backend.stream(fim_request(PREFIX + "x", "\n")))
    finally:
        await fresh_backend.aclose()
    assert after_cancel == fresh
    assert tiny_backend.last_stats.extra["generated_tokens"] == 16


async def test_timeout_raises_and_stops_the_worker(tiny_backend: EmbeddedBackend) -> None:
    await tiny_backend.prepare()
    with pytest.raises(BackendTimeout, match="did not finish within"):
        await collect(tiny_backend.stream(fim_request(max_tokens=3000, timeout_s=0.0)))
    await tiny_backend.wait_idle()
    assert tiny_backend.last_stats.extra.get("generated_tokens", 0) < 3000


async def test_prompt_longer_than_the_context_is_an_actionable_error(tiny_gguf_path: Path) -> None:
    settings = BackendSettings(model_path=str(tiny_gguf_path), context_tokens=64)
    backend = EmbeddedBackend(settings)
    try:
        with pytest.raises(BackendError, match=r"backend\.contextTokens"):
            await collect(backend.stream(fim_request()))
    finally:
        await backend.aclose()


async def test_concurrent_prepare_calls_share_one_load(tiny_backend: EmbeddedBackend) -> None:
    waiter = asyncio.ensure_future(tiny_backend.prepare())
    await asyncio.sleep(0)  # let it start loading, then cancel only that waiter
    waiter.cancel()
    await asyncio.gather(tiny_backend.prepare(), tiny_backend.prepare())
    tokenizer = tiny_backend.tokenizer()
    await tiny_backend.prepare()
    assert tokenizer is not None and tiny_backend.tokenizer() is tokenizer


async def test_a_closed_backend_refuses_new_streams(tiny_gguf_path: Path) -> None:
    backend = EmbeddedBackend(BackendSettings(model_path=str(tiny_gguf_path)))
    await collect(backend.stream(fim_request(max_tokens=2)))
    await backend.aclose()
    with pytest.raises(BackendError, match="closed"):
        await collect(backend.stream(fim_request()))


@pytest.mark.parametrize("content", [None, b"not a model", b""])
async def test_model_path_that_is_not_a_gguf_file(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "model.gguf"
    if content is not None:
        path.write_bytes(content)
    backend = EmbeddedBackend(BackendSettings(model_path=str(path)))
    try:
        with pytest.raises(ModelNotFound, match=r"backend\.modelPath .*model\.gguf"):
            await backend.prepare()
        with pytest.raises(ModelNotFound):  # the stream says so too, at once
            await collect(backend.stream(fim_request()))
    finally:
        await backend.aclose()


@pytest.fixture
def truncated_gguf(tmp_path: Path, tiny_gguf_path: Path) -> Path:
    path = tmp_path / "cut.gguf"
    path.write_bytes(tiny_gguf_path.read_bytes()[:4096])
    return path


async def test_truncated_gguf_is_reported_as_unloadable(truncated_gguf: Path) -> None:
    path = truncated_gguf
    backend = EmbeddedBackend(BackendSettings(model_path=str(path)))
    try:
        with pytest.raises(ModelNotFound, match="could not load"):
            await backend.prepare()
    finally:
        await backend.aclose()


class StopOnCheck(StopFlag):
    """A stop flag that turns itself on at its `n`-th check: the worker's checks are
    the seam, so a stop lands at an exact point with no race."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.checks = 0
        self.n = n

    def requested(self) -> bool:
        self.checks += 1
        if self.checks >= self.n:
            self.set()
        return super().requested()


def run_job(engine: Engine, request: GenerationRequest, stop: StopFlag) -> tuple[str, Job]:
    """Run one job on the calling thread, as the worker would."""
    items: list[object] = []
    job = Job(request, items.append, GenerationStats(), stop)
    engine.generate(job)
    assert items[-1] is DONE
    assert all(isinstance(item, str) for item in items[:-1]), items
    return "".join(str(item) for item in items[:-1]), job


def test_a_job_stopped_before_it_starts_does_no_work(tiny_gguf_path: Path) -> None:
    engine = Engine(tiny_gguf_path, BackendSettings())
    try:
        stop = StopFlag()
        stop.set()
        text, _ = run_job(engine, fim_request(), stop)
        assert text == "" and engine.decoded_tokens == 0
    finally:
        engine.close()


def test_a_stop_during_prompt_evaluation_lands_between_chunks_and_keeps_them(
    tiny_gguf_path: Path,
) -> None:
    request = fim_request()
    engine, fresh = (
        Engine(tiny_gguf_path, BackendSettings()),
        Engine(tiny_gguf_path, BackendSettings()),
    )
    try:
        # Checks: once before starting, then once per chunk; the fourth says stop.
        text, job = run_job(engine, request, StopOnCheck(4))
        assert text == ""
        assert job.stats.prompt_tokens is not None and job.stats.prompt_tokens > 2 * EVAL_CHUNK
        assert job.stats.extra["evaluated_prompt_tokens"] == 2 * EVAL_CHUNK
        assert job.stats.extra["generated_tokens"] == 0
        assert job.stats.cached_prompt_tokens is None

        text, job = run_job(engine, request, StopFlag())
        assert job.stats.cached_prompt_tokens == 2 * EVAL_CHUNK  # the abandoned work is reused
        assert text == run_job(fresh, request, StopFlag())[0]
    finally:
        engine.close()
        fresh.close()


@pytest.mark.parametrize(
    ("chunks", "expected", "stopped"),
    [
        (["abc", "def"], "abcdef", False),
        (["ab<|e", "nd|>cd"], "ab", True),  # split across chunks
        (["ab<|e", "x"], "ab<|ex", False),  # held back, then released
        (["<|end|>"], "", True),
        (["ünï", "cödé😀<|", "end|>"], "ünïcödé😀", True),
        (["a\r\n\t<", "<|end|>"], "a\r\n\t<", True),
        (["a\n\n", "\nb"], "a\n", True),  # a stop that starts a line keeps its line break
    ],
)
def test_stop_matcher(chunks: list[str], expected: str, stopped: bool) -> None:
    matcher = StopMatcher(("<|end|>", "\n\n\n"))
    out, done = "", False
    for chunk in chunks:
        text, done = matcher.feed(chunk)
        out += text
        if done:
            break
    if not done:
        out += matcher.flush()
    assert (out, done) == (expected, stopped)


def test_a_line_break_that_may_start_a_fence_is_sent_at_once() -> None:
    """An instruct model closes its code with a fence (`qwen-chat`): the line before it
    is complete as soon as its line break arrives; only the backticks wait."""
    matcher = StopMatcher(("\n```", "<|im_end|>"))
    assert matcher.feed("return n\n") == ("return n\n", False)
    assert matcher.feed("``") == ("", False)
    assert matcher.feed("`\nThe function") == ("", True)
