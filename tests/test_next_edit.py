"""Next edits over real JSON-RPC: the real server as a subprocess, a real LSP client,
and a scripted model on 127.0.0.1 (tests/support/fake_backend.py)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from tests.support.fake_backend import FakeBackend, Reply, RequestRecord, Script, split_tokens
from tests.support.lsp import Session, openai_options, plain, running_server

URI = "file:///work/geo.py"
SOURCE = (
    "import math\n"
    "\n"
    "def scale(x, factor):\n"
    "    y = x * factor\n"
    "    print(x, math.pi)\n"
    "    return y + x\n"
)
RENAMED_WINDOW = SOURCE.replace("x", "value").replace("import math", "import math")
CONTENT_MODIFIED, REQUEST_CANCELLED = -32801, -32800
_ids = itertools.count(1)


def inline_edit(session: Session, uri: str, line: int, character: int) -> asyncio.Future[Any]:
    msg_id = f"edit-{next(_ids)}"
    params = {
        "textDocument": {"uri": uri, "version": session.versions[uri]},
        "position": {"line": line, "character": character},
    }
    future = asyncio.wrap_future(
        session.client.protocol.send_request(
            "textDocument/copilotInlineEdit", params, msg_id=msg_id
        )
    )
    future.msg_id = msg_id  # type: ignore[attr-defined]
    return future


def rename_x(session: Session) -> None:
    """Select the parameter `x` on line 2 and type `value` over it, key by key."""
    session.versions[URI] += 1
    session.client.text_document_did_change(_change(session, 2, 10, 2, 11, "v"))
    for i, char in enumerate("alue"):
        session.versions[URI] += 1
        session.client.text_document_did_change(_change(session, 2, 11 + i, 2, 11 + i, char))


async def answer_after_rename(session: Session) -> Any:
    """Open SOURCE, rename `x` (rename_x) and ask for next edits at the end of the new name."""
    session.open(URI, SOURCE)
    rename_x(session)
    return plain(await inline_edit(session, URI, 2, 15))


async def edits_after_rename(session: Session) -> list[dict[str, Any]]:
    edits: list[dict[str, Any]] = (await answer_after_rename(session))["edits"]
    return edits


def _change(session: Session, l0: int, c0: int, l1: int, c1: int, text: str) -> Any:
    from lsprotocol import types

    change = types.TextDocumentContentChangePartial(
        types.Range(types.Position(l0, c0), types.Position(l1, c1)), text
    )
    return types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=URI, version=session.versions[URI]), [change]
    )


def window_answer(window: str, tail: str = "\n<|file_sep|>") -> str:
    return window.rstrip("\n") + "\n" + tail


def span(line: int, start: int, end: int) -> dict[str, Any]:
    return {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}}


async def wait_backend(backend: FakeBackend, predicate: Any, limit_s: float = 10) -> None:
    assert await asyncio.to_thread(backend.wait_for, predicate, limit_s), "backend never got there"


def first(backend: FakeBackend) -> RequestRecord:
    return backend.completion_requests()[0]


async def expect_error(future: asyncio.Future[Any], code: int) -> None:
    with pytest.raises(JsonRpcException) as caught:
        print("unexpected answer:", await future)
    assert caught.value.code == code


async def test_after_a_rename_the_other_uses_are_the_next_edits(tmp_path: Path) -> None:
    script = Script([Reply(text=window_answer(RENAMED_WINDOW), when="<|file_sep|>updated/")])
    with FakeBackend(script) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            result = await answer_after_rename(session)
            edits = result["edits"]
            assert [(e["range"], e["text"]) for e in edits] == [
                (span(3, 8, 9), "value"),
                (span(4, 10, 11), "value"),
                (span(5, 15, 16), "value"),
            ]
            assert {e["textDocument"]["version"] for e in edits} == {session.versions[URI]}
            assert all(e["textDocument"]["uri"] == URI for e in edits)
            assert edits[0]["command"]["command"] == "ghostls.nextEditAccepted"
            assert not any(e["atCursor"] for e in edits)
            prompt = first(backend).body["prompt"]
            # The rename, merged from five keystrokes into one change, leads the window.
            assert (
                "<|file_sep|>work/geo.py.diff\noriginal:\ndef scale(x, factor):\n"
                "updated:\ndef scale(value, factor):\n"
            ) in prompt
            assert (
                "<|file_sep|>original/work/geo.py\nimport math\n\ndef scale(x, factor):" in prompt
            )
            assert prompt.endswith("<|file_sep|>updated/work/geo.py\n")


async def test_an_edit_that_undoes_what_the_user_typed_is_dropped(tmp_path: Path) -> None:
    # The model would put `x` back on the line being typed and rename one use.
    answer = SOURCE.replace("    y = x", "    y = value")
    with FakeBackend(Script([Reply(text=window_answer(answer))])) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            edits = await edits_after_rename(session)
            assert [(e["range"], e["text"]) for e in edits] == [(span(3, 8, 9), "value")]


async def test_a_no_op_answer_and_a_cut_short_answer_give_no_edit(tmp_path: Path) -> None:
    script = Script(
        [
            # After the second edit (its diff is in the prompt): cut short by the limit.
            Reply(
                text=window_answer(RENAMED_WINDOW, ""),
                when="updated:\n    pass",
                finish_reason="length",
            ),
            Reply(text=window_answer(SOURCE)),
        ]
    )
    with FakeBackend(script) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(URI, SOURCE)
            assert plain(await inline_edit(session, URI, 3, 4)) == {
                "edits": [],
                "reason": "no change",
            }
            session.versions[URI] += 1
            session.client.text_document_did_change(_change(session, 4, 4, 4, 17, "pass"))
            cut = plain(await inline_edit(session, URI, 4, 8))
            assert cut == {"edits": [], "reason": "answer cut short"}
            assert len(backend.completion_requests()) == 2


async def test_a_request_for_an_older_version_is_refused(tmp_path: Path) -> None:
    with FakeBackend(Script([Reply(text=window_answer(RENAMED_WINDOW))])) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(URI, SOURCE)
            stale = {
                "textDocument": {"uri": URI, "version": 1},
                "position": {"line": 2, "character": 15},
            }
            rename_x(session)
            future = asyncio.wrap_future(
                session.client.protocol.send_request("textDocument/copilotInlineEdit", stale)
            )
            await expect_error(future, CONTENT_MODIFIED)
            assert backend.completion_requests() == []


async def test_a_keystroke_during_the_model_request_stops_it_and_sends_no_edit(
    tmp_path: Path,
) -> None:
    slow = Script([Reply(text=window_answer(RENAMED_WINDOW))], token_interval_ms=40)
    with FakeBackend(slow) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(URI, SOURCE)
            rename_x(session)
            future = inline_edit(session, URI, 2, 15)
            await wait_backend(
                backend, lambda b: b.completion_requests() and first(b).tokens_sent >= 1
            )
            session.versions[URI] += 1
            session.client.text_document_did_change(_change(session, 2, 15, 2, 15, "s"))
            await wait_backend(backend, lambda b: first(b).disconnected)
            await expect_error(future, CONTENT_MODIFIED)
            record = first(backend)
            assert not record.finished
            assert record.tokens_sent < len(split_tokens(window_answer(RENAMED_WINDOW))) // 2


async def test_cancel_request_and_a_newer_request_stop_the_model(tmp_path: Path) -> None:
    slow = Script([Reply(text=window_answer(RENAMED_WINDOW))], token_interval_ms=40)
    with FakeBackend(slow) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(URI, SOURCE)
            cancelled = inline_edit(session, URI, 2, 15)
            await wait_backend(backend, lambda b: len(b.completion_requests()) == 1)
            session.cancel(cancelled)
            await expect_error(cancelled, REQUEST_CANCELLED)
            await wait_backend(backend, lambda b: first(b).disconnected)
            older = inline_edit(session, URI, 2, 15)
            await wait_backend(backend, lambda b: len(b.completion_requests()) == 2)
            newer = inline_edit(session, URI, 3, 4)
            await wait_backend(backend, lambda b: b.completion_requests()[1].disconnected)
            assert plain(await older)["edits"] == []
            assert len(plain(await newer)["edits"]) == 4  # x, its three uses: nothing typed
            assert len(backend.completion_requests()) == 3


async def test_the_zeta_format_by_setting(tmp_path: Path) -> None:
    region = RENAMED_WINDOW.rstrip("\n")
    answer = f"```geo.py\n<|editable_region_start|>\n{region}\n<|editable_region_end|>\n```"
    options = {**openai_options("http://unused"), "nextEdit": {"format": "zeta"}}
    with FakeBackend(Script([Reply(text=answer, when="<|editable_region_start|>")])) as backend:
        options["backend"]["url"] = backend.url
        async with running_server(tmp_path, options) as session:
            edits = await edits_after_rename(session)
            assert [e["range"] for e in edits] == [span(3, 8, 9), span(4, 10, 11), span(5, 15, 16)]
            prompt = first(backend).body["prompt"]
            assert "def scale(value<|user_cursor_is_here|>, factor):" in prompt
            assert "-def scale(x, factor):\n+def scale(value, factor):\n```" in prompt
            assert prompt.endswith("### Response:\n")


async def test_shown_accepted_and_rejected_are_reported(tmp_path: Path) -> None:
    with FakeBackend(Script([Reply(text=window_answer(RENAMED_WINDOW))])) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            edit = (await edits_after_rename(session))[0]
            session.client.protocol.notify("textDocument/didShowInlineEdit", {"item": edit})
            session.client.protocol.notify("ghostls/nextEditRejected", {"id": edit["id"]})
            command = edit["command"]
            counts = await session.client.workspace_execute_command_async(
                _execute(command["command"], command["arguments"])
            )
            assert (counts["shown"], counts["accepted"], counts["rejected"]) == (1, 1, 1)
            assert (counts["requests"], counts["suggested"]) == (1, 1)


def _execute(command: str, arguments: list[Any]) -> Any:
    from lsprotocol import types

    return types.ExecuteCommandParams(command=command, arguments=arguments)


async def test_next_edits_use_their_own_model_when_configured(tmp_path: Path) -> None:
    completion = Script([Reply(text="unused")])
    nes = Script([Reply(text=window_answer(RENAMED_WINDOW))])
    with FakeBackend(completion) as main, FakeBackend(nes) as sweep:
        options = {
            **openai_options(main.url),
            "nextEdit": {"backend": {"url": sweep.url, "model": "sweep-next-edit-1.5b"}},
        }
        async with running_server(tmp_path, options) as session:
            edits = await edits_after_rename(session)
            assert len(edits) == 3
            assert main.completion_requests() == []
            body = first(sweep).body
            assert body["model"] == "sweep-next-edit-1.5b"  # the rest inherited from backend
            assert body["prompt"].endswith("<|file_sep|>updated/work/geo.py\n")


async def test_ollama_gets_the_prompt_raw_even_with_a_fim_template(tmp_path: Path) -> None:
    from tests.support.fake_ollama import FIM_TEMPLATE, FakeOllama, NativeReply, show_payload

    models = {"qwen2.5-coder:1.5b": show_payload(FIM_TEMPLATE)}
    with FakeOllama([NativeReply(window_answer(RENAMED_WINDOW))], models) as server:
        options = {"backend": {"kind": "ollama", "url": server.url, "model": "qwen2.5-coder:1.5b"}}
        async with running_server(tmp_path, options) as session:
            edits = await edits_after_rename(session)
            assert len(edits) == 3
            generate = [r for r in server.requests if r.path == "/api/generate"]
            assert generate[-1].body["raw"] is True
            assert "suffix" not in generate[-1].body
            assert generate[-1].body["prompt"].startswith("<|file_sep|>")


async def test_llama_server_gets_the_prompt_on_v1_completions_not_infill(tmp_path: Path) -> None:
    with FakeBackend(Script([Reply(text=window_answer(RENAMED_WINDOW))])) as backend:
        options = {"backend": {"kind": "llamacpp", "url": backend.url, "model": "sweep"}}
        async with running_server(tmp_path, options) as session:
            edits = await edits_after_rename(session)
            assert len(edits) == 3
            assert [r.path for r in backend.completion_requests()] == ["/v1/completions"]
            assert first(backend).body["prompt"].startswith("<|file_sep|>")


async def test_malformed_params_get_an_error_and_the_server_goes_on(tmp_path: Path) -> None:
    with FakeBackend(Script([Reply(text=window_answer(RENAMED_WINDOW))])) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            bad = asyncio.wrap_future(
                session.client.protocol.send_request(
                    "textDocument/copilotInlineEdit", {"position": "nowhere"}
                )
            )
            with pytest.raises(JsonRpcException):
                await bad
            unknown = {
                "textDocument": {"uri": "file:///nowhere.py", "version": 1},
                "position": {"line": 0, "character": 0},
            }
            answer = session.client.protocol.send_request("textDocument/copilotInlineEdit", unknown)
            assert plain(await asyncio.wrap_future(answer)) == {"edits": []}
            assert backend.completion_requests() == []
