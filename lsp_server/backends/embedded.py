"""The embedded engine: llama-cpp-python in-process, one worker thread per model.

A `Llama` object is not thread safe, so everything that touches it (load, generate,
free) runs on one dedicated thread; the event loop only awaits. Tokens travel to the
loop through `call_soon_threadsafe` into an `asyncio.Queue`.

Stopping is cooperative: the worker checks a `threading.Event` after every token and
between chunks of prompt evaluation, so closing the stream (break inside `aclosing`,
an exception, task cancellation) stops the engine within one token or one chunk. A
job that became stale while it waited for the worker does nothing at all.

Prompts go through `Llama.generate(tokens)`, which keeps the KV cache of the previous
call and evaluates only the tokens after the longest common prefix: consecutive
keystrokes in one file share almost the whole prompt. `create_completion(suffix=...)`
is not used: llama-cpp-python 0.3.36 builds its FIM prompt with token 0 for the FIM ids.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import llama_cpp

from lsp_server.backends.base import (
    ChatRequest,
    Chunk,
    GenerationRequest,
    GenerationStats,
    PromptFacts,
    StreamEnd,
)
from lsp_server.backends.llama_cache import (
    physical_cores,
    reuse_cached_chunks,
)
from lsp_server.backends.token_healing import HealedStart, Vocabulary, split_healed
from lsp_server.backends.token_text import TextOutput
from lsp_server.errors import BackendError, BackendTimeout, GhostlsError, ModelNotFound
from lsp_server.models.download import ProgressCallback, resolve_model
from lsp_server.prompt.build import Prompt
from lsp_server.prompt.messages import ChatMessage
from lsp_server.prompt.templates import FimTemplate
from lsp_server.settings import BackendSettings

FIM_PRE_KEY = "tokenizer.ggml.fim_pre_token_id"
# Prompt evaluation is split into decode calls of this many tokens, and a stop is
# honoured between them: a 1,500-token prompt on a CPU takes seconds to evaluate
# whole, and a stale one should not hold the worker that long. Batches this size
# still keep the matrix units busy.
EVAL_CHUNK = 128
HISTORY = 64
# Prompt speed is measured on evaluations of at least this many tokens, smoothed.
SPEED_MIN_TOKENS = 32
SPEED_SMOOTHING = 0.3
SPEED_HYSTERESIS = 0.25
CALIBRATION_TEXT = "".join(
    f"def step_{i}(values, limit={i}):\n    return [v * {i} for v in values if v < limit]\n"
    for i in range(40)
)


class LlamaTokenizer:
    """The model's own tokenizer, for exact prompt budgets.

    llama.cpp's tokenizer only reads the vocabulary, which never changes after load,
    so calling it from the event loop while the worker generates is safe.
    """

    def __init__(self, llama: llama_cpp.Llama) -> None:
        self._llama = llama

    def count_tokens(self, text: str) -> int:
        # special=True: the rendered prompt's FIM markers are single control tokens.
        data = text.encode("utf-8", "replace")
        return len(self._llama.tokenize(data, add_bos=False, special=True))


class StopFlag:
    """A `threading.Event` that remembers when it was set, so the worker can count
    the tokens it finished after a stop was asked for (the benchmarks' stop latency)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.set_at: float | None = None

    def set(self) -> None:
        if self.set_at is None:
            self.set_at = time.monotonic()
        self.event.set()

    def requested(self) -> bool:
        return self.event.is_set()

    def finished_after_stop(self, finished_at: float) -> bool:
        return self.requested() and self.set_at is not None and finished_at >= self.set_at


class StopRequested(Exception):
    """Raised inside `Llama.generate` to abandon a prompt evaluation between chunks."""


@dataclass
class Outcome:
    """How the worker ended a job (`StreamEnd.ran_out`): written on the worker thread
    before `DONE`, read on the event loop after it."""

    ran_out: bool | None = None


@dataclass(eq=False)  # identity semantics: jobs live in a set
class Job:
    """One generation, shared by the event loop (owner) and the worker thread."""

    request: GenerationRequest
    emit: Callable[[object], None]  # thread-safe: puts an item on the stream's queue
    stats: GenerationStats
    stop: StopFlag = field(default_factory=StopFlag)
    outcome: Outcome = field(default_factory=Outcome)


class _Done:
    """The end-of-stream marker on the queue."""


DONE = _Done()


def fim_token_text(llama: llama_cpp.Llama) -> str:
    """The text of the model's FIM-prefix token ('<|fim_prefix|>'), '' when it has none."""
    token_id = llama.metadata.get(FIM_PRE_KEY)
    if token_id is None or not str(token_id).isdigit():
        return ""
    return str(llama.detokenize([int(token_id)], special=True).decode("utf-8", "replace"))


class Engine:
    """A loaded model; every method but `tokenizer` runs on the worker thread."""

    def __init__(self, path: Path, settings: BackendSettings) -> None:
        try:
            self.llama = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=settings.context_tokens,
                n_threads=settings.threads or physical_cores(),
                verbose=False,
            )
        except (ValueError, RuntimeError) as error:
            raise ModelNotFound(
                f"llama.cpp could not load {path} ({error}); the file may be truncated, or "
                "its architecture newer than this llama-cpp-python: set backend.modelPath "
                "to another GGUF file"
            ) from None
        self.path = path
        self.decoded_tokens = 0
        self._stop: StopFlag | None = None  # the running job's, checked between chunks
        self._evaluate_in_chunks()
        self.template_hint = fim_token_text(self.llama)
        self.context_length = int(self.llama.n_ctx())
        self.tokenizer = LlamaTokenizer(self.llama)
        self._vocabulary: Vocabulary | None = None  # built for the first healed prompt
        # Prompt tokens evaluated per second (smoothed): sizes the prompt budget.
        self.prompt_tokens_per_s: float | None = None
        self._measured_speed: float | None = None
        self.calibrate()

    def _evaluate_in_chunks(self) -> None:
        """Make `generate()`'s `eval()` go in chunks of EVAL_CHUNK tokens, checking the
        stop flag before each, and count what it evaluates: the measured size of the
        KV-cache reuse (llama.cpp's perf counters read max(1, n), blurring 0 and 1).

        An abandoned evaluation leaves a consistent state: llama-cpp-python advances
        `n_tokens` per decoded batch, so the next prompt reuses the part evaluated."""
        evaluate = self.llama.eval

        def eval_in_chunks(tokens: Sequence[int]) -> None:
            for start in range(0, len(tokens), EVAL_CHUNK):
                if self._stop is not None and self._stop.requested():
                    raise StopRequested
                chunk = tokens[start : start + EVAL_CHUNK]
                evaluate(chunk)
                self.decoded_tokens += len(chunk)

        self.llama.eval = eval_in_chunks  # type: ignore[method-assign]

    def close(self) -> None:
        self.llama.close()

    def _split_stops(self, stops: tuple[str, ...]) -> tuple[frozenset[int], tuple[str, ...]]:
        """Stop strings that are one special token are matched by id (their text is
        not rendered), the others as text."""
        ids: set[int] = set()
        texts: list[str] = []
        for stop in dict.fromkeys(stops):
            tokens = self.llama.tokenize(stop.encode(), add_bos=False, special=True)
            if len(tokens) == 1 and self.llama.detokenize(tokens, special=False) == b"":
                ids.add(tokens[0])
            else:
                texts.append(stop)
        return frozenset(ids), tuple(texts)

    def _prompt_tokens(self, job: Job) -> tuple[list[int], int]:
        """The prompt's tokens and how many may be generated within the context."""
        text = job.request.prompt.text.encode("utf-8", "replace")
        tokens = list(self.llama.tokenize(text, special=True))
        room = self.context_length - len(tokens)
        if room <= 0:
            raise BackendError(
                f"the prompt has {len(tokens)} tokens, more than the embedded model's "
                f"context of {self.context_length}: raise backend.contextTokens or lower "
                "completion.promptTokens"
            )
        return tokens, min(job.request.max_tokens, room)

    def vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:  # ~0.5 s for 150k tokens, once
            pieces = [
                self.llama.detokenize([t], special=False) for t in range(self.llama.n_vocab())
            ]
            self._vocabulary = Vocabulary(pieces)
        return self._vocabulary

    def reuse_cached_chunks(self, tokens: list[int]) -> int:
        """`llama_cache.reuse_cached_chunks` on this engine's model."""
        return reuse_cached_chunks(self.llama, tokens)

    def generate(self, job: Job) -> None:
        """Run one job to its end; every outcome goes onto the queue, nothing raises."""
        try:
            self._generate(job)
        except GhostlsError as error:
            job.emit(error)
        except Exception as error:  # llama.cpp decode failures surface as RuntimeError
            job.emit(BackendError(f"the embedded engine failed: {error}"))
        finally:
            job.emit(DONE)

    def _generate(self, job: Job) -> None:
        if job.stop.requested():
            return  # stale before it started: a newer keystroke won
        request, stats = job.request, job.stats
        stop_ids, stop_texts = self._split_stops((*request.stop, *request.prompt.stop))
        tokens, max_tokens = self._prompt_tokens(job)
        healing: HealedStart | None = None
        processors: llama_cpp.LogitsProcessorList | None = None
        if request.prompt.heal_last_word:
            vocabulary = self.vocabulary()
            tokens, healed = split_healed(vocabulary, tokens)
            healing = HealedStart(vocabulary, healed)
            processors = llama_cpp.LogitsProcessorList([healing.mask_logits])
            # At most one healed token per healed byte, within the context.
            max_tokens = min(max_tokens + len(healed), self.context_length - len(tokens))
        stats.prompt_tokens = len(tokens)
        stats.extra.update(generated_tokens=0, tokens_after_stop=0)
        output = TextOutput(stop_texts, job.emit, healing)
        self._stop, decoded_before = job.stop, self.decoded_tokens
        stats.extra["started_at"] = time.monotonic()
        stats.extra["moved_prompt_tokens"] = self.reuse_cached_chunks(tokens)
        generator = self.llama.generate(
            tokens,
            temp=request.temperature,
            top_k=40,
            top_p=0.95,
            min_p=0.05,
            repeat_penalty=1.0,
            logits_processor=processors,
        )
        try:
            with contextlib.closing(generator):
                for token in generator:
                    if stats.extra["generated_tokens"] == 0:
                        self._record_prompt_eval(stats, len(tokens), decoded_before)
                    if not self._take_token(job, token, stop_ids, output, max_tokens):
                        break
        except StopRequested:
            if stats.extra["generated_tokens"] == 0:  # abandoned within the prompt
                stats.extra["evaluated_prompt_tokens"] = self.decoded_tokens - decoded_before
        finally:
            self._stop = None
        if not job.stop.requested():
            output.finish()

    def _take_token(
        self, job: Job, token: int, stop_ids: frozenset[int], output: TextOutput, limit: int
    ) -> bool:
        """Handle one sampled token; False when generation should end."""
        stats = job.stats
        stats.extra["generated_tokens"] += 1
        stats.extra["tokens_after_stop"] += job.stop.finished_after_stop(time.monotonic())
        if job.stop.requested():
            return False
        if self._is_end(token, stop_ids) or output.add(self.llama.detokenize([token])):
            job.outcome.ran_out = False
            return False
        if stats.extra["generated_tokens"] >= limit:
            job.outcome.ran_out = True
            return False
        return True

    def _is_end(self, token: int, stop_ids: frozenset[int]) -> bool:
        return token in stop_ids or bool(
            llama_cpp.llama_vocab_is_eog(self.llama._model.vocab, token)
        )

    def _record_prompt_eval(self, stats: GenerationStats, n_prompt: int, before: int) -> None:
        # Measured, not predicted: what llama.cpp decoded before the first sample.
        evaluated = self.decoded_tokens - before
        stats.cached_prompt_tokens = n_prompt - evaluated
        stats.extra["evaluated_prompt_tokens"] = evaluated
        seconds = stats.extra["prompt_eval_s"] = time.monotonic() - stats.extra["started_at"]
        if evaluated >= SPEED_MIN_TOKENS and seconds > 0:
            self.observe_prompt_speed(evaluated / seconds)

    def observe_prompt_speed(self, tokens_per_s: float) -> None:
        """Smooth the measure; report a new speed only when it moved by more than
        `SPEED_HYSTERESIS`: the budget it sets decides the prompt's windows, and a
        budget that changed with every request would move them (and lose the cache)."""
        old = self._measured_speed
        self._measured_speed = measured = (
            tokens_per_s if old is None else old + SPEED_SMOOTHING * (tokens_per_s - old)
        )
        shown = self.prompt_tokens_per_s
        if shown is None or abs(measured / shown - 1) > SPEED_HYSTERESIS:
            self.prompt_tokens_per_s = measured

    def calibrate(self) -> None:
        """A first measure of prompt speed, before any request: one chunk of text
        evaluated and forgotten (the budget of the first prompt depends on it)."""
        size = min(EVAL_CHUNK, len(self.llama.input_ids) // 2)  # n_ctx as asked for
        tokens = self.llama.tokenize(CALIBRATION_TEXT.encode(), add_bos=False)[:size]
        if len(tokens) < SPEED_MIN_TOKENS:
            return
        started = time.monotonic()
        self.llama.eval(tokens)
        seconds = time.monotonic() - started
        self.llama.n_tokens = 0  # forgotten: the next prompt is evaluated whole
        self.decoded_tokens -= len(tokens)
        if seconds > 0:
            self.observe_prompt_speed(len(tokens) / seconds)


class EmbeddedBackend:
    """The `Backend` protocol over an in-process llama.cpp model.

    `on_progress(downloaded_bytes, total_bytes)` is called on the event loop while the
    model downloads (total 0 when unknown). After `prepare()`, `template_hint` is the
    text of the model's FIM-prefix token, for `choose_template(setting, model_name,
    template_hint)`, and `context_length` its context window.
    """

    def __init__(
        self, settings: BackendSettings, on_progress: ProgressCallback | None = None
    ) -> None:
        self._settings = settings
        self._on_progress = on_progress
        # One thread owns the Llama object: load, generate and free all run on it.
        self._worker = concurrent.futures.ThreadPoolExecutor(1, "ghostls-llama")
        self._loading: asyncio.Future[Engine] | None = None
        self._engine: Engine | None = None
        self._last_job: concurrent.futures.Future[None] | None = None
        self._jobs: set[Job] = set()
        self._closed = False
        self.last_stats = GenerationStats()
        # The last generations' counts (no text), newest last: `ghostls/debugInfo`.
        self.history: deque[tuple[int, GenerationStats, Outcome]] = deque(maxlen=HISTORY)
        self._started = 0

    @property
    def description(self) -> str:
        return f"embedded llama.cpp ({self.model_name})"

    @property
    def model_name(self) -> str:
        if self._settings.model_path:
            return Path(self._settings.model_path).name
        return self._settings.model

    @property
    def template_hint(self) -> str:
        return self._engine.template_hint if self._engine else ""

    @property
    def context_length(self) -> int:
        return self._engine.context_length if self._engine else 0

    @property
    def prompt_tokens_per_s(self) -> float | None:
        """The engine's measured prompt speed (None before the model is loaded)."""
        return self._engine.prompt_tokens_per_s if self._engine else None

    @property
    def model_file(self) -> Path | None:
        return self._engine.path if self._engine else None

    def tokenizer(self) -> LlamaTokenizer | None:
        return self._engine.tokenizer if self._engine else None

    def prompt_facts(self) -> PromptFacts:
        return PromptFacts(
            self.model_name,
            self.template_hint,
            self.tokenizer(),
            self.prompt_tokens_per_s,
            heals_words=True,
        )

    async def prepare(self) -> None:
        """Resolve (maybe download) and load the model, once; concurrent callers share
        the work, and a caller's cancellation does not cancel it. A failure is kept and
        raised again: a new backend (new settings) tries again."""
        if self._loading is None:
            self._loading = asyncio.ensure_future(self._load())
            # Retrieve the outcome even when every waiter was cancelled.
            self._loading.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            await asyncio.shield(self._loading)
        except GhostlsError as error:
            # A fresh copy per caller: re-raising one instance grows its traceback.
            raise copy.copy(error).with_traceback(None) from None

    async def _load(self) -> Engine:
        loop = asyncio.get_running_loop()
        report = self._on_progress

        def on_progress(done: int, total: int) -> None:
            if report is not None:
                loop.call_soon_threadsafe(report, done, total)

        path = await asyncio.to_thread(resolve_model, self._settings, on_progress)
        if self._closed:
            raise BackendError("the embedded backend was closed")
        engine = await asyncio.wrap_future(self._worker.submit(Engine, path, self._settings))
        self._engine = engine
        return engine

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[Chunk, None]:
        await self.prepare()
        if self._engine is None:
            raise BackendError("the embedded backend was closed")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        job = Job(request, _threadsafe_put(loop, queue), GenerationStats())
        self.last_stats = job.stats
        self._started += 1
        self.history.append((self._started, job.stats, job.outcome))
        self._jobs.add(job)
        self._last_job = self._worker.submit(self._engine.generate, job)
        deadline = loop.time() + request.timeout_s
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        item = await queue.get()
                except TimeoutError:
                    raise BackendTimeout(
                        f"the embedded model did not finish within {request.timeout_s:g} s"
                    ) from None
                if item is DONE:
                    yield StreamEnd(job.outcome.ran_out)
                    return
                if isinstance(item, BaseException):
                    raise item
                job.stats.chunks += 1
                yield str(item)
        finally:
            job.stop.set()  # at once, also on cancellation: the worker stops next token
            self._jobs.discard(job)

    async def chat(self, request: ChatRequest) -> AsyncGenerator[str, None]:
        """A chat turn (code actions): the model's chat template, then the same worker,
        stop flag and time budget as `stream`."""
        await self.prepare()
        assert self._engine is not None
        text, stops = await asyncio.wrap_future(
            self._worker.submit(render_chat, self._engine.llama, request.messages)
        )
        prompt = Prompt(text, "", "", FimTemplate("chat", "{prefix}", stops), (), 0)
        generation = GenerationRequest(
            prompt, request.max_tokens, request.stop, request.temperature, request.timeout_s
        )
        async with contextlib.aclosing(self.stream(generation)) as chunks:
            async for chunk in chunks:
                if isinstance(chunk, str):
                    yield chunk

    async def wait_idle(self) -> None:
        """Until the worker has finished the last generation (tests, benchmarks)."""
        if self._last_job is not None:
            await asyncio.wrap_future(self._last_job)

    async def aclose(self) -> None:
        self._closed = True
        for job in self._jobs:
            job.stop.set()
        engine, self._engine = self._engine, None
        if engine is not None:
            await asyncio.wrap_future(self._worker.submit(engine.close))
        self._worker.shutdown(wait=False, cancel_futures=True)


CHATML_TURN = "<|im_start|>{role}\n{content}<|im_end|>\n"


def render_chat(
    llama: llama_cpp.Llama, messages: tuple[ChatMessage, ...]
) -> tuple[str, tuple[str, ...]]:
    """The chat prompt and its stop strings: the model's own template (GGUF
    `tokenizer.chat_template`, Jinja, rendered by llama-cpp-python) when it has one,
    else ChatML (Qwen's, which the default models use)."""
    wire = [{"role": m.role, "content": m.content} for m in messages]
    template = llama.metadata.get("tokenizer.chat_template")
    if template:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        def token_text(token: int) -> str:
            return llama.detokenize([token], special=True).decode("utf-8", "replace")

        try:
            rendered = Jinja2ChatFormatter(
                template,
                eos_token=token_text(llama.token_eos()),
                bos_token=token_text(llama.token_bos()),
            )(messages=cast(Any, wire))
            stops = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop or ""]
            return rendered.prompt, tuple(stop for stop in stops if stop)
        except Exception:  # a template llama-cpp-python's Jinja cannot render
            pass
    text = "".join(CHATML_TURN.format(**turn) for turn in wire) + "<|im_start|>assistant\n"
    return text, ("<|im_end|>",)


def _threadsafe_put(
    loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[object]
) -> Callable[[object], None]:
    def put(item: object) -> None:
        # The loop may be gone when an abandoned stream's worker finishes.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, item)

    return put
