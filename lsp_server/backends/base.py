"""The one seam between ghostls and every model: the `Backend` protocol.

`stream()` yields text chunks as the model produces them, then one `StreamEnd` that
says how the model ended. Leaving the iterator early, by `break`, an exception or task
cancellation, aborts the work at the source: HTTP backends close the response (the
server sees the disconnect), the embedded engine stops at its next token. A request
is never written to: what a backend learns comes back as events. Implementations
raise only `BackendError` subclasses.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Protocol

from lsp_server.prompt.budget import Tokenizer
from lsp_server.prompt.build import Prompt
from lsp_server.prompt.messages import ChatMessage


@dataclass(frozen=True)
class StreamEnd:
    """The last event of a stream: how the generation ended, as its backend read it."""

    # True: at `max_tokens`; False: by itself (end of text, a stop sequence); None: the
    # backend did not say (then one chunk per token is the best guess).
    ran_out: bool | None = None


# What `Backend.stream` yields: text, and last a `StreamEnd`.
Chunk = str | StreamEnd


@dataclass(frozen=True)
class PromptFacts:
    """What the prompt builder needs from a backend, read once per job
    (`Backend.prompt_facts`)."""

    model_name: str
    # The text of the model's FIM-prefix token ('<|fim_prefix|>'), for
    # `choose_template`; "" when the backend cannot see the model's vocabulary.
    template_hint: str = ""
    # The model's own tokenizer (exact budgets); None: estimate from the text.
    tokenizer: Tokenizer | None = None
    # How fast the model reads a prompt, measured (the embedded engine on a CPU: the
    # budget must fit the time); None: not measured, the setting's budget stands.
    prompt_tokens_per_s: float | None = None
    # The backend can constrain an answer's first tokens to spell the prompt's last
    # word again (token healing: the embedded engine), so a chat prompt may end mid-line.
    heals_words: bool = False


@dataclass(frozen=True)
class GenerationRequest:
    prompt: Prompt
    max_tokens: int
    stop: tuple[str, ...] = ()
    temperature: float = 0.0
    # Wall-clock cap for the whole generation; the backend raises BackendTimeout past it.
    timeout_s: float = 10.0


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

    def stream(self, request: GenerationRequest) -> AsyncGenerator[Chunk, None]:
        """Text chunks in order, then one `StreamEnd`; closing aborts the request.

        The `StreamEnd` comes after the last text. A backend that reads the model's
        last event before its stream is over yields it at once: the suggestion is then
        final without waiting for what a server may still send (a usage or
        content-filter event, a slow `[DONE]`); nothing but such trailing events is
        read after it, and no text follows it. A consumer treats a stream that ends
        without one as `StreamEnd()` (the backend did not say)."""
        ...

    def prompt_facts(self) -> PromptFacts:
        """What the prompt builder needs (template hint, tokenizer, prompt speed), as
        the backend knows it now (after `prepare`, the loaded model's)."""
        ...

    async def prepare(self) -> None:
        """Make the model ready (load / download); raising leaves the server serving."""
        ...

    async def aclose(self) -> None: ...
