"""The capability probe against real local servers: a FIM model, an instruct model,
a context window too small for the budget, an unreachable server."""

from __future__ import annotations

import socket
from typing import Any

from lsp_server.backends.probe import probe_backend
from lsp_server.settings import load_settings
from tests.support.fake_backend import FakeBackend
from tests.support.fake_llamacpp import FakeLlamaCpp
from tests.support.fake_ollama import CHAT_TEMPLATE, FIM_TEMPLATE, FakeOllama, show_payload


def settings_for(kind: str, url: str, model: str, **completion: Any) -> Any:
    settings, problems = load_settings(
        {"backend": {"kind": kind, "url": url, "model": model}, "completion": completion}
    )
    assert not problems
    return settings


def check(report: Any, name: str) -> Any:
    return next(c for c in report.checks if c.name == name)


async def test_llamacpp_fim_model_passes_every_check() -> None:
    with FakeLlamaCpp(n_ctx=8192) as server:
        report = await probe_backend(settings_for("llamacpp", server.url, "qwen2.5-coder"))
    assert report.ok, [c.line() for c in report.checks]
    assert report.fim is True and report.context_length == 8192
    assert report.bad_configuration() == []


async def test_llamacpp_model_without_fim_tokens_is_bad_configuration() -> None:
    with FakeLlamaCpp(fim=False) as server:
        report = await probe_backend(settings_for("llamacpp", server.url, "x"))
    assert not check(report, "FIM").ok
    (message,) = report.bad_configuration()
    assert "FIM" in message and "openai-chat" in message


async def test_too_small_context_names_the_fix() -> None:
    with FakeLlamaCpp(n_ctx=1024) as server:
        settings = settings_for("llamacpp", server.url, "qwen2.5-coder", promptTokens=1536)
        report = await probe_backend(settings)
    context = check(report, "context")
    assert not context.ok and "1024" in context.detail and "promptTokens" in context.fix
    assert any("context window" in m for m in report.bad_configuration())


async def test_ollama_fim_and_instruct_models() -> None:
    models = {
        "qwen2.5-coder:1.5b": show_payload(FIM_TEMPLATE),
        "llama3.1:8b-instruct": show_payload(CHAT_TEMPLATE),
    }
    with FakeOllama(models=models) as server:
        fim = await probe_backend(settings_for("ollama", server.url, "qwen2.5-coder:1.5b"))
        instruct = await probe_backend(settings_for("ollama", server.url, "llama3.1:8b-instruct"))
        missing = await probe_backend(settings_for("ollama", server.url, "nope:1b"))
    assert fim.ok and "native FIM" in check(fim, "FIM").detail
    assert not check(instruct, "FIM").ok and instruct.bad_configuration()
    assert "ollama pull nope:1b" in check(missing, "model").fix


async def test_openai_instruct_model_for_fim_is_reported_but_chat_kind_is_fine() -> None:
    with FakeBackend() as server:
        fim = await probe_backend(settings_for("openai", server.url, "Qwen2.5-Coder-1.5B"))
        instruct = await probe_backend(settings_for("openai", server.url, "Mistral-7B-Instruct"))
        chat = await probe_backend(settings_for("openai-chat", server.url, "Mistral-7B-Instruct"))
    assert check(fim, "FIM").ok
    assert not check(instruct, "FIM").ok and "openai-chat" in check(instruct, "FIM").fix
    assert check(chat, "FIM").ok


async def test_unreachable_server() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    report = await probe_backend(settings_for("llamacpp", f"http://127.0.0.1:{port}", "m"))
    assert not report.ok and "start the model server" in report.checks[0].fix
