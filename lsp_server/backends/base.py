"""The one seam between ghostls and every model: the `Backend` protocol.

`stream()` yields text chunks as the model produces them. Leaving the iterator early,
by `break`, an exception or task cancellation, aborts the work at the source: HTTP
backends close the response (the server sees the disconnect), the embedded engine
stops at its next token. Implementations raise only `BackendError` subclasses.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Protocol

from lsp_server.prompt.budget import Tokenizer
from lsp_server.prompt.build import Prompt
from lsp_server.prompt.messages import ChatMessage


@dataclass
class StreamEnd:
    """How a generation ended, as its backend reported it."""

    # True: at `max_tokens`; False: by itself (end of text, a stop sequence); None: the
    # backend did not say (then one chunk per token is the best guess).
    ran_out: bool | None = None


@dataclass(frozen=True)
class GenerationRequest:
    prompt: Prompt
    max_tokens: int
    stop: tuple[str, ...] = ()
    temperature: float = 0.0
    # Wall-clock cap for the whole generation; the backend raises BackendTimeout past it.
    timeout_s: float = 10.0
    # Filled in by the backend when the stream ends.
    end: StreamEnd = field(default_factory=StreamEnd, compare=False)


@dataclass
class GenerationStats:
    """Filled in by a backend while it streams, for status and benchmarks."""

    chunks: int = 0
    prompt_tokens: int | None = None
    cached_prompt_tokens: int | None = None
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatRequest:
    """A chat generation (code actions, chat-only models): streamed like completions."""

    messages: tuple[ChatMessage, ...]
    max_tokens: int = 1024
    temperature: float = 0.2
    stop: tuple[str, ...] = ()
    timeout_s: float = 120.0


class ChatBackend(Protocol):
    """A backend that can also hold a conversation; same streaming and abort rules."""

    @property
    def description(self) -> str: ...

    def chat(self, request: ChatRequest) -> AsyncGenerator[str, None]:
        """Text deltas of the assistant's reply (never reasoning text)."""
        ...


class Backend(Protocol):
    @property
    def description(self) -> str:
        """Short human name, e.g. 'openai @ 127.0.0.1:8080 (qwen2.5-coder)'."""
        ...

    @property
    def model_name(self) -> str: ...

    def stream(self, request: GenerationRequest) -> AsyncGenerator[str, None]:
        """Text chunks in order; ends when the model stops. Closing aborts the request.

        A backend that reads the model's last event before its stream is over may set
        `request.end` and then yield "" as its last chunk, an end mark: the suggestion
        is then final without waiting for what a server may still send (a usage or
        content-filter event, a slow `[DONE]`). Only that mark ends it early: a backend
        may learn how the model ended before it has yielded all of its text."""
        ...

    def tokenizer(self) -> Tokenizer | None:
        """The model's own tokenizer when available (exact budgets), else None."""
        ...

    async def prepare(self) -> None:
        """Make the model ready (load / download); raising leaves the server serving."""
        ...

    async def aclose(self) -> None: ...
