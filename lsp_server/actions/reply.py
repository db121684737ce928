"""The model's answer → what goes into the document.

Chat models wrap code in fences and often add prose around it. The code is the
first fenced block (an unterminated fence, a reply cut short, runs to the end); with
no fence at all the whole reply is the code. The prose is kept for the result, so a
client can show it. The code is then fitted to the place it replaces: the original's
base indentation and its trailing newline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n", re.MULTILINE)
# A reply that is only fence markers (a small model that opened a block and stopped,
# "```" or "```python" with no line after it) holds no code: it must not replace any.
_ONLY_FENCES = re.compile(r"\A(?:[ \t]*(?:`{3,}|~{3,})[ \t]*[\w+#.-]*[ \t]*\n?)+\Z")


@dataclass(frozen=True)
class ParsedReply:
    code: str | None  # None when the reply held no code at all
    prose: str


def parse_reply(text: str) -> ParsedReply:
    match = _FENCE_OPEN.search(text)
    if match is None:
        stripped = text.strip("\n")
        if not stripped.strip() or _ONLY_FENCES.match(stripped):
            return ParsedReply(None, "")
        return ParsedReply(stripped + "\n", "")
    marker = match.group(1)
    close = re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*$", re.MULTILINE)
    end = close.search(text, match.end())
    body = text[match.end() : end.start() if end else len(text)]
    after = text[end.end() :] if end else ""
    prose = (text[: match.start()].strip() + "\n\n" + after.strip()).strip()
    return ParsedReply(body if body.strip() else None, prose)


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def fit_code(code: str, original: str) -> str:
    """Re-indent `code` to `original`'s base indentation when the model dedented it,
    and give it `original`'s trailing-newline state."""
    first_original = next((ln for ln in original.splitlines() if ln.strip()), "")
    first_code = next((ln for ln in code.splitlines() if ln.strip()), "")
    base, have = _indent_of(first_original), _indent_of(first_code)
    if len(base) > len(have) and base.startswith(have):
        extra = base[len(have) :]
        code = "".join(
            extra + line if line.strip() else line for line in code.splitlines(keepends=True)
        )
    code = code.rstrip("\n")
    if original.endswith("\n"):
        code += "\r\n" if original.endswith("\r\n") else "\n"
    return code
