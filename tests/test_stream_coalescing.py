"""The lifecycle under a fast stream: updates coalesced, the final one at once, the
stream still closed the moment the cut is final (engine + an in-process Backend)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from lsp_server.backends.base import GenerationRequest, PromptFacts
from lsp_server.completion.job import build_job
from lsp_server.completion.lifecycle import CompletionEngine, Suggestion
from lsp_server.context.cursor import build_cursor_context
from lsp_server.settings import Settings
from lsp_server.workspace.document import TextDocument

SOURCE = "def f():\n    \n"
# The cursor's line holds only indentation: the model is prompted with it empty
# (`prompt/blank_line.py`) and writes its own, which the first line then drops.


class ScriptedBackend:
    """Yields `chunks` as fast as the loop runs, advancing a fake clock 1 ms each."""

    description = "scripted"
    model_name = "scripted"

    def __init__(self, chunks: list[str], now: list[float]) -> None:
        self.chunks, self.now, self.pulled = chunks, now, 0

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        for chunk in self.chunks:
            self.now[0] += 0.001
            self.pulled += 1
            yield chunk
            await asyncio.sleep(0)

    def prompt_facts(self) -> PromptFacts:
        return PromptFacts(self.model_name)

    async def prepare(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


async def run(
    chunks: list[str], settings: Settings, kind: type[ScriptedBackend] = ScriptedBackend
) -> tuple[ScriptedBackend, list[Suggestion]]:
    now = [0.0]
    backend = kind(chunks, now)
    engine = CompletionEngine(backend, clock=lambda: now[0])
    document = TextDocument("file:///w/a.py", SOURCE, 1, "python")
    context = build_cursor_context(document, len("def f():\n    "))
    job = build_job(context, settings, backend, streaming=True)
    updates: list[Suggestion] = []
    finished = asyncio.Event()

    def on_update(update: Suggestion) -> None:
        updates.append(update)
        if update.done:
            finished.set()

    first = await engine.complete(job, on_update)
    assert first is not None
    if not first.done:
        await asyncio.wait_for(finished.wait(), 10)
    await engine.aclose()
    return backend, [first, *updates]


async def test_many_lines_fast_give_few_updates_and_the_whole_text_last() -> None:
    lines = [f"    x{i} = {i}\n" for i in range(300)]
    chunks = [piece for line in lines for piece in (line[:3], line[3:])]
    settings = Settings()
    settings = settings.__class__(
        settings.backend,
        settings.completion.__class__(max_lines=1000, max_tokens=10_000),
    )
    _, answers = await run(chunks, settings)
    final = answers[-1]
    assert final.done
    assert final.text.startswith("x0 = 0\n    x1 = 1\n")
    assert "x299 = 299" in final.text
    # 600 chunks over 600 fake ms: about one update per 16 ms, never one per chunk.
    assert len(answers) < len(chunks) // 5
    # Each update is the suggestion so far: a start of the final text.
    assert all(final.text.startswith(a.text) for a in answers)


async def test_a_final_cut_closes_the_stream_at_once_and_is_sent_at_once() -> None:
    # Single line in Python (no brace can open on the next line): the line break ends
    # the suggestion, and no chunk after it is pulled.
    chunks = ["return", " a", "\n", "junk", "junk"]
    settings = Settings()
    single = settings.__class__(settings.backend, settings.completion.__class__(multiline="never"))
    backend, answers = await run(chunks, single)
    assert answers[-1].done and answers[-1].text == "return a"
    assert backend.pulled == 3


class JumpingBackend(ScriptedBackend):
    """Like ScriptedBackend, but a second passes before the last chunk: the update for
    the text before it goes out at once, not coalesced into the final one."""

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        for index, chunk in enumerate(self.chunks):
            self.now[0] += 1.0 if index == len(self.chunks) - 1 else 0.001
            yield chunk
            await asyncio.sleep(0)


async def test_an_update_never_shows_a_line_break_the_final_text_drops() -> None:
    # The model ends with a line break and stops: the final cut drops that break, so
    # an update that showed it would let the editor accept a line nobody suggested.
    chunks = ["    x = 1", "\n", "    y = 2", "\n"]
    _, answers = await run(chunks, Settings(), JumpingBackend)
    assert not answers[0].done
    assert answers[-1].text == "x = 1\n    y = 2"
    assert [a.text for a in answers] == ["x = 1", "x = 1\n    y = 2", answers[-1].text]
