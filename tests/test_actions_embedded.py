"""A code action on the embedded engine: the tiny random-weight GGUF (its text is
gibberish; loading, chat rendering, streaming and stopping are real)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.support.lsp import running_server
from tests.test_actions import SOURCE, ActionClient, wire_range

INSIDE_ADD = types.Range(types.Position(4, 6), types.Position(4, 6))


def embedded_options(model: Path) -> dict[str, Any]:
    return {"backend": {"kind": "embedded", "modelPath": str(model), "contextTokens": 2048}}


async def test_the_embedded_engine_runs_an_action(tmp_path: Path, tiny_gguf_path: Path) -> None:
    uri = (tmp_path / "calc.py").as_uri()
    async with running_server(tmp_path, embedded_options(tiny_gguf_path)) as session:
        actions = ActionClient(session)
        session.open(uri, SOURCE)
        future = actions.run(kind="explain", uri=uri, range=wire_range(INSIDE_ADD), actionId="x")
        await actions.streamed(3)  # the tiny model never ends by itself: stop it
        # The progress is created after the model request goes out: it can come later.
        await session.wait_until(lambda: session.client.progress_reports)
        (token,) = session.client.progress_reports
        session.client.window_work_done_progress_cancel(
            types.WorkDoneProgressCancelParams(token=token)
        )
        outcome = await future
        assert outcome["status"] == "cancelled"
        assert actions.stream[-1] == {"actionId": "x", "delta": "", "done": True, "cancelled": True}
        assert len(actions.text("x")) > 0


async def test_the_embedded_engine_finishes_an_action(
    tmp_path: Path, tiny_eos_gguf_path: Path
) -> None:
    uri = (tmp_path / "calc.py").as_uri()
    async with running_server(tmp_path, embedded_options(tiny_eos_gguf_path)) as session:
        actions = ActionClient(session)
        session.open(uri, SOURCE)
        outcome = await actions.run(kind="explain", uri=uri, range=wire_range(INSIDE_ADD))
        # The model ends by itself (end of text): a finished answer, as streamed.
        assert outcome["status"] == "done"
        assert outcome["text"] == actions.text(outcome["actionId"])
        assert actions.stream[-1]["done"] and "cancelled" not in actions.stream[-1]
