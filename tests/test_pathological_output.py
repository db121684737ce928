"""Pathological model output through the server (issue #19's stall hunt): each is
answered within the server's own time limit, and the server keeps serving. Real
JSON-RPC, the scripted HTTP model streaming as fast as it can, every token sent
(`maxTokens` far above the text), so the cut reads all of it as it arrives."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.lsp import Session, openai_options, running_server

SOURCE = "def f(a, b):\n    expression = str(a)\n    \n    return eval(expression)\n"
NEXT = "def second_document(a, b):\n    total = \n"
OUTPUTS = {
    "one long line": "    x = " + " + ".join(f"v{i}" for i in range(20_000)),
    "10,000 lines": "\n".join(f"    x{i} = {i}" for i in range(10_000)),
    "deep brackets": "    x = " + "(" * 5_000 + "1",
    "deep brackets, a line each": "    x = " + "(\n" * 3_000 + "1",
    "blank lines": "\n" * 10_000,
    "indented blank lines": "    \n" * 10_000,
    "unterminated string": '    s = "' + "abc " * 20_000,
    "unterminated triple quote": '    s = """' + "abc\n" * 5_000,
    "open braces": "{\n" * 3_000,
}


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streaming"])
async def test_pathological_outputs_are_answered_in_time_and_the_server_goes_on(
    tmp_path: Path, streaming: bool
) -> None:
    with FakeBackend() as backend:
        # 10 s: seconds of work more than the slowest of these takes on a loaded CI.
        options = openai_options(
            backend.url, streaming, timeoutMs=10_000, maxTokens=100_000, multiline="always"
        )
        async with running_server(tmp_path, options) as session:
            for index, (name, output) in enumerate(OUTPUTS.items()):
                backend.set_script(
                    Script(
                        [
                            Reply("a + b", when="second_document"),
                            Reply(output, finish_reason="length"),
                        ]
                    )
                )
                uri = (tmp_path / f"a{index}.py").as_uri()
                session.open(uri, SOURCE)
                answer = await session.inline(uri, 2, 4)
                assert isinstance(answer, types.InlineCompletionList), name
                # Past `timeoutMs` the server would have said so: "error", with the limit.
                assert not [s for s in session.statuses if s.get("state") == "error"], name
                close(session, uri)
                other = (tmp_path / f"b{index}.py").as_uri()
                session.open(other, NEXT)
                follow = await session.inline(other, 1, 12)
                assert [item.insert_text for item in follow.items] == ["a + b"], name
                close(session, other)


def close(session: Session, uri: str) -> None:
    session.client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    )
