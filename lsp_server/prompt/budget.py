"""Token counting for budgets: the backend's tokenizer when it has one, else an
estimate; and the prompt budget a backend can afford.

The estimate is calibrated for source code with byte-level BPE vocabularies
(Qwen2.5, StarCoder2, DeepSeek): about 3.3 UTF-8 bytes per token on typical code,
so counting bytes / 3 errs on the side of a prompt that fits.
"""

from __future__ import annotations

import math
from typing import Protocol

BYTES_PER_TOKEN_ESTIMATE = 3.0


class Tokenizer(Protocol):
    def count_tokens(self, text: str) -> int: ...


class EstimatingTokenizer:
    """The calibrated estimate; never undercounts by much on code."""

    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text.encode("utf-8", "surrogatepass")) / BYTES_PER_TOKEN_ESTIMATE)


# A prompt the backend has nothing of in its cache (a newly opened file, a jump far from
# the last request) must still be evaluated within this: a 0.5B model on 2 cores reads
# ~131 prompt tokens/s, so the default 1,536 tokens took 12 s cold, past the 8 s
# `completion.timeoutMs`, and the user got an error instead of a suggestion.
COLD_PROMPT_S = 4.0
MIN_PROMPT_TOKENS = 256
BUDGET_STEP = 64  # the budget moves in steps: the windows it sets stay put meanwhile


def affordable_prompt_tokens(
    setting: int, prompt_tokens_per_s: float | None, timeout_s: float = 0.0
) -> int:
    """`completion.promptTokens`, lowered to what the backend evaluates in
    `COLD_PROMPT_S` (or half of `timeout_s`, when a user raised the timeout to wait
    longer) at its measured prompt speed, never below `MIN_PROMPT_TOKENS`. A backend
    that does not measure its speed gets the setting."""
    if not prompt_tokens_per_s or prompt_tokens_per_s <= 0:
        return setting
    seconds = max(COLD_PROMPT_S, timeout_s / 2)
    affordable = int(prompt_tokens_per_s * seconds) // BUDGET_STEP * BUDGET_STEP
    return min(setting, max(MIN_PROMPT_TOKENS, affordable))


# After a jump (the cursor far from the last request's window) the lines near the cursor
# are new to the cache, and evaluating them is what the user waits for once the typing
# stops: the window next to the cursor is kept to what the backend reads in this long,
# and the rest of the prefix budget holds a stable head (`prompt/build.py`). Measured on
# the real-model replay: a whole new 26-50-line window was ~360 tokens, ~2.7 s at
# 131 tokens/s, while the 3-6 keys typed at the new place hide about 0.5 s of it.
# 0.6 s is 96 tokens at the quiet machine's ~180 tokens/s; a 64-token window cost
# the model's lines more (`replay --layouts`, docs/performance.md).
JUMP_PROMPT_S = 0.6
MIN_NEAR_TOKENS = 64
NEAR_STEP = 32


def affordable_near_tokens(prompt_tokens_per_s: float | None) -> int | None:
    """Tokens of the window next to the cursor a jump may cost: what the backend reads
    in `JUMP_PROMPT_S` at its measured speed (in steps, so the window stays put), never
    below `MIN_NEAR_TOKENS`. None when the speed is not measured: one window, as before."""
    if not prompt_tokens_per_s or prompt_tokens_per_s <= 0:
        return None
    near = int(prompt_tokens_per_s * JUMP_PROMPT_S) // NEAR_STEP * NEAR_STEP
    return max(MIN_NEAR_TOKENS, near)
