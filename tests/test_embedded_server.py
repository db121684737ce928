"""The zero-setup default over real JSON-RPC: the embedded llama.cpp engine with a tiny
GGUF the tests build (its text is gibberish; loading and streaming are real). That a
cancel stops the engine within one token is tested at the engine (test_embedded.py)."""

from __future__ import annotations

from pathlib import Path

from tests.support.lsp import running_server

URI = "file:///work/example.py"
SOURCE = "def add(a, b):\n    \n"


def embedded(model: Path, **completion: object) -> dict[str, object]:
    return {"backend": {"kind": "embedded", "modelPath": str(model)}, "completion": completion}


async def test_inline_completion_from_the_embedded_engine(
    tmp_path: Path, tiny_gguf_path: Path
) -> None:
    options = embedded(tiny_gguf_path, maxTokens=8, multiline="always")
    async with running_server(tmp_path, options) as session:
        session.open(URI, SOURCE)
        result = await session.inline(URI, 1, 4)
        # The tiny model's gibberish has no line break: its 8 tokens end mid-line, and
        # a line the token limit cut is never shown (issue #19). The engine ran to the
        # limit and the cut said why the answer is empty.
        assert not result.items
        await session.wait_until(
            lambda: any(s["detail"] == "ran out of tokens mid-line" for s in session.statuses)
        )
        ready = [s for s in session.statuses if s["detail"] == "ready"]
        assert ready and "embedded" in ready[0]["backend"]


async def test_debug_info_reports_the_engines_generations(
    tmp_path: Path, tiny_gguf_path: Path
) -> None:
    """What the real-model bench reads per answer: counts, no text."""
    options = embedded(tiny_gguf_path, maxTokens=8, multiline="always")
    async with running_server(tmp_path, options, env={"GHOSTLS_DEBUG": "1"}) as session:
        session.open(URI, SOURCE)
        await session.inline(URI, 1, 4)
        info = await session.client.protocol.send_request_async("ghostls/debugInfo", {})
    generations = info["generations"] if isinstance(info, dict) else info.generations
    (first,) = [g if isinstance(g, dict) else g._asdict() for g in generations]
    assert first["seq"] == 1
    assert first["promptTokens"] > 0 and first["evaluatedPromptTokens"] == first["promptTokens"]
    assert first["cachedPromptTokens"] == 0
    assert first["generatedTokens"] == 8 and first["ranOut"] is True
