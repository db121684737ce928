"""Reasoning models (gpt-oss, Qwen3, DeepSeek-R1, o-series): their thinking never
reaches the editor.

Servers deliver reasoning in one of three ways, all handled here:

- a separate delta field (`reasoning_content` from vLLM / llama-server /
  DeepSeek, `reasoning` from vLLM ≥ 0.10 and OpenRouter, `thinking` from Ollama), which
  the backends simply do not yield;
- `<think>…</think>` inline in the content (servers without a reasoning parser);
- gpt-oss's harmony channels inline (`<|channel|>analysis<|message|>…<|end|>
  <|start|>assistant<|channel|>final<|message|>…`), when llama-server runs without
  `--reasoning-format` or a proxy passes raw text through.

`ReasoningFilter` strips the inline forms incrementally: each chunk costs time in
proportion to its own length (it holds back at most one marker's worth of text).
"""

from __future__ import annotations

import re

from lsp_server.errors import BackendError

# Model names that reason before answering, and so need a reasoning-effort hint and
# room in their token budget for the thinking.
_REASONING_MODEL = re.compile(
    r"gpt-oss|(^|[/:_-])o[134](-|$)|gpt-5|qwq|deepseek-r1|qwen3(?!-coder)|magistral|phi-4-reasoning|"
    r"reasoning|thinking",
    re.IGNORECASE,
)

# Extra tokens granted to a reasoning model on top of the suggestion's own budget.
REASONING_ALLOWANCE_TOKENS = 384

OPEN_THINK, CLOSE_THINK = "<think>", "</think>"
CHANNEL, MESSAGE, END, START = "<|channel|>", "<|message|>", "<|end|>", "<|start|>"
_MARKERS = (OPEN_THINK, CLOSE_THINK, CHANNEL, MESSAGE, END, START, "<|return|>", "<|call|>")
_LONGEST = max(len(marker) for marker in _MARKERS)


class ReasoningBudgetExhausted(BackendError):
    """The model spent its whole token budget thinking and wrote no answer."""


def is_reasoning_model(model: str) -> bool:
    return bool(_REASONING_MODEL.search(model))


def reasoning_budget_message(label: str, max_tokens: int) -> str:
    return (
        f"{label} spent its whole budget of {max_tokens} tokens reasoning and wrote no "
        "suggestion: use a non-reasoning (coder) model for completions, or raise "
        "completion.maxTokens"
    )


def _held_back(text: str) -> int:
    """Length of the tail of `text` that may be the start of a marker."""
    start = text.rfind("<", max(0, len(text) - _LONGEST))
    if start < 0:
        return 0
    tail = text[start:]
    return len(tail) if any(m.startswith(tail) and m != tail for m in _MARKERS) else 0


class ReasoningFilter:
    """Feed content chunks, get the visible answer; `hidden_chars` counts the thinking."""

    def __init__(self) -> None:
        self._pending = ""
        self._state = "text"  # text | think | header | hidden
        self.hidden_chars = 0

    def feed(self, chunk: str) -> str:
        self._pending += chunk
        out: list[str] = []
        while self._pending:
            if not self._step(out):
                break
        return "".join(out)

    def finish(self) -> str:
        """The held-back tail at the end of the stream (never reasoning text)."""
        rest, self._pending = self._pending, ""
        return rest if self._state == "text" else ""

    def _step(self, out: list[str]) -> bool:
        """Consume what can be decided now; False when more input is needed."""
        text = self._pending
        if self._state == "text":
            found = [(i, m) for m in _MARKERS if (i := text.find(m)) >= 0]
            if not found:
                keep = _held_back(text)
                out.append(text[: len(text) - keep])
                self._pending = text[len(text) - keep :]
                return False
            index, marker = min(found)
            out.append(text[:index])
            self._pending = text[index + len(marker) :]
            self._state = {OPEN_THINK: "think", CHANNEL: "header", START: "header"}.get(
                marker, "text"
            )
            return True
        if self._state == "header":
            # `<|start|>assistant<|channel|>final<|message|>`: the channel name decides.
            end = text.find(MESSAGE)
            if end < 0:
                return False
            words = text[:end].replace(CHANNEL, " ").split()
            self._pending = text[end + len(MESSAGE) :]
            self._state = "hidden" if {"analysis", "commentary"} & set(words) else "text"
            return True
        closer = CLOSE_THINK if self._state == "think" else END
        end = text.find(closer)
        if end < 0:
            keep = _held_back(text)
            self.hidden_chars += len(text) - keep
            self._pending = text[len(text) - keep :]
            return False
        self.hidden_chars += end
        self._pending = text[end + len(closer) :]
        self._state = "text"
        return True
