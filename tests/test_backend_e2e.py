"""Every HTTP kind from an editor: the real server over stdio, a real backend on
127.0.0.1, and the start-up probe telling a bad configuration once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.fake_llamacpp import FakeLlamaCpp
from tests.support.fake_ollama import FIM_TEMPLATE, FakeOllama, NativeReply, show_payload
from tests.support.lsp import openai_options, running_server

URI = "file:///work/add.py"
TEXT = "def add(a, b):\n    \n"
ANSWER = "return a + b"


def start(kind: str) -> Any:
    if kind == "openai-chat":
        return FakeBackend(Script([Reply(f"```python\n    {ANSWER}\n```")]))
    if kind == "ollama":
        return FakeOllama([NativeReply(ANSWER)], {"qwen2.5-coder:1.5b": show_payload(FIM_TEMPLATE)})
    return FakeLlamaCpp([NativeReply(ANSWER)])


@pytest.mark.parametrize("kind", ["openai-chat", "ollama", "llamacpp"])
async def test_inline_completion_on_every_http_kind(tmp_path: Path, kind: str) -> None:
    with start(kind) as server:
        options = {"backend": {"kind": kind, "url": server.url, "model": "qwen2.5-coder:1.5b"}}
        async with running_server(tmp_path, options) as session:
            session.open(URI, TEXT)
            result = await session.inline(URI, 1, 4)
            assert [item.insert_text for item in result.items] == [ANSWER]
            assert not session.client.messages  # a good configuration: nothing to tell


async def test_bad_configuration_is_told_once_with_the_fix(tmp_path: Path) -> None:
    with FakeLlamaCpp(fim=False) as server:
        options = {"backend": {"kind": "llamacpp", "url": server.url, "model": "chat-model"}}
        async with running_server(tmp_path, options) as session:
            await session.wait_until(
                lambda: any("FIM" in str(s.get("detail")) for s in session.statuses)
            )
            # The message is sent before the status, so it has arrived by now.
            (message,) = [m for m in session.client.messages if "FIM" in m.message]
            assert message.type == types.MessageType.Warning
            assert "openai-chat" in message.message


async def test_the_first_completion_waits_for_the_start_up_probe(tmp_path: Path) -> None:
    """llama_cpp.server ends a streaming completion when another request takes its model
    lock, as its `/v1/models` does: the first suggestion came back empty whenever the
    start-up probe overlapped it. Here the probe's answer is slow, and the completion
    must start only after it."""
    script = Script([Reply(ANSWER)], models=["test-model"], models_delay_ms=300)
    with FakeBackend(script) as server:
        async with running_server(tmp_path, openai_options(server.url)) as session:
            session.open(URI, TEXT)
            result = await session.inline(URI, 1, 4)
            assert [item.insert_text for item in result.items] == [ANSWER]
        ((_, answered),) = server.model_lists
        (record,) = server.completion_requests()
        assert record.started >= answered
