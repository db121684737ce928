"""The embedded engine's use of the machine: decode threads, and KV-cache reuse beyond
the common prefix."""

from __future__ import annotations

import os
from pathlib import Path

import llama_cpp

__all__ = ["REUSE_MIN_TOKENS", "physical_cores", "plan_cached_moves", "reuse_cached_chunks"]

# Cached chunks at least this long are moved to their new place in the prompt instead
# of being evaluated again (llama-server's `--cache-reuse`): see `reuse_cached_chunks`.
REUSE_MIN_TOKENS = 48


def physical_cores() -> int:
    """The physical cores this process may run on: one decode thread each (a second
    hyper-thread on a core adds little to matrix work). llama-cpp-python left to itself
    (`n_threads=None`) takes half of `cpu_count()`: one decode thread on 2 cores."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
    cores = set()
    for cpu in allowed:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            return max(1, len(allowed))
        cores.add((package, core))
    return max(1, len(cores))


def reuse_cached_chunks(llama: llama_cpp.Llama, tokens: list[int]) -> int:
    """Move runs of the KV cache that the new prompt repeats further up or down to
    where the new prompt has them, as llama-server's `--cache-reuse` does; returns
    how many cached tokens were moved.

    `Llama.generate` reuses only the longest common prefix. A cursor move within a
    file shifts the prefix window: its lines are all in the cache, but one line
    further up, so nothing after the first moved line was kept and the whole window
    was evaluated again (11-13 s on 2 cores). Here, after the common prefix, each run
    of at least `REUSE_MIN_TOKENS` tokens that the old prompt has at a later place
    is shifted into place (RoPE positions are shifted exactly; the moved entries
    keep the attention to what preceded them before, the approximation llama.cpp
    accepts for its cache reuse); the cache between the runs is dropped. Then
    `generate()` finds the moved tokens in its common prefix and evaluates the rest.
    """
    memory = llama._ctx.memory
    if memory is None or not llama_cpp.llama_memory_can_shift(memory):
        return 0
    cached = llama.input_ids[: llama.n_tokens].tolist()
    moves, head = plan_cached_moves(cached, tokens)
    for cache_start, prompt_start, run in moves:
        llama._ctx.kv_cache_seq_rm(0, prompt_start, cache_start)
        llama._ctx.kv_cache_seq_shift(0, cache_start, cache_start + run, prompt_start - cache_start)
        llama.input_ids[prompt_start : prompt_start + run] = tokens[
            prompt_start : prompt_start + run
        ]
    moved = sum(run for _, _, run in moves)
    if moved:
        llama._ctx.kv_cache_seq_rm(0, head, -1)
        llama.n_tokens = head
    return moved


def plan_cached_moves(
    cached: list[int], tokens: list[int], min_run: int = REUSE_MIN_TOKENS
) -> tuple[list[tuple[int, int, int]], int]:
    """The runs of `cached` to move into place for `tokens`, as (cache start, prompt
    start, length), and how many leading prompt tokens the cache then holds: the common
    prefix, then each run of at least `min_run` tokens that the old prompt has at a
    later place; the cache between the runs is dropped. Pure, so the replay bench
    counts what the engine keeps with the engine's own rule."""
    common = 0
    for old, new in zip(cached, tokens, strict=False):
        if old != new:
            break
        common += 1
    head_cache = head_prompt = common
    moves: list[tuple[int, int, int]] = []
    # The prompt's last token is always evaluated: its logits are the first sample's.
    limit = len(tokens) - 1
    while head_cache < len(cached) and head_prompt < limit:
        run = 0
        while (
            head_cache + run < len(cached)
            and head_prompt + run < limit
            and cached[head_cache + run] == tokens[head_prompt + run]
        ):
            run += 1
        if run >= min_run:
            moves.append((head_cache, head_prompt, run))
            head_cache += run
            head_prompt += run
        else:
            head_cache += 1
    return moves, head_prompt
