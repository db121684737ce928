"""Model resolution for real: huggingface_hub downloading over HTTP from a fake Hub on
127.0.0.1 (HF_ENDPOINT, read at call time as the server does), into a temporary cache."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lsp_server.backends.embedded import EmbeddedBackend
from lsp_server.errors import ModelDownloadError, ModelNotFound
from lsp_server.models import KNOWN_MODELS, lookup_model, model_cache_dir, resolve_model
from lsp_server.settings import DEFAULT_MODEL, BackendSettings
from tests.support.fake_hub import COMMIT, FakeHub

MODEL = "qwen2.5-coder-0.5b"
SPEC = KNOWN_MODELS[MODEL]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "models"
    monkeypatch.setenv("GHOSTLS_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def model_bytes(tiny_gguf_path: Path) -> bytes:
    return tiny_gguf_path.read_bytes()


@pytest.fixture
def hub(model_bytes: bytes, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    with FakeHub({(SPEC.repo_id, SPEC.filename): model_bytes}) as running:
        monkeypatch.setenv("HF_ENDPOINT", running.url)
        yield running


@pytest.fixture
def refused_endpoint(monkeypatch: pytest.MonkeyPatch) -> str:
    """A port on 127.0.0.1 that nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("HF_ENDPOINT", url)
    return url


def test_download_reports_progress_then_the_cache_serves_it_offline(
    hub: FakeHub, cache_dir: Path, model_bytes: bytes
) -> None:
    progress: list[tuple[int, int]] = []
    path = resolve_model(
        BackendSettings(model=MODEL), lambda done, total: progress.append((done, total))
    )
    assert path.read_bytes() == model_bytes
    assert path.is_relative_to(cache_dir)
    total = len(model_bytes)
    assert progress[0] == (0, total) and progress[-1] == (total, total)
    assert [done for done, _ in progress] == sorted({done for done, _ in progress})
    assert any(request.method == "GET" for request in hub.requests)

    hub.stop()  # offline from here on
    again: list[tuple[int, int]] = []
    assert resolve_model(BackendSettings(model=MODEL), lambda d, t: again.append((d, t))) == path
    assert again == []


def test_connection_refused_names_the_model_the_cache_and_the_ways_out(
    refused_endpoint: str, cache_dir: Path
) -> None:
    with pytest.raises(ModelDownloadError) as caught:
        resolve_model(BackendSettings(model=DEFAULT_MODEL))
    message = str(caught.value)
    assert DEFAULT_MODEL in message
    assert "ggml-org/Qwen2.5-Coder-1.5B-Q8_0-GGUF" in message
    assert "connection to 127.0.0.1" in message and "was refused" in message
    assert str(cache_dir) in message
    assert "backend.modelPath" in message
    assert "--backend openai --url" in message
    assert not cache_dir.exists() or not any(cache_dir.rglob("*.gguf"))


def test_a_missing_file_or_repository_is_a_download_error(hub: FakeHub, cache_dir: Path) -> None:
    with pytest.raises(ModelDownloadError, match=r"has no file other\.gguf"):
        resolve_model(BackendSettings(model=f"{SPEC.repo_id}:other.gguf"))
    with pytest.raises(ModelDownloadError, match="repository someone/nothing does not exist"):
        resolve_model(BackendSettings(model="someone/nothing:x.gguf"))


def test_a_file_that_is_not_gguf_is_refused_after_download(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeHub({("someone/web", "page.gguf"): b"<html>login</html>"}) as other:
        monkeypatch.setenv("HF_ENDPOINT", other.url)
        with pytest.raises(
            ModelNotFound, match=r"is not a GGUF model file .*: is the model name right"
        ):
            resolve_model(BackendSettings(model="someone/web:page.gguf"))
        with pytest.raises(ModelNotFound, match=r"cached copy .* delete it to download it again"):
            resolve_model(BackendSettings(model="someone/web:page.gguf"))


def test_model_path_wins_and_is_checked(tiny_gguf_path: Path, tmp_path: Path) -> None:
    assert resolve_model(BackendSettings(model_path=str(tiny_gguf_path))) == tiny_gguf_path
    with pytest.raises(ModelNotFound, match="does not exist"):
        resolve_model(BackendSettings(model_path=str(tmp_path / "absent.gguf")))
    with pytest.raises(ModelNotFound, match="cannot be read"):
        resolve_model(BackendSettings(model_path=str(tmp_path)))  # a directory


def test_model_names() -> None:
    default = lookup_model(DEFAULT_MODEL)
    assert (default.repo_id, default.filename, default.template) == (
        "ggml-org/Qwen2.5-Coder-1.5B-Q8_0-GGUF",
        "qwen2.5-coder-1.5b-q8_0.gguf",
        "qwen",
    )
    assert lookup_model("Qwen2.5-Coder-7B").repo_id == "ggml-org/Qwen2.5-Coder-7B-Q8_0-GGUF"
    custom = lookup_model("bartowski/Some-GGUF:some-Q4_K_M.gguf")
    assert (custom.repo_id, custom.filename, custom.template) == (
        "bartowski/Some-GGUF",
        "some-Q4_K_M.gguf",
        None,
    )
    for bad in ("gpt-5", "owner/repo", "owner:file.gguf", "a/b/c:file.gguf", "/repo:x.gguf"):
        with pytest.raises(ModelNotFound, match=r"owner/repo:file\.gguf"):
            lookup_model(bad)


def test_cache_dir_follows_the_environment(tmp_path: Path) -> None:
    assert model_cache_dir({"GHOSTLS_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert model_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "ghostls/models"
    assert model_cache_dir({}) == Path.home() / ".cache/ghostls/models"


async def test_embedded_backend_downloads_with_progress_on_the_event_loop(
    hub: FakeHub, cache_dir: Path, model_bytes: bytes
) -> None:
    threads: set[int] = set()
    progress: list[int] = []

    def on_progress(done: int, total: int) -> None:
        threads.add(threading.get_ident())
        progress.append(done)

    backend = EmbeddedBackend(BackendSettings(model=MODEL), on_progress=on_progress)
    try:
        await backend.prepare()
        assert progress[-1] == len(model_bytes)
        assert threads == {threading.get_ident()}  # marshalled onto the loop
        assert backend.template_hint == "<|fim_prefix|>"
        assert backend.model_file is not None and COMMIT in str(backend.model_file)
    finally:
        await backend.aclose()


async def test_embedded_backend_reports_a_failed_download(
    refused_endpoint: str, cache_dir: Path
) -> None:
    backend = EmbeddedBackend(BackendSettings(model=MODEL))
    try:
        with pytest.raises(ModelDownloadError, match=MODEL):
            await backend.prepare()
        with pytest.raises(ModelDownloadError):  # kept: a stream fails fast, same message
            await backend.prepare()
    finally:
        await backend.aclose()
