"""Token healing (`backends/token_healing.py`): a chat prompt that ends inside the cursor's
line gives its last word back to the model, which must write it again before its answer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from lsp_server.backends.base import GenerationRequest
from lsp_server.backends.embedded import EmbeddedBackend
from lsp_server.backends.token_healing import HealedStart, Vocabulary, split_healed
from lsp_server.prompt.build import Prompt
from lsp_server.prompt.templates import TEMPLATES
from lsp_server.settings import BackendSettings
from tests.support.generation import text_and_end
from tests.support.lsp import running_server

PIECES = [b"", b"\n", b"   ", b" ret", b" re", b" r", b" return", b"urn", b"t", b"x", b"(", b" ("]
VOCABULARY = Vocabulary(PIECES)


def ids(*pieces: bytes) -> list[int]:
    return [PIECES.index(piece) for piece in pieces]


def test_the_trailing_word_and_its_space_are_given_back_never_a_line_break() -> None:
    assert split_healed(VOCABULARY, ids(b"x", b"\n", b"   ", b" ret")) == (
        ids(b"x", b"\n", b"   "),
        b" ret",
    )
    # A word in two tokens goes back whole.
    assert split_healed(VOCABULARY, ids(b"\n", b" re", b"t")) == (ids(b"\n"), b" ret")
    # No word at the end: the last token only (the model may join it to what follows).
    assert split_healed(VOCABULARY, ids(b"x", b" (")) == (ids(b"x"), b" (")
    assert split_healed(VOCABULARY, ids(b"x", b"\n")) == (ids(b"x", b"\n"), b"")
    # A special token spells nothing and stops the healing.
    assert split_healed(VOCABULARY, ids(b"", b"x"))[0] == ids(b"")


def test_only_tokens_that_agree_with_what_is_left_may_be_sampled() -> None:
    healing = HealedStart(VOCABULARY, b" ret")
    logits = np.arange(len(PIECES), dtype=np.single)
    masked = healing.mask_logits(np.zeros(0, dtype=np.intc), logits)
    allowed = {PIECES[token] for token in np.flatnonzero(np.isfinite(masked))}
    assert allowed == {b" ret", b" re", b" r", b" return"}
    assert healing.take(b" re") == b"" and not healing.done
    masked = healing.mask_logits(np.zeros(0, dtype=np.intc), logits)
    assert {PIECES[token] for token in np.flatnonzero(np.isfinite(masked))} == {b"t"}
    assert healing.take(b"t") == b"" and healing.done
    # Healed: the logits go through untouched, the bytes are the answer.
    assert healing.mask_logits(np.zeros(0, dtype=np.intc), logits) is logits
    assert healing.take(b"urn") == b"urn"
    # A token that spells the word and goes on: the rest of it is the answer.
    assert HealedStart(VOCABULARY, b" ret").take(b" return") == b"urn"


async def test_the_engine_writes_the_word_again_and_sends_only_what_follows(
    tiny_eos_gguf_path: Path,
) -> None:
    """The real llama.cpp engine on a model whose greedy choice is always the end of text:
    unhealed it ends at once; healed, that choice is masked until the word is written."""
    backend = EmbeddedBackend(BackendSettings(model_path=str(tiny_eos_gguf_path)))
    template = TEMPLATES["qwen-chat"]
    prefix = "def fib(n):\n    ret"
    prompt = Prompt(template.render(prefix, "\n", "", "python"), prefix, "\n", template, (), 0)
    try:
        text, _ = await text_and_end(backend.stream(GenerationRequest(prompt, max_tokens=8)))
        plain = dataclasses.replace(backend.last_stats)
        healed_prompt = dataclasses.replace(prompt, heal_last_word=True)
        healed_text, _ = await text_and_end(
            backend.stream(GenerationRequest(healed_prompt, max_tokens=8))
        )
        healed = backend.last_stats
    finally:
        await backend.aclose()
    assert text == "" and plain.extra["generated_tokens"] == 1  # the end of text
    assert healed.prompt_tokens is not None and plain.prompt_tokens is not None
    given_back = plain.prompt_tokens - healed.prompt_tokens
    assert given_back >= 1
    # Written again (at least one token per given-back token's worth of bytes), then the end.
    assert healed.extra["generated_tokens"] >= 2
    assert healed_text == ""  # the word itself is not sent: the user typed it


async def test_the_editor_pipeline_heals_mid_line_and_not_where_a_line_starts(
    tmp_path: Path, tiny_eos_gguf_path: Path
) -> None:
    """Over real JSON-RPC: the instruct chat (forced here; `auto` picks it from an
    instruct model's name) on the embedded engine. Where the cursor starts a line the
    model ends at once; mid-line it must first write `ret` again, which is not shown."""
    options = {
        "backend": {
            "kind": "embedded",
            "modelPath": str(tiny_eos_gguf_path),
            "fimTemplate": "qwen-chat",
        }
    }
    uri = "file:///work/fib.py"
    async with running_server(tmp_path, options, env={"GHOSTLS_DEBUG": "1"}) as session:
        session.open(uri, "def fib(n):\n    \n    ret\n")
        at_start = await session.inline(uri, 1, 4)
        mid_line = await session.inline(uri, 2, 7)
        info = await session.client.protocol.send_request_async("ghostls/debugInfo", {})
    found = info["generations"] if isinstance(info, dict) else info.generations
    start, healed = [g if isinstance(g, dict) else g._asdict() for g in found]
    assert start["generatedTokens"] == 1  # the end of text, at once
    assert healed["generatedTokens"] >= 2  # `ret` written again, then the end
    for result in (at_start, mid_line):
        assert not result or not result.items or not result.items[0].insert_text.strip()
