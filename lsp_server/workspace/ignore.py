"""The workspace's ignore rules (`.gitignore`): files the user keeps out of the
repository are kept out of prompts too. Read here, the only place context rules touch
the disk; `context/hygiene` applies them."""

from __future__ import annotations

import dataclasses
import fnmatch
from pathlib import Path

# Per workspace root: the `.gitignore` last read and the (mtime, size) it had then.
_IGNORE_CACHE: dict[str, tuple[tuple[int, int], IgnoreRules]] = {}


@dataclasses.dataclass(frozen=True)
class IgnoreRules:
    """The `.gitignore` patterns of a workspace root (the common subset: globs,
    directory patterns, anchored patterns and `!` negations)."""

    patterns: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> IgnoreRules:
        lines = (line.strip() for line in text.splitlines())
        return cls(tuple(line for line in lines if line and not line.startswith("#")))

    def ignores(self, relative_path: str) -> bool:
        path = relative_path.replace("\\", "/").lstrip("/")
        ignored = False
        for raw in self.patterns:
            negate = raw.startswith("!")
            pattern = raw[1:] if negate else raw
            if _matches(pattern, path):
                ignored = not negate
        return ignored


def _matches(pattern: str, path: str) -> bool:
    directory_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    parts = path.split("/")
    # Every ancestor directory (and, unless directory-only, the file itself).
    candidates = [
        "/".join(parts[: i + 1]) for i in range(len(parts) - (1 if directory_only else 0))
    ]
    for candidate in candidates:
        if anchored and fnmatch.fnmatchcase(candidate, pattern):
            return True
        if not anchored and fnmatch.fnmatchcase(candidate.rsplit("/", 1)[-1], pattern):
            return True
    return False


def load_ignore_rules(root: str | None) -> IgnoreRules:
    """The workspace's `.gitignore` (an empty rule set when there is none). Asked on
    every completion request: read again only when the file's mtime or size changed."""
    if not root:
        return IgnoreRules()
    path = Path(root) / ".gitignore"
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = _IGNORE_CACHE.get(root)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        rules = IgnoreRules.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        _IGNORE_CACHE.pop(root, None)
        return IgnoreRules()
    _IGNORE_CACHE[root] = (stamp, rules)
    return rules
