"""Send a raw next-edit prompt through the configured backend kind.

A next-edit prompt is plain text the model continues, never a fill-in-the-middle pair:
`openai` (`/v1/completions`) and `embedded` send `Prompt.text` as it is and are used
as they are (through the server's circuit breaker). `llamacpp` would wrap it in FIM
tokens (`/infill`), so its server's OpenAI-compatible `/v1/completions` is used
instead; `ollama` may apply the model's template, so the prompt goes with `raw: true`.
`openai-chat` has no raw completion: no next edits there.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lsp_server.backends.base import Backend, GenerationRequest
from lsp_server.backends.factory import effective_settings
from lsp_server.backends.ollama import OllamaBackend
from lsp_server.backends.openai import OpenAICompletionsBackend
from lsp_server.prompt.build import Prompt
from lsp_server.prompt.templates import FimTemplate
from lsp_server.settings import BackendSettings

RAW_KINDS = ("openai", "embedded", "llamacpp", "ollama")


def raw_prompt(text: str, stop: tuple[str, ...]) -> Prompt:
    template = FimTemplate(name="raw", layout="{prefix}{suffix}", stop=stop)
    return Prompt(text, text, "", template, (), len(text) // 4)


class RawOllamaBackend(OllamaBackend):
    """Ollama with the prompt sent as it is (`raw: true`), whatever the model's template."""

    async def generate_body(self, request: GenerationRequest) -> dict[str, Any]:
        body = await super().generate_body(request)
        body.pop("suffix", None)
        body["prompt"], body["raw"] = request.prompt.text, True
        return body


def own_backend(settings: BackendSettings) -> Backend | None:
    """The backend next edits need of their own for this kind (None: the server's)."""
    settings = effective_settings(settings)
    settings = dataclasses.replace(settings, url=settings.endpoint)
    if settings.kind == "llamacpp":
        return OpenAICompletionsBackend(settings)
    if settings.kind == "ollama":
        return RawOllamaBackend(settings)
    return None
