"""A fleet: one `Backend` over several endpoints of the same model (a team's shared
vLLM / llama-server machines).

Each request goes to the healthy endpoint with the fewest requests in flight (ties:
the one used least recently, so idle endpoints take turns). An endpoint that fails
before its first chunk (refused, 5xx, timeout, bad reply) is marked unhealthy for a
back-off that doubles with each consecutive failure (`BACKOFF_S` … `MAX_BACKOFF_S`)
and the request is retried once on another endpoint. A failure after text has been
streamed is not retried (the text would repeat); the endpoint is marked all the same.
When every endpoint is backing off, the one whose back-off ends first is tried anyway:
a fleet never refuses a request on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from lsp_server.backends.base import Backend, ChatRequest, Chunk, GenerationRequest, PromptFacts
from lsp_server.errors import BackendError, GhostlsError

log = logging.getLogger(__name__)

T = TypeVar("T")  # what the routed stream yields: completion chunks or chat text

BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0


@dataclass(eq=False)
class Endpoint:
    backend: Backend
    in_flight: int = 0
    failures: int = 0
    unhealthy_until: float = 0.0
    last_used: int = 0

    def healthy(self, now: float) -> bool:
        return now >= self.unhealthy_until


class FleetBackend:
    def __init__(
        self, backends: Sequence[Backend], clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not backends:
            raise ValueError("a fleet needs at least one backend")
        self.endpoints = [Endpoint(backend) for backend in backends]
        self._clock = clock
        self._uses = itertools.count(1)

    @property
    def description(self) -> str:
        return f"fleet of {len(self.endpoints)}: {self.endpoints[0].backend.description}"

    @property
    def model_name(self) -> str:
        return self.endpoints[0].backend.model_name

    def prompt_facts(self) -> PromptFacts:
        """The first endpoint's: every endpoint serves the same model."""
        return self.endpoints[0].backend.prompt_facts()

    def choose(self, exclude: Endpoint | None = None) -> Endpoint:
        """The healthy endpoint with the fewest requests in flight."""
        now = self._clock()
        candidates = [e for e in self.endpoints if e is not exclude] or self.endpoints
        healthy = [e for e in candidates if e.healthy(now)]
        if not healthy:
            return min(candidates, key=lambda e: e.unhealthy_until)
        return min(healthy, key=lambda e: (e.in_flight, e.last_used))

    def _failed(self, endpoint: Endpoint, error: BackendError) -> None:
        endpoint.failures += 1
        backoff = min(MAX_BACKOFF_S, BACKOFF_S * 2 ** (endpoint.failures - 1))
        endpoint.unhealthy_until = self._clock() + backoff
        log.warning(
            "fleet: %s failed (%s); resting %.0f s", endpoint.backend.description, error, backoff
        )

    def stream(self, request: GenerationRequest) -> AsyncGenerator[Chunk, None]:
        return self._route(lambda backend: backend.stream(request))

    def chat(self, request: ChatRequest) -> AsyncGenerator[str, None]:
        """Chat on the endpoints that can (every HTTP kind), with the same routing."""
        return self._route(lambda backend: _chat_of(backend)(request))

    async def _route(
        self, open_stream: Callable[[Backend], AsyncGenerator[T, None]]
    ) -> AsyncGenerator[T, None]:
        endpoint = self.choose()
        for attempt in (1, 2):
            endpoint.in_flight += 1
            endpoint.last_used = next(self._uses)
            produced = False
            try:
                # Closing the fleet's stream closes the endpoint's (the model stops).
                async with contextlib.aclosing(open_stream(endpoint.backend)) as chunks:
                    async for chunk in chunks:
                        produced = True
                        yield chunk
                endpoint.failures = 0
                return
            except BackendError as error:
                self._failed(endpoint, error)
                if produced or attempt == 2 or len(self.endpoints) == 1:
                    raise
            finally:
                endpoint.in_flight -= 1
            endpoint = self.choose(exclude=endpoint)

    async def prepare(self) -> None:
        """Ready when one endpoint is: the others are tried (and marked) per request."""
        results = await asyncio.gather(
            *(e.backend.prepare() for e in self.endpoints), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        if len(errors) == len(results):
            raise errors[0]

    async def aclose(self) -> None:
        await asyncio.gather(*(e.backend.aclose() for e in self.endpoints), return_exceptions=True)


def _chat_of(backend: Backend) -> Callable[[ChatRequest], AsyncGenerator[str, None]]:
    chat = getattr(backend, "chat", None)
    if not callable(chat):
        raise GhostlsError(f"{backend.description} cannot chat")
    return chat  # type: ignore[no-any-return]
