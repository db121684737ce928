"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.tiny_gguf import build_tiny_gguf

if TYPE_CHECKING:
    from lsp_server.backends.embedded import EmbeddedBackend

# --- tiny GGUF models (tests/support/tiny_gguf.py) ---------------------------------


@pytest.fixture(scope="session")
def tiny_gguf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~0.5 MB random-weight llama GGUF with Qwen's FIM tokens; never emits EOG."""
    return build_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="session")
def tiny_eos_gguf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same model, except that greedy decoding always picks `<|endoftext|>`."""
    return build_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny-eos.gguf", ends_at_once=True)


@pytest.fixture
async def tiny_backend(tiny_gguf_path: Path) -> AsyncIterator[EmbeddedBackend]:
    """The embedded engine (real llama.cpp) on the tiny GGUF, closed after the test."""
    from lsp_server.backends.embedded import EmbeddedBackend
    from lsp_server.settings import BackendSettings

    backend = EmbeddedBackend(BackendSettings(model_path=str(tiny_gguf_path)))
    yield backend
    await backend.aclose()
