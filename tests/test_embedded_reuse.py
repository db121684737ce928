"""KV-cache chunk reuse on the embedded engine (the tiny GGUF, real llama.cpp): a prompt
whose window moved keeps the cached lines it still has, wherever they now are."""

from __future__ import annotations

from pathlib import Path

from lsp_server.backends.base import GenerationRequest
from lsp_server.backends.embedded import EmbeddedBackend
from lsp_server.backends.llama_cache import REUSE_MIN_TOKENS
from tests.support.generation import collect, qwen_request, text_and_end

LINES = [f"def function_{i}(x):\n    return x * {i} + {i * 7}\n\n" for i in range(40)]


def request(prefix: str, suffix: str = "\n", context: str = "") -> GenerationRequest:
    return qwen_request(prefix, suffix, context, max_tokens=4, timeout_s=60.0)


async def test_a_window_that_moved_down_reuses_the_lines_it_kept(
    tiny_backend: EmbeddedBackend,
) -> None:
    head = "<|file_sep|>other.py\nVALUE = 1\n<|file_sep|>main.py\n"
    await collect(tiny_backend.stream(request("".join(LINES[0:24]), "\n", head)))
    # The cursor moved four definitions down: the window starts four definitions later.
    text, end = await text_and_end(tiny_backend.stream(request("".join(LINES[4:28]), "\n", head)))
    stats = tiny_backend.last_stats
    tokenizer = tiny_backend.tokenizer()
    assert tokenizer is not None and stats.prompt_tokens is not None
    common = tokenizer.count_tokens(head + "<|fim_prefix|>")
    kept = tokenizer.count_tokens("".join(LINES[4:24]))
    new = tokenizer.count_tokens("".join(LINES[24:28]) + "<|fim_suffix|>\n<|fim_middle|>")
    # (the first tokens of the new window's first line may already match in place)
    assert stats.extra["moved_prompt_tokens"] >= kept - 16
    # Only the lines that are new (and a token or two at the seams) were evaluated.
    assert stats.extra["evaluated_prompt_tokens"] <= new + 4
    assert stats.cached_prompt_tokens is not None
    assert stats.cached_prompt_tokens >= common + kept - 2
    assert len(text) > 0 and end.ran_out is True


async def test_short_matches_are_not_moved(tiny_backend: EmbeddedBackend) -> None:
    await collect(tiny_backend.stream(request("".join(LINES[0:3]) + "x = 1\n")))
    await collect(tiny_backend.stream(request("y = 2\n" + LINES[0][:20])))
    stats = tiny_backend.last_stats
    assert stats.extra["moved_prompt_tokens"] == 0  # shorter than REUSE_MIN_TOKENS
    assert stats.cached_prompt_tokens is not None and stats.cached_prompt_tokens < REUSE_MIN_TOKENS


async def test_after_moving_chunks_the_next_prompt_is_served_from_a_consistent_cache(
    tiny_backend: EmbeddedBackend, tiny_gguf_path: Path
) -> None:
    """The moved cache and the engine's token bookkeeping agree: asking the same prompt
    again evaluates (almost) nothing and gives the same text as before."""
    await collect(tiny_backend.stream(request("".join(LINES[0:24]))))
    first = await collect(tiny_backend.stream(request("".join(LINES[6:30]))))
    again = await collect(tiny_backend.stream(request("".join(LINES[6:30]))))
    assert tiny_backend.last_stats.extra["evaluated_prompt_tokens"] <= 1
    assert again == first


async def test_a_prompt_found_whole_further_along_still_evaluates_its_last_token(
    tiny_backend: EmbeddedBackend,
) -> None:
    """The new prompt is the old one minus its head: every token of it is cached, at
    other places. The first sample needs logits for the last prompt token at its new
    place, not the ones left from the last generation: that token is evaluated.
    (The text may differ from a cold engine's: moved entries keep their attention to
    the head that was dropped, the approximation of llama.cpp's cache reuse.)"""
    head = "<|file_sep|>other.py\n" + "".join(LINES[30:36]) + "<|file_sep|>main.py\n"
    await collect(tiny_backend.stream(request("".join(LINES[0:20]), "\n", head)))
    text, end = await text_and_end(tiny_backend.stream(request("".join(LINES[0:20]), "\n")))
    stats = tiny_backend.last_stats
    assert stats.prompt_tokens is not None
    assert stats.extra["moved_prompt_tokens"] >= stats.prompt_tokens - 8
    assert stats.extra["evaluated_prompt_tokens"] >= 1
    assert text and end.ran_out is True
