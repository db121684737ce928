"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.tiny_gguf import build_tiny_gguf

# --- tiny GGUF models (tests/support/tiny_gguf.py) ---------------------------------


@pytest.fixture(scope="session")
def tiny_gguf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~0.5 MB random-weight llama GGUF with Qwen's FIM tokens; never emits EOG."""
    return build_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="session")
def tiny_eos_gguf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same model, except that greedy decoding always picks `<|endoftext|>`."""
    return build_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny-eos.gguf", ends_at_once=True)
