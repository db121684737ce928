"""Context hygiene: what must never reach a model, and what is masked on the way.

- Files that hold secrets (`.env*`, private keys, credential stores) and files the
  workspace ignores (`.gitignore`) are never used as context, and a completion is not
  requested for them at all (`is_sensitive_path`, `IgnoreRules`).
- Strings that look like keys (`sk-…`, `AKIA…`, GitHub / Slack tokens, PEM private key
  blocks, `password = "…"` assignments) are masked in every prompt before it leaves
  the machine (`mask_secrets`).
- Invisible Unicode that can hide instructions from a reader (tag characters
  U+E0000..U+E007F, bidi controls, zero-width characters) is stripped from neighbour
  text (`strip_invisible`). The user's own document is left as the editor has it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from lsp_server.context.cursor import CursorContext, Snippet
from lsp_server.workspace.ignore import IgnoreRules

MASK = "<redacted>"

_SENSITIVE_NAMES = (
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.keystore",
    "*.jks",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".git-credentials",
    "credentials",
    "credentials.json",
    "*.tfvars",
    "secrets.*",
    "*.secret",
    "*.secrets",
)
_SENSITIVE_DIRS = frozenset({".ssh", ".aws", ".gnupg", ".docker", ".kube"})

SECRET_PATTERNS = (
    re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
        r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        re.DOTALL,
    ),
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
)
# `api_key = "…"`, `password: '…'`: the value only, the name stays for the model.
_ASSIGNED_SECRET = re.compile(
    r"(?i)((?:api[_-]?key|secret|password|passwd|token|auth)[\w-]*[\"']?\s*[:=]\s*[\"'])"
    r"([^\"'\s]{8,})([\"'])"
)

_INVISIBLE = re.compile(
    "[\U000e0000-\U000e007f"  # tag characters
    "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"  # bidi embeddings, isolates, marks
    "\u200b-\u200d\u2060\ufeff"  # zero-width space / joiners, word joiner, BOM
    "]"
)


@functools.lru_cache(maxsize=4096)  # asked per open document on every request
def is_sensitive_path(path: str) -> bool:
    """A file whose content is a secret by its name or directory."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if not parts:
        return False
    name = parts[-1].lower()
    if any(part.lower() in _SENSITIVE_DIRS for part in parts[:-1]):
        return True
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in _SENSITIVE_NAMES)


# A literal each pattern's match must contain: a `\b`-led pattern is tried at every
# position (~250 µs per pattern on a prompt), a substring test costs almost nothing.
_TRIGGERS = (("-----BEGIN",), ("sk-",), ("AKIA", "ASIA"), ("gh",), ("xox",), ("AIza",))
_ASSIGNED_TRIGGERS = ("key", "secret", "passw", "token", "auth")


def mask_secrets(text: str) -> str:
    for pattern, triggers in zip(SECRET_PATTERNS, _TRIGGERS, strict=True):
        if any(trigger in text for trigger in triggers):
            text = pattern.sub(MASK, text)
    lowered = text.lower()
    if not any(trigger in lowered for trigger in _ASSIGNED_TRIGGERS):
        return text
    return _ASSIGNED_SECRET.sub(lambda match: match.group(1) + MASK + match.group(3), text)


def strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)


def clean_snippets(
    snippets: Iterable[Snippet], ignore: IgnoreRules | None = None, root: str = ""
) -> tuple[Snippet, ...]:
    """Neighbour text fit for a prompt: no secret or ignored files, nothing invisible,
    keys masked."""
    kept: list[Snippet] = []
    for snippet in snippets:
        if is_sensitive_path(snippet.path):
            continue
        inside = bool(root) and snippet.path.startswith(root)
        if ignore is not None and inside and ignore.ignores(snippet.path[len(root) :]):
            continue
        kept.append(Snippet(snippet.path, mask_secrets(strip_invisible(snippet.text))))
    return tuple(kept)


def clean_context(context: CursorContext) -> CursorContext:
    """The context with its neighbour snippets cleaned (the document itself is not
    changed: typing-through compares against it)."""
    if not context.snippets:
        return context
    return dataclasses.replace(context, snippets=clean_snippets(context.snippets))
