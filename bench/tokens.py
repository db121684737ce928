"""Token counts for the replays: the real model's tokenizer where it is here.

The scripted HTTP model (`tests/support/fake_backend.py`) cuts a reply into BPE-like
pieces with a regular expression (a word or a punctuation mark with its leading
blanks) and stops at `max_tokens` of those. A real BPE vocabulary counts more: on
HumanEval's multi-line middles Qwen2.5-Coder's tokenizer gives 1.07 tokens for each
such piece (indentation runs and long names are several tokens, `):` one), so 179 of
the 5,815 middles need more than 128 real tokens against 131 pieces. A bench that
judges the `maxTokens` default must count as the model does: `qwen_pieces` is the
tokenizer of the real model of FACTS.md ("A real code model"), read from its GGUF
(vocabulary only, no weights loaded), when `llama_cpp` and the file are here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from tests.support.fake_backend import split_tokens

MODEL = Path.home() / ".cache" / "ghostls-bench" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


@lru_cache(maxsize=1)
def _vocabulary() -> object | None:
    try:
        import llama_cpp
    except ImportError:
        return None
    if not MODEL.exists():
        return None
    return llama_cpp.Llama(str(MODEL), vocab_only=True, verbose=False)


def qwen_pieces(text: str) -> list[str]:
    """`text` as Qwen2.5-Coder's tokens, each as its text (a character whose bytes span
    several tokens goes with the last of them, so each piece is whole UTF-8)."""
    model = _vocabulary()
    assert model is not None, "no llama_cpp or no GGUF here"
    pieces: list[str] = []
    pending = b""
    for token in model.tokenize(text.encode(), add_bos=False, special=False):  # type: ignore[attr-defined]
        pending += model.detokenize([token])  # type: ignore[attr-defined]
        try:
            pieces.append(pending.decode())
        except UnicodeDecodeError:
            continue
        pending = b""
    if pending:
        pieces.append(pending.decode(errors="replace"))
    return pieces


def tokenizer(name: str) -> Callable[[str], list[str]]:
    """`qwen` (the real model's, when it is here, else an error) or `regex`."""
    if name == "regex":
        return split_tokens
    if _vocabulary() is None:
        raise SystemExit(f"--tokens qwen needs llama_cpp and {MODEL}")
    return qwen_pieces
