"""The one exception hierarchy of ghostls.

Every failure that a user may need to act on is a `GhostlsError` whose message says
what happened and what to do, with no traceback, URL query or header in it:

    GhostlsError
    ├── BackendError                 talking to a model failed
    │   ├── BackendUnavailable       refused / DNS / connect timeout: is it running?
    │   ├── BackendTimeout           read stall or total time budget exceeded
    │   ├── BackendHTTPError         an HTTP status we cannot use (401, 404, 429, 5xx)
    │   └── BackendProtocolError     a reply we cannot parse (bad SSE / JSON)
    └── ModelError                   the model itself cannot be had
        ├── ModelNotFound            a configured local file does not exist / is not GGUF
        └── ModelDownloadError       fetching the default model failed (offline, 404…)

Transport exceptions (httpx, OSError) are mapped to these once, at the backend edge
(`lsp_server.backends.http.map_transport_errors`); the protocol edge maps them once
more, to JSON-RPC errors and `ghostls/status` (`describe_error`).
"""

from __future__ import annotations


class GhostlsError(Exception):
    """Base class: `str(error)` is a message a user can act on."""


class BackendError(GhostlsError):
    """A model backend failed to produce text."""


class BackendUnavailable(BackendError):
    """The backend could not be reached at all."""


class BackendTimeout(BackendError):
    """The backend stopped answering within the configured time."""


class BackendHTTPError(BackendError):
    """The backend answered with an HTTP status we cannot use."""

    def __init__(self, message: str, status_code: int, retry_after_s: float | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.retry_after_s = retry_after_s


class BackendProtocolError(BackendError):
    """The backend's reply could not be parsed."""


class ModelError(GhostlsError):
    """The model file is not available."""


class ModelNotFound(ModelError):
    """A configured model path does not exist or is not a GGUF file."""


class ModelDownloadError(ModelError):
    """Downloading the model failed; the message names the ways out."""


def describe_error(error: BaseException) -> str:
    """One line for the user: our own messages as they are, anything else generic.

    Unknown exceptions may carry URLs with keys in their query or whole request
    bodies, so their text is never shown; the log has the details.
    """
    if isinstance(error, GhostlsError):
        return str(error)
    return f"internal error ({type(error).__name__}); see the ghostls log for details"
