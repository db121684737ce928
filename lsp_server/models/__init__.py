"""Models: a model name → a local GGUF path (download with progress, cache, offline)."""

from lsp_server.models.download import (
    ProgressCallback,
    check_gguf_file,
    model_cache_dir,
    resolve_model,
)
from lsp_server.models.registry import KNOWN_MODELS, ModelSpec, lookup_model

__all__ = [
    "KNOWN_MODELS",
    "ModelSpec",
    "ProgressCallback",
    "check_gguf_file",
    "lookup_model",
    "model_cache_dir",
    "resolve_model",
]
