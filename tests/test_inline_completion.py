"""The core slice over real JSON-RPC: the real server as a subprocess, a real LSP client,
and a real HTTP model server on 127.0.0.1 that records what it was asked and when the
client hung up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.support.fake_backend import FakeBackend, Reply, RequestRecord, Script, split_tokens
from tests.support.lsp import Session, capabilities, openai_options, running_server

URI = "file:///work/example.py"
SOURCE = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
BODY = (1, 4)  # the empty line inside the function
# The line holds only indentation: the model is prompted with it empty
# (`prompt/blank_line.py`) and writes its own; the four typed spaces are not shown.
TYPED = "    "


def slow(text: str, interval_ms: float = 40, ttft_ms: float = 0) -> Script:
    return Script([Reply(text=text)], ttft_ms=ttft_ms, token_interval_ms=interval_ms)


async def wait_backend(backend: FakeBackend, predicate: Any, limit_s: float = 10) -> None:
    assert await asyncio.to_thread(backend.wait_for, predicate, limit_s), "backend never got there"


CONTENT_MODIFIED, REQUEST_CANCELLED = -32801, -32800


async def expect_error(future: asyncio.Future[Any], code: int) -> None:
    with pytest.raises(JsonRpcException) as caught:
        print("unexpected answer:", await future)
    assert caught.value.code == code


def first(backend: FakeBackend) -> RequestRecord:
    return backend.completion_requests()[0]


@asynccontextmanager
async def source_open(
    tmp: Path, backend: FakeBackend, streaming: bool = False, **completion: Any
) -> AsyncIterator[Session]:
    """A real server on `backend`'s model, with SOURCE open at URI. A streaming client
    gets a latency budget past every pacing here: its answers are whole lines."""
    if streaming:
        completion.setdefault("targetLatencyMs", 60_000)
    async with running_server(tmp, openai_options(backend.url, streaming, **completion)) as session:
        session.open(URI, SOURCE)
        yield session


async def test_non_streaming_client_gets_the_whole_cut_suggestion(tmp_path: Path) -> None:
    with FakeBackend(slow("return a + b\n\nprint(add(1, 2))", interval_ms=5)) as backend:
        async with source_open(tmp_path, backend) as session:
            result = await session.inline(URI, *BODY)
            assert [item.insert_text for item in result.items] == ["return a + b"]
            assert result.items[0].range == types.Range(
                types.Position(*BODY), types.Position(*BODY)
            )
            assert result.items[0].command.command == "ghostls.accepted"
            prompt = first(backend).body["prompt"]
            # The line holds only indentation: prompted as empty (`prompt/blank_line.py`).
            assert prompt.startswith("<|fim_prefix|>def add(a, b):\n<|fim_suffix|>\n\nprint")
            assert prompt.endswith("<|fim_middle|>")
            assert session.updates == []


async def test_streaming_client_gets_the_first_line_then_updates(tmp_path: Path) -> None:
    text = "total = a + b\n    log(total)\n    return total"
    with FakeBackend(slow(TYPED + text, interval_ms=60)) as backend:
        async with source_open(tmp_path, backend, streaming=True) as session:
            result = await session.inline(URI, *BODY)
            item = result.items[0]
            assert item.insert_text.startswith("total = a + b")
            assert "return total" not in item.insert_text  # answered before the end
            await session.wait_until(lambda: any(u["done"] for u in session.updates))
            last = session.updates[-1]
            assert last["text"] == text
            assert last["itemId"] == item.command.arguments[0]
            assert (last["uri"], last["version"], last["position"]) == (
                URI,
                1,
                {"line": 1, "character": 4},
            )
            grown = [len(u["text"]) for u in session.updates]
            assert grown == sorted(grown) and len(grown) >= 2


async def test_cancel_mid_stream_answers_once_and_disconnects_the_backend(tmp_path: Path) -> None:
    lines = "".join(f"    x{i} = {i}\n" for i in range(50))
    with FakeBackend(slow(lines.lstrip(), interval_ms=50)) as backend:
        async with source_open(tmp_path, backend) as session:
            future = session.inline(URI, *BODY)
            await wait_backend(
                backend, lambda b: b.completion_requests() and first(b).tokens_sent >= 2
            )
            session.cancel(future)
            await expect_error(future, REQUEST_CANCELLED)
            await wait_backend(backend, lambda b: first(b).disconnected)
            assert not first(backend).finished
            assert first(backend).tokens_sent < 50


async def test_contradicting_keystroke_closes_the_stream_without_cancel(tmp_path: Path) -> None:
    with FakeBackend(slow("return a + b  # adding", interval_ms=60)) as backend:
        async with source_open(tmp_path, backend, streaming=True) as session:
            future = session.inline(URI, *BODY)
            await wait_backend(
                backend, lambda b: b.completion_requests() and first(b).tokens_sent >= 1
            )
            session.type_text(URI, *BODY, "z")  # the model said "return"
            await wait_backend(backend, lambda b: first(b).disconnected)
            await expect_error(future, CONTENT_MODIFIED)
            assert not first(backend).finished


async def test_typing_through_a_finished_suggestion_needs_no_backend(tmp_path: Path) -> None:
    with FakeBackend(slow("return a + b", interval_ms=1)) as backend:
        async with source_open(tmp_path, backend) as session:
            await session.inline(URI, *BODY)
            session.type_text(URI, 1, 4, "ret")
            result = await session.inline(URI, 1, 7)
            assert [item.insert_text for item in result.items] == ["urn a + b"]
            assert len(backend.completion_requests()) == 1


async def test_typing_through_a_live_stream_is_served_by_it(tmp_path: Path) -> None:
    # The model writes the line's indentation again (column-zero prompt): what is typed
    # after the editor's indentation is checked against the text after it.
    text = "result = a + b\n    return result"
    # Paced slowly enough that the stream is still live when the second request comes.
    with FakeBackend(slow(TYPED + text, interval_ms=150)) as backend:
        async with source_open(tmp_path, backend, streaming=True) as session:
            first_answer = await session.inline(URI, *BODY)
            assert first_answer.items[0].insert_text.startswith("result = a + b")
            session.type_text(URI, 1, 4, "res")
            second = await session.inline(URI, 1, 7)
            assert second.items[0].insert_text.startswith("ult = a + b")
            await session.wait_until(lambda: any(u["done"] for u in session.updates))
            assert session.updates[-1]["text"] == text[3:]
            assert session.updates[-1]["version"] == 2
            assert len(backend.completion_requests()) == 1
            # The typing did not cut the stream short: every token was generated (the
            # server may close the stream itself once the cut is final at the end).
            await wait_backend(backend, lambda b: first(b).finished or first(b).disconnected)
            assert first(backend).tokens_sent == len(split_tokens(TYPED + text))


async def test_an_edit_during_the_request_is_never_answered_with_old_text(tmp_path: Path) -> None:
    with FakeBackend(slow("return a + b", interval_ms=40, ttft_ms=100)) as backend:
        async with source_open(tmp_path, backend) as session:
            future = session.inline(URI, *BODY)
            await wait_backend(backend, lambda b: b.completion_requests())
            session.type_text(URI, 3, 0, "# edited elsewhere\n")
            await expect_error(future, CONTENT_MODIFIED)
            await wait_backend(backend, lambda b: first(b).disconnected)


async def test_newer_request_cancels_the_older_one(tmp_path: Path) -> None:
    lines = "".join(f"    x{i} = {i}\n" for i in range(20))
    with FakeBackend(slow(lines.lstrip(), interval_ms=50)) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(URI, "def add(a, b):\n    \ndef sub(a, b):\n    \n")
            older = session.inline(URI, 1, 4)
            await wait_backend(backend, lambda b: b.completion_requests())
            newer = session.inline(URI, 3, 4)  # same document, other place: no agreement
            await wait_backend(backend, lambda b: first(b).disconnected)
            assert (await older).items == ()
            assert (await newer).items
            assert len(backend.completion_requests()) == 2


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(status=500), "HTTP 500"),
        (Reply(status=401), "API key"),
        (Reply(fault="malformed", text="a b c"), "malformed"),
    ],
)
async def test_backend_failures_become_a_readable_status(
    tmp_path: Path, reply: Reply, expected: str
) -> None:
    with FakeBackend(Script([reply])) as backend:
        async with source_open(tmp_path, backend) as session:
            assert (await session.inline(URI, *BODY)).items == ()
            errors = [s["detail"] for s in session.statuses if s["state"] == "error"]
            assert errors and expected in errors[-1]
            backend.set_script(Script([Reply(text="return a + b")]))
            assert (await session.inline(URI, *BODY)).items[0].insert_text == "return a + b"


async def test_refused_connection_says_so_and_the_server_keeps_serving(tmp_path: Path) -> None:
    with FakeBackend() as backend:
        url = backend.url  # closed below: nothing listens there any more
    async with running_server(tmp_path, openai_options(url)) as session:
        session.open(URI, SOURCE)
        assert (await session.inline(URI, *BODY)).items == ()
        errors = [s["detail"] for s in session.statuses if s["state"] == "error"]
        assert "refused the connection" in errors[-1]
        assert url.split("//")[1] in errors[-1]


async def test_a_hanging_backend_is_cut_off_by_the_time_budget(tmp_path: Path) -> None:
    with FakeBackend(Script([Reply(fault="hang")])) as backend:
        async with source_open(tmp_path, backend, timeoutMs=300) as session:
            assert (await session.inline(URI, *BODY)).items == ()
            await wait_backend(backend, lambda b: first(b).disconnected)
            errors = [s["detail"] for s in session.statuses if s["state"] == "error"]
            assert "0.3 s" in errors[-1]


async def test_the_models_last_event_ends_the_suggestion_without_waiting_for_done(
    tmp_path: Path,
) -> None:
    """The event with `finish_reason` says the model has stopped: the server answers and
    closes the stream then, without waiting for `[DONE]` (this server never sends it)."""
    script = Script([Reply(text="return a + b", fault="hold_end")], token_interval_ms=5)
    with FakeBackend(script) as backend:
        async with source_open(tmp_path, backend) as session:
            result = await session.inline(URI, *BODY)
            assert [item.insert_text for item in result.items] == ["return a + b"]
            await wait_backend(backend, lambda b: first(b).disconnected)


async def test_editors_without_inline_completion_get_one_completion_item(tmp_path: Path) -> None:
    with FakeBackend(slow("urn a + b\n    # done", interval_ms=1)) as backend:
        caps = capabilities(inline=False, editor="neovim")
        async with running_server(tmp_path, openai_options(backend.url), caps=caps) as session:
            session.open(URI, "def add(a, b):\n    ret\n")
            result = await session.client.text_document_completion_async(
                types.CompletionParams(types.TextDocumentIdentifier(URI), types.Position(1, 7))
            )
            (item,) = result.items
            # Mid-line, the suggestion is the rest of the statement.
            assert item.text_edit.new_text == "return a + b"
            assert item.text_edit.range == types.Range(types.Position(1, 4), types.Position(1, 7))
            assert item.filter_text == "return a + b"


async def test_utf8_positions_are_honoured_when_negotiated(tmp_path: Path) -> None:
    with FakeBackend(slow("b)", interval_ms=1)) as backend:
        caps = capabilities(encodings=["utf-8", "utf-16"])
        async with running_server(tmp_path, openai_options(backend.url), caps=caps) as session:
            session.open(URI, 'label = "日本" + f(a, \n')
            # 'label = "日本" + f(a, ' is 20 code points but 24 UTF-8 bytes.
            await session.inline(URI, 0, 24)
            prompt = first(backend).body["prompt"]
            assert '"日本" + f(a, <|fim_suffix|>' in prompt


async def test_invalid_settings_fall_back_and_are_reported_once(tmp_path: Path) -> None:
    with FakeBackend(slow("return a + b", interval_ms=1)) as backend:
        async with source_open(
            tmp_path, backend, maxTokens="many", multiline="sometimes"
        ) as session:
            assert (await session.inline(URI, *BODY)).items[0].insert_text == "return a + b"
            messages = [m.message for m in session.client.messages]
            assert any("completion.maxTokens" in m for m in messages)
            assert any("completion.multiline" in m and "'sometimes'" in m for m in messages)
            assert first(backend).body["max_tokens"] == 256
            assert len(messages) == len(set(messages))


async def test_workspace_configuration_overrides_initialization_options(tmp_path: Path) -> None:
    with FakeBackend(slow("return a + b", interval_ms=1)) as backend:
        async with running_server(tmp_path, openai_options("http://127.0.0.1:9")) as session:
            session.client.set_configuration({"backend": {"url": backend.url}}, section="ghostls")
            session.client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings=None)
            )
            await session.wait_until(
                lambda: any(backend.url.split("//")[1] in s["backend"] for s in session.statuses)
            )
            session.open(URI, SOURCE)
            assert (await session.inline(URI, *BODY)).items[0].insert_text == "return a + b"


async def test_a_request_replaced_during_its_debounce_never_reaches_the_backend(
    tmp_path: Path,
) -> None:
    with FakeBackend(slow("eturn a + b\n", interval_ms=5)) as backend:
        async with source_open(tmp_path, backend, debounceMs=1500) as session:
            replaced = session.inline(URI, *BODY)
            # Answered only after the server has started `replaced` (in order): it is
            # waiting out its debounce now, not queued.
            await session.inline("file:///work/not-open.py", 0, 0)
            session.type_text(URI, *BODY, "r")
            newer = session.inline(URI, BODY[0], BODY[1] + 1)
            await expect_error(replaced, CONTENT_MODIFIED)
            assert [item.insert_text for item in (await newer).items] == ["eturn a + b"]
            prompts = [record.body["prompt"] for record in backend.completion_requests()]
            assert len(prompts) == 1 and "def add(a, b):\n    r<|fim_suffix|>" in prompts[0]


async def test_at_the_end_of_a_typed_suggestion_the_models_run_on_answers_without_a_request(
    tmp_path: Path,
) -> None:
    # The model wrote the line, then the code after the cursor again: the cut keeps the
    # line, and once it is typed the answer there ("nothing more") is already known.
    source = "def scale(a):\n    \n    return a * factor  # the scaled value\n"
    reply = "    factor = 2\n    return a * factor  # the scaled value\n"
    with FakeBackend(slow(reply, interval_ms=2)) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(URI, source)
            result = await session.inline(URI, *BODY)
            assert [item.insert_text for item in result.items] == ["factor = 2"]
            await wait_backend(backend, lambda b: first(b).disconnected or first(b).finished)
            for column, char in enumerate("factor = 2", start=BODY[1]):
                session.type_text(URI, BODY[0], column, char)
            end = await session.inline(URI, BODY[0], BODY[1] + len("factor = 2"))
            assert list(end.items) == []
            assert len(backend.completion_requests()) == 1
            # Typing on past it is a new position: the model is asked again.
            session.type_text(URI, BODY[0], BODY[1] + len("factor = 2"), " ")
            await session.inline(URI, BODY[0], BODY[1] + len("factor = 2 "))
            assert len(backend.completion_requests()) == 2


@pytest.mark.parametrize(
    ("max_tokens", "finish_reason", "expected"),
    [
        (12, "stop", 1),  # the server stops at the limit and says "length"
        (200, "stop", 4),
        # The backend's word decides, whatever the chunk count: several tokens a chunk.
        (200, "length", 1),
        (12, None, 1),  # a server that does not say: the chunk count decides
    ],
)
async def test_a_model_stopped_by_its_token_limit_gets_its_first_statement_shown(
    tmp_path: Path, max_tokens: int, finish_reason: str | None, expected: int
) -> None:
    source = "def setup():\n    \n"
    reply = "".join(f"    v{i} = compute({i})\n" for i in range(4))
    script = Script([Reply(text=reply, finish_reason=finish_reason)], token_interval_ms=1)
    with FakeBackend(script) as backend:
        options = openai_options(backend.url, maxTokens=max_tokens, multiline="always")
        async with running_server(tmp_path, options) as session:
            session.open(URI, source)
            result = await session.inline(URI, *BODY)
            lines = result.items[0].insert_text.split("\n")
            assert lines == [f"{'    ' if i else ''}v{i} = compute({i})" for i in range(expected)]
