"""What every HTTP backend shares: one client, timeouts, keys, and error mapping.

Transport exceptions become `BackendError`s here and nowhere else
(`map_transport_errors`), with messages that name the endpoint (scheme, host and
port only: never a query string, a path with tokens, or a header).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from lsp_server.backends.base import GenerationStats, PromptFacts
from lsp_server.backends.netstream import AsyncioTransport
from lsp_server.errors import (
    BackendError,
    BackendHTTPError,
    BackendProtocolError,
    BackendTimeout,
    BackendUnavailable,
)
from lsp_server.prompt.budget import Tokenizer
from lsp_server.settings import BackendSettings

MAX_ERROR_BODY_CHARS = 200


def endpoint_label(url: str) -> str:
    """`scheme://host:port` of a URL: safe to show and to log."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def join_url(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def api_key(settings: BackendSettings) -> str | None:
    """The key from the variable named by `apiKeyEnv`; the name is configuration, the
    value never is."""
    if not settings.api_key_env:
        return None
    return os.environ.get(settings.api_key_env) or None


def make_client(settings: BackendSettings, spare: bool = False) -> httpx.AsyncClient:
    """One keep-alive HTTP/1.1 client per backend; `spare`: with a connection opened
    ahead for the request after a cancel (`netstream.AsyncioNetworkBackend`)."""
    connect = settings.connect_timeout_ms / 1000
    read = settings.read_timeout_ms / 1000
    headers = {"User-Agent": "ghostls"}
    key = api_key(settings)
    if key:
        headers["Authorization"] = f"Bearer {key}"
    limits = httpx.Limits(max_keepalive_connections=4, keepalive_expiry=60)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=connect),
        headers=headers,
        transport=AsyncioTransport(limits, spare=spare),
        # Credentials must not follow a redirect to another host; we follow none.
        follow_redirects=False,
        trust_env=False,
    )


@contextlib.contextmanager
def map_transport_errors(label: str, read_timeout_s: float) -> Iterator[None]:
    """Turn httpx / OS errors into `BackendError`s that name `label` and the fix."""
    try:
        yield
    except BackendError:
        raise
    except httpx.ConnectTimeout as error:
        raise BackendUnavailable(
            f"{label} did not accept a connection in time — is it running and reachable?"
        ) from error
    except httpx.ConnectError as error:
        raise BackendUnavailable(
            f"{label} refused the connection — is the model server running?"
        ) from error
    except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout) as error:
        raise BackendTimeout(
            f"{label} stopped sending for {read_timeout_s:g} s (backend.readTimeoutMs)"
        ) from error
    except httpx.RemoteProtocolError as error:
        raise BackendProtocolError(f"{label} closed the connection mid-reply") from error
    except httpx.TransportError as error:
        raise BackendUnavailable(f"{label}: network error ({type(error).__name__})") from error


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


async def raise_for_status(response: httpx.Response, label: str) -> None:
    """A typed error for an unusable status, with a short excerpt of the body."""
    if response.status_code < 400:
        return
    body = (await response.aread())[:MAX_ERROR_BODY_CHARS].decode("utf-8", "replace").strip()
    status = response.status_code
    path = response.request.url.path
    if status in (401, 403):
        message = (
            f"{label} rejected the request (HTTP {status}): check the API key "
            "(backend.apiKeyEnv names the environment variable that holds it)"
        )
    elif status == 404:
        message = f"{label} has no {path} (HTTP 404): check backend.url and backend.kind"
    elif status == 429:
        retry = _retry_after(response)
        wait = f"; retry after {retry:g} s" if retry is not None else ""
        message = f"{label} is rate limiting requests (HTTP 429){wait}"
    else:
        excerpt = f": {body}" if body else ""
        message = f"{label} failed with HTTP {status}{excerpt}"
    raise BackendHTTPError(message, status, _retry_after(response))


async def iter_sse_data(response: httpx.Response, label: str) -> AsyncIterator[dict[str, Any]]:
    """JSON payloads of an SSE stream's `data:` lines, until `[DONE]` or the end.

    Parsed from the body's bytes in bulk: every line a network read brings is handled in
    one pass (no incremental text decoder: each event's bytes are decoded once, for its
    JSON), so a backend at thousands of tokens per second costs one split per read, not
    a decoder call per line. Comments and other fields are skipped.
    """
    rest = b""
    async for block in response.aiter_bytes():
        lines = (rest + block).split(b"\n") if rest else block.split(b"\n")
        rest = lines.pop()  # an unfinished line waits for the next read
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                return
            if data:
                yield _sse_payload(data, label)
    data = rest[5:].strip() if rest.startswith(b"data:") else b""
    if data and data != b"[DONE]":
        yield _sse_payload(data, label)


# `json.loads` on bytes first guesses their encoding and checks for trailing text with
# a regex: half its time on a one-token event. SSE is UTF-8, and `data` is stripped.
_decode_json = json.JSONDecoder().raw_decode


def _sse_payload(data: bytes, label: str) -> dict[str, Any]:
    try:
        text = data.decode("utf-8", "surrogatepass")  # as `json.loads` reads bytes
        payload, end = _decode_json(text)
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BackendProtocolError(f"{label} sent a malformed stream event") from error
    return checked_event(payload, label, "event")


def checked_event(payload: Any, label: str, what: str) -> dict[str, Any]:
    """A parsed stream `what` (SSE event, NDJSON frame) as an object; an error the
    server reports inside the stream raises."""
    if not isinstance(payload, dict):
        raise BackendProtocolError(f"{label} sent a stream {what} that is not an object")
    if "error" in payload:
        raise BackendError(f"{label} reported an error: {_error_text(payload['error'])}")
    return payload


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        error = error.get("message", error)
    return str(error)[:MAX_ERROR_BODY_CHARS]


def record_usage(event: dict[str, Any], stats: GenerationStats) -> None:
    """Prompt and cached-prompt tokens, from OpenAI `usage` or llama-server `timings`."""
    usage = event.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
        stats.prompt_tokens = usage["prompt_tokens"]
        details = usage.get("prompt_tokens_details")
        if isinstance(details, dict) and isinstance(details.get("cached_tokens"), int):
            stats.cached_prompt_tokens = details["cached_tokens"]
    timings = event.get("timings")
    if isinstance(timings, dict) and isinstance(timings.get("prompt_n"), int):
        cached = timings.get("cache_n")
        cached = cached if isinstance(cached, int) else 0
        stats.prompt_tokens = timings["prompt_n"] + cached
        stats.cached_prompt_tokens = cached


Events = Callable[[httpx.Response, str], AsyncIterator[dict[str, Any]]]


async def stream_events(
    client: httpx.AsyncClient,
    url: str,
    body: dict[str, Any],
    label: str,
    settings: BackendSettings,
    timeout_s: float,
    stats: GenerationStats | None = None,
    events: Events = iter_sse_data,
) -> AsyncGenerator[dict[str, Any], None]:
    """The events of a streamed POST (SSE unless `events` says otherwise): transport
    errors mapped, the status checked, usage recorded in `stats` when given, and the
    whole-generation budget `timeout_s` checked after each event. Read it inside
    `contextlib.aclosing`: closing it closes the response (the server sees the
    disconnect)."""
    deadline = time.monotonic() + timeout_s
    with map_transport_errors(label, settings.read_timeout_ms / 1000):
        async with client.stream("POST", url, json=body) as response:
            await raise_for_status(response, label)
            async for event in events(response, label):
                if stats is not None:
                    record_usage(event, stats)
                yield event
                if time.monotonic() > deadline:
                    raise BackendTimeout(f"{label} exceeded the {timeout_s:g} s budget")


class HttpBackend:
    """What every HTTP backend shares: its settings, a label that is safe to show, one
    keep-alive client created on first use, and the last request's stats. Subclasses
    name their kind and add the wire format."""

    kind = "http"

    def __init__(self, settings: BackendSettings) -> None:
        self._settings = settings
        self._label = endpoint_label(settings.endpoint)
        self._client: httpx.AsyncClient | None = None
        self.last_stats = GenerationStats()

    @property
    def description(self) -> str:
        return f"{self.kind} @ {self._label}"

    @property
    def model_name(self) -> str:
        return self._settings.model

    def tokenizer(self) -> Tokenizer | None:
        return None

    def prompt_facts(self) -> PromptFacts:
        # A server's vocabulary is out of sight and its prompt speed not measured.
        return PromptFacts(self.model_name, tokenizer=self.tokenizer())

    async def prepare(self) -> None:
        return None

    def new_stats(self) -> GenerationStats:
        """Fresh stats for a request that starts, kept as `last_stats`."""
        self.last_stats = GenerationStats()
        return self.last_stats

    @property
    def label(self) -> str:
        """`scheme://host:port` of the endpoint: safe to show and to log."""
        return self._label

    def post_events(
        self,
        url: str,
        body: dict[str, Any],
        timeout_s: float,
        stats: GenerationStats | None = None,
        events: Events = iter_sse_data,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """`stream_events` on this backend's client, label and settings."""
        return stream_events(
            self._http(), url, body, self._label, self._settings, timeout_s, stats, events
        )

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = make_client(self._settings, spare=True)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
