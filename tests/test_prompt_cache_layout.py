"""The prompt stays cacheable across cursor moves: neighbour snippets that stay put
within a file, and a prompt budget sized from the backend's measured prompt speed."""

from __future__ import annotations

from pathlib import Path

from lsp_server.backends.base import GenerationRequest, GenerationStats
from lsp_server.backends.embedded import EmbeddedBackend
from lsp_server.completion.job import build_job
from lsp_server.completion.snippet_memory import SnippetMemory
from lsp_server.context.cursor import Snippet, SnippetChoice
from lsp_server.context.neighbours import Source
from lsp_server.context.sticky import choose_snippets
from lsp_server.prompt.budget import (
    MIN_PROMPT_TOKENS,
    affordable_near_tokens,
    affordable_prompt_tokens,
)
from lsp_server.prompt.build import Prompt
from lsp_server.settings import BackendSettings, Settings
from lsp_server.workspace.document import Pos
from lsp_server.workspace.store import WorkspaceStore
from tests.support.generation import collect

HELPERS = "".join(
    f"def helper_{i}(value):\n    return value * {i}\n\n\n" for i in range(30)
) + "".join(f"def other_{i}(text):\n    return text.strip() + '{i}'\n\n\n" for i in range(30))


def _choose(
    kept: SnippetChoice | None, line: int, fresh: tuple[Snippet, ...], sources: list[Source]
) -> SnippetChoice:
    return choose_snippets(kept, line, fresh, sources, lines=100)


def test_snippets_stay_while_the_cursor_moves_and_their_source_has_them() -> None:
    sources = [Source("/w/helpers.py", HELPERS)]
    first = (Snippet("/w/helpers.py", "def helper_3(value):\n    return value * 3\n"),)
    other = (Snippet("/w/helpers.py", "def other_4(text):\n"),)
    kept = _choose(None, 10, first, sources)
    assert kept.snippets == first
    # A move 90 lines down ranks other snippets; the kept ones are still valid.
    assert _choose(kept, 100, other, sources).snippets == first
    # Another document has nothing kept: its own.
    assert _choose(None, 100, other, sources).snippets == other


def test_snippets_are_chosen_again_far_away_or_when_their_source_changed() -> None:
    sources = [Source("/w/helpers.py", HELPERS)]
    first = (Snippet("/w/helpers.py", "def helper_3(value):\n    return value * 3\n"),)
    other = (Snippet("/w/helpers.py", "def other_4(text):\n"),)
    kept = _choose(_choose(None, 10, first, sources), 111, other, sources)
    assert kept.snippets == other  # too far
    edited = [Source("/w/helpers.py", HELPERS.replace("def other_4", "def renamed_4"))]
    kept = _choose(kept, 120, first, edited)
    assert kept.snippets == first
    kept = _choose(kept, 125, other, edited)
    assert kept.snippets == first  # still valid
    gone = [Source("/w/helpers.py", HELPERS.replace("return value * 3", "return 3"))]
    kept = _choose(kept, 125, other, gone)
    assert kept.snippets == other
    assert _choose(kept, 125, first, []).snippets == first  # no source: fresh


def test_assembled_snippets_do_not_change_when_the_cursor_moves_a_few_lines() -> None:
    """What a server sees: the same open documents, the cursor 40 lines further down
    where other identifiers are near; the prompt's leading snippets are unchanged."""
    body = "".join(
        f"def use_{i}(x):\n    y = helper_{i}(x)\n    return other_{i}(y)\n\n" for i in range(30)
    )
    uri = "file:///w/sticky_main.py"
    store = WorkspaceStore()
    main = store.open(uri, body, 1, "python")
    store.open("file:///w/helpers.py", HELPERS, 1, "python")

    memory = SnippetMemory()  # as the server's completion engine keeps them

    def at(line: int) -> tuple[Snippet, ...]:
        offset = main.offset_at(Pos(line, 4))
        return memory.context_for(store.snapshot(main, offset, "", Settings(), False)).snippets

    fresh_far = at(45)
    memory.forget(uri)
    near = at(5)
    assert near and fresh_far != near  # ranked afresh, the far place gets other ones
    assert at(45) == near


def test_prompt_budget_follows_the_measured_prompt_speed() -> None:
    assert affordable_prompt_tokens(1536, None) == 1536  # not measured: the setting
    assert affordable_prompt_tokens(1536, 131.0) == 512  # 524, in steps of 64
    assert affordable_prompt_tokens(1536, 5000.0) == 1536  # a fast backend: the setting
    assert affordable_prompt_tokens(1536, 10.0) == MIN_PROMPT_TOKENS
    assert affordable_prompt_tokens(1536, 131.0, 8.0) == 512
    # A user who raised the timeout waits longer for a cold prompt.
    assert affordable_prompt_tokens(1536, 20.0, 60.0) == 576


async def test_the_embedded_engine_measures_its_prompt_speed_at_load(
    tiny_gguf_path: Path,
) -> None:
    backend = EmbeddedBackend(BackendSettings(model_path=str(tiny_gguf_path)))
    try:
        assert backend.prompt_tokens_per_s is None
        await backend.prepare()
        speed = backend.prompt_tokens_per_s
        assert speed is not None and speed > 0
    finally:
        await backend.aclose()


async def test_the_reported_speed_moves_only_when_the_measure_moved_a_lot(
    tiny_gguf_path: Path,
) -> None:
    """The budget decides the windows: small wobbles of the measure must not move it."""
    backend = EmbeddedBackend(BackendSettings(model_path=str(tiny_gguf_path)))
    try:
        await backend.prepare()
        engine = backend._engine
        assert engine is not None
        engine.prompt_tokens_per_s = engine._measured_speed = 100.0
        for speed in (110.0, 92.0, 108.0, 95.0):
            engine.observe_prompt_speed(speed)
        assert backend.prompt_tokens_per_s == 100.0
        for _ in range(6):
            engine.observe_prompt_speed(40.0)  # the machine got busy
        assert backend.prompt_tokens_per_s is not None and backend.prompt_tokens_per_s < 75.0
    finally:
        await backend.aclose()


async def test_after_a_jump_only_the_window_next_to_the_cursor_is_evaluated(
    tiny_backend: EmbeddedBackend,
) -> None:
    """The editing session of the real-model replay, on the tiny GGUF with the speed of
    a 0.5B model on 2 cores: after the first jump in a document, a jump evaluates the
    window next to the cursor and the suffix, not a whole new window (which was ~all
    of the prompt after the snippets)."""
    await tiny_backend.prepare()
    engine = tiny_backend._engine
    assert engine is not None
    body = "".join(
        f"def use_{i}(x):\n    y = helper_{i}(x)\n    return other_{i}(y)\n\n" for i in range(90)
    )
    uri = "file:///w/jumps.py"
    memory = SnippetMemory()  # as the server's completion engine keeps them
    store = WorkspaceStore()
    main = store.open(uri, body, 1, "python")
    settings = Settings()

    async def at(line: int) -> tuple[GenerationStats, Prompt]:
        # (set before every job: the tiny model's own measure would replace it)
        engine.prompt_tokens_per_s = engine._measured_speed = 131.0
        offset = main.offset_at(Pos(line, 8))
        context = memory.context_for(store.snapshot(main, offset, "", settings, False))
        prompt = build_job(context, settings, tiny_backend, streaming=False).prompt
        await collect(tiny_backend.stream(GenerationRequest(prompt, 2, timeout_s=60.0)))
        return tiny_backend.last_stats, prompt

    await at(120)  # the first request: one window, nothing cached
    await at(200)  # the first jump: the head is new too
    stats, prompt = await at(280)
    tokenizer = tiny_backend.tokenizer()
    assert tokenizer is not None and stats.prompt_tokens is not None
    assert stats.extra["evaluated_prompt_tokens"] * 3 < stats.prompt_tokens
    new = tokenizer.count_tokens(prompt.prefix + prompt.suffix)
    # The near window, the suffix, the markers and the current file's header.
    assert stats.extra["evaluated_prompt_tokens"] <= new + 16
    near = affordable_near_tokens(131.0)
    assert near is not None and tokenizer.count_tokens(prompt.prefix) <= near
    assert prompt.snippets and prompt.snippets[0].text.startswith("def use_0(x):")
