"""Token counting for budgets: the backend's tokenizer when it has one, else an
estimate.

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
