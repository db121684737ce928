"""Known model names → where their GGUF lives on the Hugging Face Hub.

The embedded engine needs one GGUF file. Users name a model (`backend.model`); this
table turns short names into a repository, a file and the FIM template family. Any
other model is named `owner/repo:file.gguf`, a file in any Hub repository.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsp_server.errors import ModelNotFound


@dataclass(frozen=True)
class ModelSpec:
    name: str  # what the user wrote
    repo_id: str
    filename: str
    template: str | None = None  # FIM template name, None when unknown: detect it

    @property
    def label(self) -> str:
        """How messages name it: 'qwen2.5-coder-1.5b (ggml-org/…:file.gguf)'."""
        location = f"{self.repo_id}:{self.filename}"
        return location if self.name == location else f"{self.name} ({location})"


def _qwen(size: str) -> ModelSpec:
    # ggml-org publishes each size as <Size>-Q8_0-GGUF holding one lower-case file.
    return ModelSpec(
        name=f"qwen2.5-coder-{size.lower()}",
        repo_id=f"ggml-org/Qwen2.5-Coder-{size.upper()}-Q8_0-GGUF",
        filename=f"qwen2.5-coder-{size.lower()}-q8_0.gguf",
        template="qwen",
    )


KNOWN_MODELS: dict[str, ModelSpec] = {
    spec.name: spec for spec in (_qwen("0.5b"), _qwen("1.5b"), _qwen("3b"), _qwen("7b"))
}


def lookup_model(name: str) -> ModelSpec:
    """A known short name (case-insensitive) or `owner/repo:file.gguf`."""
    known = KNOWN_MODELS.get(name.strip().lower())
    if known is not None:
        return known
    repo_id, sep, filename = name.strip().partition(":")
    if sep and repo_id.count("/") == 1 and all(repo_id.split("/")) and filename.endswith(".gguf"):
        return ModelSpec(name=name.strip(), repo_id=repo_id, filename=filename)
    choices = ", ".join(KNOWN_MODELS)
    raise ModelNotFound(
        f"unknown model '{name}' for the embedded backend: use one of {choices}, "
        "or a Hugging Face file as 'owner/repo:file.gguf', "
        "or set backend.modelPath to a local GGUF file"
    )
