"""Settings → the backend that serves them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from lsp_server.backends.base import Backend, ChatBackend
from lsp_server.backends.openai import OpenAICompletionsBackend
from lsp_server.errors import GhostlsError
from lsp_server.settings import BackendSettings

ProgressSink = Callable[[int, int], None]

KINDS = ("embedded", "openai", "openai-chat", "ollama", "llamacpp")


def effective_settings(settings: BackendSettings) -> BackendSettings:
    """Kind-specific defaults: Ollama listens on 11434, not llama-server's 8080."""
    from lsp_server.backends.ollama import DEFAULT_OLLAMA_URL

    if settings.kind == "ollama" and settings.url == BackendSettings().url:
        return dataclasses.replace(settings, url=DEFAULT_OLLAMA_URL)
    return settings


def create_backend(settings: BackendSettings, on_progress: ProgressSink | None = None) -> Backend:
    """The backend for `settings`; a list of URLs gives a `FleetBackend` over one
    backend per URL (HTTP kinds only: the embedded engine has no URL)."""
    settings = effective_settings(settings)
    if len(settings.urls) > 1 and settings.kind != "embedded":
        from lsp_server.backends.fleet import FleetBackend

        return FleetBackend(
            [_create_one(dataclasses.replace(settings, url=url), None) for url in settings.urls]
        )
    return _create_one(dataclasses.replace(settings, url=settings.endpoint), on_progress)


def _create_one(settings: BackendSettings, on_progress: ProgressSink | None) -> Backend:
    if settings.kind == "openai":
        return OpenAICompletionsBackend(settings)
    if settings.kind == "openai-chat":
        from lsp_server.backends.openai_chat import OpenAIChatBackend

        return OpenAIChatBackend(settings)
    if settings.kind == "ollama":
        from lsp_server.backends.ollama import OllamaBackend

        return OllamaBackend(settings)
    if settings.kind == "llamacpp":
        from lsp_server.backends.llamacpp import LlamaCppBackend

        return LlamaCppBackend(settings)
    if settings.kind == "embedded":
        from lsp_server.backends.embedded import EmbeddedBackend  # loads llama.cpp lazily

        return EmbeddedBackend(settings, on_progress=on_progress)
    raise GhostlsError(
        f"backend.kind '{settings.kind}' is not supported by this version of ghostls; "
        f"use one of {', '.join(KINDS)}"
    )


def as_chat_backend(backend: object) -> ChatBackend | None:
    """`backend` itself when it can chat (every HTTP kind can), else None."""
    return backend if callable(getattr(backend, "chat", None)) else None  # type: ignore[return-value]


def create_chat_backend(
    settings: BackendSettings, on_progress: ProgressSink | None = None
) -> ChatBackend:
    """A backend for code actions and other chat use, for the same settings.

    Every HTTP kind chats on its own server (`openai` and `llamacpp` through
    `/v1/chat/completions`, `ollama` through `/api/chat`). A backend without `chat`
    (the embedded engine, until it has one) raises a `GhostlsError` naming the fix.
    """
    backend: Any = create_backend(settings, on_progress)
    chat = as_chat_backend(backend)
    if chat is None:
        raise GhostlsError(
            f"backend.kind '{settings.kind}' cannot chat: code actions need a chat model; "
            "set backend.kind to openai-chat, ollama or llamacpp"
        )
    return chat
