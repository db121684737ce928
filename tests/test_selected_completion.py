"""VS Code's word-suggest widget is open: the inline completion request carries
`context.selectedCompletionInfo`, and ghost text shows only for an item that replaces
the same range and starts with the selected item's text. Over real JSON-RPC against a
real HTTP model server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.lsp import openai_options, running_server

URI = "file:///work/rates.py"
SOURCE = "def total(a):\n    tax_rate = 0.2\n    t\n"
CURSOR = types.Position(2, 5)  # after the typed "t"
WORD = types.Range(types.Position(2, 4), CURSOR)


async def ask(session: Any, selected: types.SelectedCompletionInfo | None) -> Any:
    params = types.InlineCompletionParams(
        context=types.InlineCompletionContext(
            types.InlineCompletionTriggerKind.Automatic, selected_completion_info=selected
        ),
        text_document=types.TextDocumentIdentifier(URI),
        position=CURSOR,
    )
    return await session.client.protocol.send_request_async(
        types.TEXT_DOCUMENT_INLINE_COMPLETION, params
    )


async def test_the_suggestion_extends_the_selected_item(tmp_path: Path) -> None:
    script = Script(
        [
            Reply(text=" = a * tax_rate", when="    tax_rate<|fim_suffix|>"),
            Reply(text="otal = 0"),
        ],
        token_interval_ms=20,
    )
    with FakeBackend(script) as backend:
        options = openai_options(backend.url, streaming=True)
        async with running_server(tmp_path, options) as session:
            session.open(URI, SOURCE)
            selected = types.SelectedCompletionInfo(range=WORD, text="tax_rate")
            result = await ask(session, selected)
            [item] = result.items
            assert item.insert_text == "tax_rate = a * tax_rate"
            assert item.range == WORD
            assert item.command.command == "ghostls.accepted"
            prompt = backend.completion_requests()[-1].body["prompt"]
            assert "\n    tax_rate<|fim_suffix|>" in prompt

            # Without the widget: the suggestion for the text as typed, at the cursor.
            plain = await ask(session, None)
            assert [i.insert_text for i in plain.items] == ["otal = 0"]
            assert plain.items[0].range == types.Range(CURSOR, CURSOR)
