"""OpenAI-compatible `/v1/chat/completions` with `stream: true` (`kind: "openai-chat"`).

Two uses: `chat()` for code actions, and `stream()` for inline completion with a
chat-only model (a prompt with a hole marker, the middle extracted from the answer,
see `prompt/chat_fim.py`). The streamed turn itself (`openai_api.py`) is shared with
the `openai` and `llamacpp` kinds, whose servers serve chat on the same base URL.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

from lsp_server.backends.base import (
    ChatRequest,
    Chunk,
    GenerationRequest,
    StreamEnd,
)
from lsp_server.backends.http import HttpBackend, join_url
from lsp_server.backends.openai_api import (
    api_base,
    chat_body,
    chat_turn,
    stream_chat_completions,
)
from lsp_server.prompt.chat_fim import MiddleExtractor, chat_messages


class OpenAIChatBackend(HttpBackend):
    """`kind: "openai-chat"`: chat and chat-prompted inline completion."""

    kind = "openai-chat"

    def _url(self) -> str:
        return join_url(api_base(self._settings.endpoint), "chat/completions")

    def chat(self, request: ChatRequest) -> AsyncGenerator[str, None]:
        return chat_turn(self, self._url(), request, self.new_stats())

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[Chunk, None]:
        """Inline completion: the hole prompt, and only the middle of the answer."""
        prompt = request.prompt
        messages = chat_messages(prompt)
        body = chat_body(
            self._settings.model, messages, request.max_tokens, request.temperature, ()
        )
        stats = self.new_stats()
        extractor = MiddleExtractor(prompt.prefix)
        events = self.post_events(self._url(), body, request.timeout_s, stats)
        replies = stream_chat_completions(events, self._label, int(body["max_tokens"]), stats)
        end = StreamEnd()
        async with contextlib.aclosing(replies):
            async for chunk in replies:
                if isinstance(chunk, StreamEnd):
                    end = chunk
                    continue
                middle = extractor.feed(chunk)
                if middle:
                    yield middle
                if extractor.done:
                    break  # the closing fence: the rest is commentary, stop the model
        if extractor.done:
            yield StreamEnd(ran_out=False)  # the model closed its code block itself
            return
        rest = extractor.finish()
        if rest:
            yield rest
        yield end
