"""A model name → a local GGUF path: `backend.modelPath`, the cache, or a download.

Downloads go through huggingface_hub, so they honour `HF_ENDPOINT` (mirrors, a test
hub), `HF_TOKEN`, proxies, Xet storage and the Hub's cache layout, and a transfer that
drops mid-file is retried from where it stopped. (huggingface_hub 2.4 downloads into a
per-process temporary file and deletes it on failure: a download killed with the
server starts over next time.) The cache is `$GHOSTLS_CACHE_DIR`, else
`$XDG_CACHE_HOME/ghostls/models`, else `~/.cache/ghostls/models`.

Three choices keep startup from ever hanging on the network:

- the cache is looked up first, with no request at all, so a cached model loads
  offline and without waiting for a HEAD request;
- before downloading, one HEAD request (no retries, `HF_HUB_ETAG_TIMEOUT` seconds)
  checks that the Hub answers: huggingface_hub's own fallback retries an unreachable
  Hub with back-off for tens of seconds before it gives up;
- reads time out after `HF_HUB_DOWNLOAD_TIMEOUT` seconds.

Every failure is a `ModelNotFound` (a configured file is wrong) or a
`ModelDownloadError` naming the model, the cache directory and the ways out.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
from huggingface_hub import constants as hf_constants
from huggingface_hub import (
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
    try_to_load_from_cache,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils.tqdm import tqdm as hf_tqdm

from lsp_server import __version__
from lsp_server.errors import ModelDownloadError, ModelNotFound
from lsp_server.models.registry import ModelSpec, lookup_model
from lsp_server.settings import BackendSettings

GGUF_MAGIC = b"GGUF"
OTHER_BACKEND_HINT = "--backend openai --url http://127.0.0.1:8080"

# on_progress(downloaded_bytes, total_bytes); total is 0 when the Hub did not say.
# Called from the downloading thread.
ProgressCallback = Callable[[int, int], None]


def model_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if environ.get("GHOSTLS_CACHE_DIR"):
        return Path(environ["GHOSTLS_CACHE_DIR"]).expanduser()
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "ghostls" / "models"


NOT_GGUF_FIX = "convert it to GGUF, or download a GGUF build of the model"


def check_gguf_file(path: Path, origin: str, fix: str = NOT_GGUF_FIX) -> Path:
    """`path` if it is a readable file that starts with the GGUF magic."""
    try:
        with path.open("rb") as file:
            magic = file.read(len(GGUF_MAGIC))
    except FileNotFoundError:
        raise ModelNotFound(f"{origin} {path} does not exist") from None
    except OSError as error:
        raise ModelNotFound(f"{origin} {path} cannot be read: {error.strerror}") from None
    if magic != GGUF_MAGIC:
        raise ModelNotFound(
            f"{origin} {path} is not a GGUF model file (llama.cpp models end in .gguf): {fix}"
        )
    return path


def resolve_model(settings: BackendSettings, on_progress: ProgressCallback | None = None) -> Path:
    """The GGUF file for `settings`; blocking (network, disk): run it in a thread."""
    if settings.model_path:
        return check_gguf_file(Path(settings.model_path).expanduser(), "backend.modelPath")
    spec = lookup_model(settings.model)
    cache_dir = model_cache_dir()
    cached = try_to_load_from_cache(spec.repo_id, spec.filename, cache_dir=cache_dir)
    if isinstance(cached, str):
        return check_gguf_file(
            Path(cached), f"the cached copy of {spec.label},", "delete it to download it again"
        )
    return download_model(spec, cache_dir, on_progress)


def hub_endpoint() -> str:
    """`HF_ENDPOINT` as it is now: huggingface_hub itself reads it once, at import."""
    return (os.environ.get("HF_ENDPOINT") or hf_constants.ENDPOINT).rstrip("/")


def download_model(
    spec: ModelSpec, cache_dir: Path, on_progress: ProgressCallback | None = None
) -> Path:
    endpoint = hub_endpoint()
    try:
        # One bounded, unretried request: fail fast when the Hub cannot be reached.
        metadata = get_hf_file_metadata(
            hf_hub_url(spec.repo_id, spec.filename, endpoint=endpoint),
            timeout=hf_constants.HF_HUB_ETAG_TIMEOUT,
            endpoint=endpoint,
            library_name="ghostls",
            library_version=__version__,
        )
        progress = DownloadProgress(on_progress, metadata.size or 0)
        progress.report(0)
        path = hf_hub_download(
            spec.repo_id,
            spec.filename,
            cache_dir=cache_dir,
            endpoint=endpoint,
            etag_timeout=hf_constants.HF_HUB_ETAG_TIMEOUT,
            library_name="ghostls",
            library_version=__version__,
            tqdm_class=progress.bar_class(),
        )
    except Exception as error:  # every failure becomes one message; the log has the rest
        raise download_error(spec, cache_dir, endpoint, error) from error
    checked = check_gguf_file(
        Path(path), f"the download of {spec.label},", "is the model name right?"
    )
    progress.report(checked.stat().st_size)
    return checked


def download_error(
    spec: ModelSpec, cache_dir: Path, endpoint: str, error: BaseException
) -> ModelDownloadError:
    host = urlsplit(endpoint).netloc or endpoint
    return ModelDownloadError(
        f"could not download model {spec.label} from {host}: {_failure_reason(error, spec, host)}. "
        f"It is not in the model cache at {cache_dir}. Either set backend.modelPath to a "
        f"local GGUF file, or use another backend, e.g. {OTHER_BACKEND_HINT} "
        "(llama-server, vLLM, Ollama)"
    )


def _failure_reason(error: BaseException, spec: ModelSpec, host: str) -> str:
    # Subclasses before their bases: GatedRepoError is a RepositoryNotFoundError,
    # which is an HfHubHTTPError; OfflineModeIsEnabled is a ConnectionError (OSError).
    if isinstance(error, OfflineModeIsEnabled):
        return "offline mode is on (HF_HUB_OFFLINE)"
    if isinstance(error, GatedRepoError):
        return f"{spec.repo_id} is gated: accept its terms on the Hub and set HF_TOKEN"
    if isinstance(error, RepositoryNotFoundError):
        return f"repository {spec.repo_id} does not exist (or is private)"
    if isinstance(error, (EntryNotFoundError, RevisionNotFoundError)):
        return f"{spec.repo_id} has no file {spec.filename}"
    if isinstance(error, HfHubHTTPError) and error.response is not None:
        return f"{host} answered HTTP {error.response.status_code}"
    if isinstance(error, httpx2.ConnectError) and "refused" in str(error).lower():
        return f"the connection to {host} was refused"
    if isinstance(error, httpx2.ConnectError):
        return "could not connect (offline, or a proxy/firewall in the way?)"
    if isinstance(error, httpx2.TimeoutException):
        return f"{host} did not answer in time"
    if isinstance(error, httpx2.HTTPError):
        return f"the transfer failed ({type(error).__name__})"
    if isinstance(error, HFValidationError):
        return f"'{spec.repo_id}' is not a valid repository name"
    if isinstance(error, OSError) and error.strerror:
        return f"writing the file failed: {error.strerror}"
    return f"unexpected {type(error).__name__}; see the ghostls log"


class DownloadProgress:
    """Turns huggingface_hub's progress bars into `on_progress(bytes, total)` calls.

    hf_hub_download reports through a tqdm class it instantiates itself, one bar for a
    plain HTTP download and two for a Xet download (network bytes and bytes written),
    so this reports the furthest any bar has got, never going backwards.
    """

    def __init__(self, on_progress: ProgressCallback | None, total: int) -> None:
        self._on_progress = on_progress
        self.total = total
        self._furthest = -1
        self._lock = threading.Lock()

    def report(self, done: int) -> None:
        done = min(done, self.total) if self.total else done
        with self._lock:
            if done <= self._furthest:
                return
            self._furthest = done
        if self._on_progress is not None:
            self._on_progress(done, self.total)

    def bar_class(self) -> type[hf_tqdm]:
        progress = self

        class ReportingBar(hf_tqdm):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs["disable"] = True  # draw nothing: stdout is the LSP channel
                super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]

            def update(self, n: float | None = 1) -> bool | None:
                # A disabled tqdm does not count, so count here.
                self.n += n or 0
                progress.report(int(self.n))
                return True

        return ReportingBar
