"""A ~0.5 MB llama-architecture GGUF with random weights, for tests of the real engine.

Its vocabulary is GPT-2 byte-level BPE, like Qwen2.5-Coder's: the 256 byte symbols, a
few merges (llama.cpp refuses a `gpt2` vocabulary without `tokenizer.ggml.merges`), and
Qwen's control tokens with their FIM ids in the metadata, so `<|fim_prefix|>` is one
control token and `tokenizer.ggml.fim_pre_token_id` points at it.

The text it writes is gibberish, which is all the tests need: loading, tokenizing,
streaming, stopping, cache reuse. Two choices make it deterministic:

- the output rows of the control tokens are zero, so their logits are 0 while the
  best of the ~270 random logits is positive: greedy decoding never ends by itself
  and always runs to `max_tokens` (the cancellation tests need a long generation);
- `ends_at_once=True` zeroes every output row instead: all logits tie, greedy picks
  the lowest id, and id 0 is `<|endoftext|>` — a model that stops on an EOG token.

`python -m tests.support.tiny_gguf OUT.gguf` writes one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import gguf
import numpy as np

CONTROL_TOKENS = (
    "<|endoftext|>",  # id 0: EOS, and the token `ends_at_once` models always pick
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
)
# Pairs of existing symbols; "Ġ" is the byte-level symbol for a space.
MERGES = (
    ("Ġ", "Ġ"),
    ("ĠĠ", "ĠĠ"),
    ("r", "e"),
    ("re", "t"),
    ("u", "r"),
    ("ur", "n"),
    ("ret", "urn"),
    ("Ġ", "return"),
    ("d", "e"),
    ("de", "f"),
    ("Ġ", "x"),
    ("i", "n"),
)
N_EMBD = 64
N_HEAD = 4
N_FF = 128
N_LAYER = 2
N_CTX = 4096
SEED = 20261


def byte_symbols() -> list[str]:
    """GPT-2's reversible byte → printable-character table, in byte order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    symbols: dict[int, str] = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + extra)
            extra += 1
    return [symbols[b] for b in range(256)]


def vocabulary() -> tuple[list[str], list[int]]:
    tokens = [*CONTROL_TOKENS, *byte_symbols(), *("".join(pair) for pair in MERGES)]
    types = [gguf.TokenType.CONTROL] * len(CONTROL_TOKENS)
    types += [gguf.TokenType.NORMAL] * (len(tokens) - len(CONTROL_TOKENS))
    return tokens, [int(t) for t in types]


def _add_metadata(writer: gguf.GGUFWriter, tokens: list[str], types: list[int]) -> None:
    writer.add_name("ghostls-tiny")
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges([" ".join(pair) for pair in MERGES])
    writer.add_eos_token_id(0)
    writer.add_bos_token_id(0)
    writer.add_add_bos_token(False)  # as Qwen2.5-Coder: FIM prompts start with no BOS
    fim_ids = {
        gguf.Keys.Tokenizer.FIM_PRE_ID: "<|fim_prefix|>",
        gguf.Keys.Tokenizer.FIM_SUF_ID: "<|fim_suffix|>",
        gguf.Keys.Tokenizer.FIM_MID_ID: "<|fim_middle|>",
        gguf.Keys.Tokenizer.FIM_PAD_ID: "<|fim_pad|>",
        gguf.Keys.Tokenizer.FIM_REP_ID: "<|repo_name|>",
        gguf.Keys.Tokenizer.FIM_SEP_ID: "<|file_sep|>",
    }
    for key, text in fim_ids.items():
        writer.add_uint32(key, tokens.index(text))


def _weights(n_vocab: int, ends_at_once: bool) -> dict[str, np.ndarray]:
    """numpy shapes are GGUF's dimensions reversed: (out_features, in_features)."""
    rng = np.random.default_rng(SEED)

    def rand(*shape: int) -> np.ndarray:
        return rng.normal(0.0, 0.2, size=shape).astype(np.float32)

    output = np.zeros((n_vocab, N_EMBD), np.float32) if ends_at_once else rand(n_vocab, N_EMBD)
    output[: len(CONTROL_TOKENS)] = 0.0
    weights = {
        "token_embd.weight": rand(n_vocab, N_EMBD),
        "output_norm.weight": np.ones(N_EMBD, np.float32),
        "output.weight": output,
    }
    for layer in range(N_LAYER):
        block = f"blk.{layer}"
        weights[f"{block}.attn_norm.weight"] = np.ones(N_EMBD, np.float32)
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            weights[f"{block}.{name}.weight"] = rand(N_EMBD, N_EMBD)
        weights[f"{block}.ffn_norm.weight"] = np.ones(N_EMBD, np.float32)
        weights[f"{block}.ffn_gate.weight"] = rand(N_FF, N_EMBD)
        weights[f"{block}.ffn_up.weight"] = rand(N_FF, N_EMBD)
        weights[f"{block}.ffn_down.weight"] = rand(N_EMBD, N_FF)
    return weights


def build_tiny_gguf(path: str | Path, *, ends_at_once: bool = False) -> Path:
    """Write the tiny model to `path` and return it."""
    path = Path(path)
    tokens, types = vocabulary()
    writer = gguf.GGUFWriter(str(path), "llama")
    _add_metadata(writer, tokens, types)
    for name, array in _weights(len(tokens), ends_at_once).items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.support.tiny_gguf OUT.gguf", file=sys.stderr)
        return 2
    print(build_tiny_gguf(argv[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
