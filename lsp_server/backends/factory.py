"""Settings → the backend that serves them."""

from __future__ import annotations

from collections.abc import Callable

from lsp_server.backends.base import Backend
from lsp_server.backends.openai import OpenAICompletionsBackend
from lsp_server.errors import GhostlsError
from lsp_server.settings import BackendSettings

ProgressSink = Callable[[int, int], None]


def create_backend(settings: BackendSettings, on_progress: ProgressSink | None = None) -> Backend:
    if settings.kind == "openai":
        return OpenAICompletionsBackend(settings)
    if settings.kind == "embedded":
        from lsp_server.backends.embedded import EmbeddedBackend  # loads llama.cpp lazily

        return EmbeddedBackend(settings, on_progress=on_progress)
    raise GhostlsError(
        f"backend.kind '{settings.kind}' is not supported by this version of ghostls; "
        "use 'embedded' or 'openai'"
    )
