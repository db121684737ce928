"""A circuit breaker, so a dead backend is not hammered on every keystroke.

After `threshold` consecutive failures that say the backend is unusable (refused,
connect timeout, 5xx, 401/403, 429), the circuit opens: `stream()` raises the last
error at once, without a request, for `cooldown_s` (or the server's `Retry-After`,
if longer). Then one trial request goes through (half-open); success closes the
circuit, failure opens it again with the cooldown doubled (up to `max_cooldown_s`).
A cancelled request or a bad stream event says nothing about the backend's health.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable
from typing import Any

from lsp_server.backends.base import Backend, Chunk, GenerationRequest, PromptFacts
from lsp_server.errors import BackendError, BackendHTTPError, BackendUnavailable


def counts_as_down(error: BackendError) -> bool:
    if isinstance(error, BackendUnavailable):
        return True
    if isinstance(error, BackendHTTPError):
        return error.status_code >= 500 or error.status_code in (401, 403, 429)
    return False


class CircuitBreaker:
    def __init__(
        self,
        threshold: int = 3,
        cooldown_s: float = 2.0,
        max_cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.base_cooldown_s = cooldown_s
        self.cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self.clock = clock
        self.failures = 0
        self.open_until: float | None = None
        self.last_error: BackendError | None = None

    @property
    def state(self) -> str:
        if self.open_until is None:
            return "closed"
        return "open" if self.clock() < self.open_until else "half-open"

    def before_request(self) -> None:
        """Raise (a copy of) the last error while the circuit is open."""
        error = self.last_error
        if self.state != "open" or error is None:
            return
        if isinstance(error, BackendHTTPError):
            raise BackendHTTPError(str(error), error.status_code, error.retry_after_s)
        raise type(error)(str(error))

    def success(self) -> None:
        self.failures = 0
        self.open_until = None
        self.cooldown_s = self.base_cooldown_s

    def failure(self, error: BackendError) -> None:
        if not counts_as_down(error):
            return
        self.last_error = error
        was_trial = self.state == "half-open"
        self.failures += 1
        if was_trial:
            self.cooldown_s = min(self.cooldown_s * 2, self.max_cooldown_s)
        if was_trial or self.failures >= self.threshold:
            retry = getattr(error, "retry_after_s", None) or 0.0
            self.open_until = self.clock() + max(self.cooldown_s, min(retry, self.max_cooldown_s))


class BreakerBackend:
    """Any `Backend`, behind a `CircuitBreaker`; everything else is delegated."""

    def __init__(self, inner: Backend, breaker: CircuitBreaker | None = None) -> None:
        self.inner = inner
        self.breaker = breaker or CircuitBreaker()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def description(self) -> str:
        return self.inner.description

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    def prompt_facts(self) -> PromptFacts:
        return self.inner.prompt_facts()

    async def prepare(self) -> None:
        await self.inner.prepare()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def stream(self, request: GenerationRequest) -> AsyncGenerator[Chunk, None]:
        self.breaker.before_request()
        generator = self.inner.stream(request)
        healthy = False
        try:
            async for chunk in generator:
                if not healthy:  # a first chunk proves the backend is up
                    healthy = True
                    self.breaker.success()
                yield chunk
        except BackendError as error:
            self.breaker.failure(error)
            raise
        finally:
            await generator.aclose()
        self.breaker.success()
