"""Typing from the first keystroke, over real JSON-RPC: a request that the keystrokes
only extend is kept in flight and adopted by the next request (its first tokens are
checked against what was typed), a contradicting edit kills it at once, and a flood
of requests stopped before their first token makes the controller debounce."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.support.fake_backend import FakeBackend, Reply, RequestRecord, Script
from tests.support.lsp import Session, openai_options, running_server
from tests.test_inline_completion import (
    CONTENT_MODIFIED,
    REQUEST_CANCELLED,
    expect_error,
    first,
    wait_backend,
)

URI = "file:///work/example.py"
SOURCE = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
LINE, COLUMN = 1, 4  # the empty line inside the function
# Long enough that every keystroke below lands before the first token.
TTFT_MS = 2000


def options(url: str, **completion: Any) -> dict[str, Any]:
    # A budget past the TTFTs: an answer is the whole line, not the words so far.
    completion.setdefault("targetLatencyMs", 60_000)
    return openai_options(url, streaming=True, **completion)


async def expect_dropped(future: asyncio.Future[Any]) -> None:
    """A request the editor cancelled (or whose document moved on before it ran)."""
    with pytest.raises(JsonRpcException) as caught:
        print("unexpected answer:", await future)
    assert caught.value.code in (REQUEST_CANCELLED, CONTENT_MODIFIED)


def replace(session: Session, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
    """One incremental change replacing `start`-`end` (a delete when `text` is empty)."""
    session.versions[URI] += 1
    change = types.TextDocumentContentChangePartial(
        types.Range(types.Position(*start), types.Position(*end)), text
    )
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=URI, version=session.versions[URI]),
            [change],
        )
    )


def type_and_ask(session: Session, previous: asyncio.Future[Any], typed: str) -> Any:
    """A keystroke as VS Code sends it: the edit, the cancel of the unanswered previous
    request, the new request at the new cursor."""
    column = COLUMN + len(typed) - 1
    session.type_text(URI, LINE, column, typed[-1])
    session.cancel(previous)
    return session.inline(URI, LINE, column + 1)


async def ask_then_type_re(session: Session, backend: FakeBackend) -> Any:
    """Open SOURCE, ask at the cursor, then type "r" and "e" once the model has the
    request; the answer to the last keystroke (the two before it were dropped)."""
    session.open(URI, SOURCE)
    asked = session.inline(URI, LINE, COLUMN)
    await wait_backend(backend, lambda b: len(b.completion_requests()) == 1)
    typed_r = type_and_ask(session, asked, "r")
    result = await type_and_ask(session, typed_r, "re")
    await expect_dropped(asked)
    await expect_dropped(typed_r)
    return result


async def test_an_extended_request_is_adopted_and_served_when_its_tokens_agree(
    tmp_path: Path,
) -> None:
    # Asked on a line holding only indentation: the prompt sees it empty
    # (`prompt/blank_line.py`) and the model writes the indentation itself.
    script = Script([Reply("    return a + b\n")], ttft_ms=TTFT_MS, token_interval_ms=5)
    with FakeBackend(script) as backend:
        async with running_server(tmp_path, options(backend.url)) as session:
            result = await ask_then_type_re(session, backend)
            assert [item.insert_text for item in result.items] == ["turn a + b"]
            # One backend request for the three keystrokes' requests: kept, not killed.
            records = backend.completion_requests()
            assert len(records) == 1 and not records[0].disconnected
            assert "def add(a, b):\n<|fim_suffix|>" in records[0].prompt
            # Its tokens came after the keystrokes: adopted before its first token.
            assert result.items[0].command.arguments[0].endswith(":2")


async def test_an_adopted_request_whose_first_tokens_disagree_dies_and_the_newest_goes_out(
    tmp_path: Path,
) -> None:
    def respond(prompt: str) -> str:
        if "    re<|fim_suffix|>" in prompt:
            return "turn a - b\n"
        return "print(a) + " * 100  # no line end: only the disagreement stops it

    script = Script(ttft_ms=TTFT_MS, token_interval_ms=5)
    with FakeBackend(script) as backend:
        backend.responder = respond
        async with running_server(tmp_path, options(backend.url)) as session:
            result = await ask_then_type_re(session, backend)
            assert [item.insert_text for item in result.items] == ["turn a - b"]
            records = backend.completion_requests()
            assert len(records) == 2  # the kept one, then the newest keystroke's
            assert "    re<|fim_suffix|>" in records[1].prompt
            stale = records[0]
            await wait_backend(backend, lambda b: stale.disconnected)
            assert 0 < stale.tokens_sent < 300  # killed at its first tokens, not run out


@pytest.mark.parametrize("edit", ["delete", "elsewhere"])
async def test_a_contradicting_edit_kills_a_kept_request_before_its_first_token(
    tmp_path: Path, edit: str
) -> None:
    script = Script([Reply("return a + b\n")], ttft_ms=TTFT_MS, token_interval_ms=5)
    with FakeBackend(script) as backend:
        async with running_server(tmp_path, options(backend.url)) as session:
            session.open(URI, SOURCE)
            asked = session.inline(URI, LINE, COLUMN)
            await wait_backend(backend, lambda b: len(b.completion_requests()) == 1)
            record: RequestRecord = first(backend)
            typed_r = type_and_ask(session, asked, "r")  # kept: it only types on
            # Answered after the server has handled the keystroke (in order).
            await session.inline("file:///work/not-open.py", 0, 0)
            assert not record.disconnected
            if edit == "delete":
                replace(session, (LINE, COLUMN), (LINE, COLUMN + 1), "")
            else:  # the same character, but typed on another line of the prompt
                session.type_text(URI, 3, 0, "#")
            await wait_backend(backend, lambda b: record.disconnected)
            assert record.tokens_sent == 0  # killed at once, not at its first token
            await expect_dropped(typed_r)


async def test_a_flood_of_requests_stopped_before_their_first_token_makes_it_debounce(
    tmp_path: Path,
) -> None:
    """A typist's rhythm (a key every 50 ms, the input of this test, not a wait for a
    result), each key on another line: nothing to adopt, every request is stopped
    before its first token by the next key. The controller learns from those that the
    backend's first token comes later than a keystroke, and debounces: the flood soon
    stops reaching the backend, and of two requests in a row only the second does
    (without a debounce, the first would start at once)."""
    lines = "".join(f"x{index} = 0\n" for index in range(14))
    script = Script([Reply("1\n")], ttft_ms=30_000)
    keys = 10
    with FakeBackend(script) as backend:
        async with running_server(tmp_path, options(backend.url, targetLatencyMs=500)) as session:
            session.open(URI, lines)
            # Answered once start-up (the backend probe) is over: the flood is not
            # held back by it.
            await session.inline("file:///work/not-open.py", 0, 0)
            previous: asyncio.Future[Any] | None = None
            for index in range(keys):
                session.type_text(URI, index, 0, "y")
                if previous is not None:
                    session.cancel(previous)
                previous = session.inline(URI, index, 1)
                await asyncio.sleep(0.05)
            assert previous is not None
            flood = len(backend.completion_requests())
            assert 2 <= flood <= keys // 2
            session.type_text(URI, 12, 0, "a")
            session.cancel(previous)
            replaced = session.inline(URI, 12, 1)
            session.type_text(URI, 13, 0, "b")
            last = session.inline(URI, 13, 1)
            await wait_backend(
                backend, lambda b: "\nb<|fim_suffix|>x13" in b.completion_requests()[-1].prompt
            )
            session.cancel(last)
            await expect_error(replaced, CONTENT_MODIFIED)
            await expect_error(last, REQUEST_CANCELLED)
            prompts = [record.prompt for record in backend.completion_requests()]
            assert not any("\na<|fim_suffix|>x12" in prompt for prompt in prompts)
            assert first(backend).disconnected
