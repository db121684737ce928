"""Inline completion with a chat-only model: a prompt with a hole, and the middle
extracted from whatever the model answers.

The prompt shows the code around the cursor with `HOLE` where the suggestion goes
and asks for the missing middle only. Neighbour snippets come first and the code
last, so consecutive keystrokes share the longest possible prompt prefix (KV cache).

Chat models wrap code in fences, announce it in prose, and repeat the start of the
cursor's line; `MiddleExtractor` undoes that incrementally, as chunks stream, before
the usual post-processing sees the text.
"""

from __future__ import annotations

import re

from lsp_server.prompt.build import Prompt
from lsp_server.prompt.messages import ChatMessage

HOLE = "<FILL_HERE>"
FENCE = "```"

SYSTEM_PROMPT = (
    "You are a code completion engine inside an editor. The user shows a file with the "
    f"marker {HOLE} at the cursor. Reply with exactly the code that belongs at {HOLE}, "
    "and nothing else: no explanation, no markdown fences, no code from before or after "
    "the marker. Keep the indentation that the position requires. If nothing belongs "
    "there, reply with an empty message."
)

# A first line like "Here is the completion:" or "Sure!" is prose, not code.
_PROSE = re.compile(
    r"^\s*(here('s| is| are)|sure|certainly|of course|ok(ay)?\b|the (missing|code|completion)"
    r"|this (code|completes)|to complete|i('ll| will| would))",
    re.IGNORECASE,
)


def chat_messages(prompt: Prompt, multiline: bool = True) -> tuple[ChatMessage, ...]:
    """System instructions, neighbour files, then the code with the hole."""
    parts: list[str] = []
    for snippet in prompt.snippets:
        parts.append(f"Related file {snippet.path}:\n{FENCE}\n{snippet.text.rstrip()}\n{FENCE}\n")
    scope = "" if multiline else " (a single line at most)"
    code = f"{prompt.prefix}{HOLE}{prompt.suffix}"
    parts.append(f"Complete the code at {HOLE}{scope}:\n{FENCE}\n{code}\n{FENCE}")
    return (
        ChatMessage("system", SYSTEM_PROMPT),
        ChatMessage("user", "\n".join(parts)),
    )


class MiddleExtractor:
    """Feed streamed answer text, get the code to insert at the cursor.

    Undecided while the first line is incomplete (it may be a fence or prose); then
    passes text through, holding back only a line start that may open a closing fence.
    """

    def __init__(self, prefix: str) -> None:
        self._line = prefix[prefix.rfind("\n") + 1 :]  # the cursor line before the cursor
        self._pending = ""
        self._state = "start"  # start | code | done
        # Leading line breaks are code when nothing was dropped before them; -1 once
        # a fence or prose was dropped.
        self._blank = 0

    def feed(self, chunk: str) -> str:
        if self._state == "done":
            return ""
        self._pending += chunk
        if self._state == "start" and not self._decide_start():
            return ""
        return self._emit_code(final=False)

    def finish(self) -> str:
        if self._state == "start":
            self._pending += "\n"
            self._decide_start()
            self._pending = self._pending[:-1] if self._pending.endswith("\n") else self._pending
        if self._state == "code":
            return self._emit_code(final=True)
        return ""

    @property
    def done(self) -> bool:
        """True once the closing fence was seen: nothing later can matter."""
        return self._state == "done"

    def _decide_start(self) -> bool:
        """Drop leading blank lines, prose and an opening fence; True once code starts."""
        while True:
            newline = self._pending.find("\n")
            if newline < 0:
                head = self._pending.lstrip()
                # A first line that cannot be prose or a fence is code: stream it now.
                if len(head) >= 12 and not head.startswith(FENCE) and not _PROSE.match(head):
                    break
                return False
            line = self._pending[:newline]
            if not line.strip() and self._blank >= 0:
                self._blank += 1
            elif line.strip().startswith(FENCE) or _prose_line(line):
                self._blank = -1
            elif not line.strip():
                pass
            else:
                break
            self._pending = self._pending[newline + 1 :]
        self._state = "code"
        blank = self._blank
        code = self._drop_repeated_line_start(self._pending) if blank <= 0 else self._pending
        self._pending = "\n" * max(0, blank) + code
        return True

    def _drop_repeated_line_start(self, text: str) -> str:
        """The model often restates the cursor's line; keep only what comes after it."""
        line = self._line
        if line and text.startswith(line):
            return text[len(line) :]
        stripped = line.lstrip()
        if stripped and text.lstrip().startswith(stripped):
            return text.lstrip()[len(stripped) :]
        if not stripped and line and text.startswith(line):
            return text[len(line) :]
        return text

    def _emit_code(self, final: bool) -> str:
        text = self._pending
        fence = text.find("\n" + FENCE)
        if fence < 0 and text.startswith(FENCE):
            fence = 0
        if fence >= 0:
            self._state = "done"
            self._pending = ""
            return text[:fence]
        if final:
            self._pending = ""
            return text.rstrip("\n") if text.endswith("\n") else text
        # Hold back a trailing line start that may yet become a closing fence.
        last = text.rfind("\n")
        keep = len(text) - last if last >= 0 and FENCE.startswith(text[last + 1 :]) else 0
        self._pending = text[len(text) - keep :]
        return text[: len(text) - keep]


def _prose_line(line: str) -> bool:
    stripped = line.strip()
    return bool(_PROSE.match(stripped)) or (
        stripped.endswith(":")
        and " " in stripped
        and stripped[0].isupper()
        and not stripped.startswith(("If ", "For ", "While ", "Else", "Try", "With "))
    )


def extract_middle(answer: str, prefix: str) -> str:
    """The whole-answer form of `MiddleExtractor`."""
    extractor = MiddleExtractor(prefix)
    return extractor.feed(answer) + extractor.finish()
