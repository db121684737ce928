"""KV-cache reuse on the embedded engine over a typing replay.

Lines of a Python standard-library file are retyped one character at a time; every
keystroke builds the prompt exactly as the server does (`assemble_context` with the
syntax tree for scope headers, `build_job` with the model's own tokenizer) and runs it
on the embedded llama.cpp engine with the tiny GGUF (`tests/support/tiny_gguf.py`).
After each generation `EmbeddedBackend.last_stats` says how many prompt tokens llama.cpp
found in its KV cache (`cached_prompt_tokens`) and how many it had to evaluate
(`extra["evaluated_prompt_tokens"]`).

Figures, over consecutive keystrokes (the first keystroke of each retyped line follows
a jump, so it is not counted), per FIM template (`--templates`; the tiny model has
Qwen's control tokens, so another family's markers are plain text to it, which changes
nothing about what the cache can keep):
- reused share: cached / prompt tokens (target ≥ 90 %);
- the ceiling: the share of prompt tokens that come before the cursor — a keystroke
  changes the prompt at the cursor, so everything rendered after it is evaluated again
  whatever the cache does: the suffix window with a prefix-suffix-middle template
  (Qwen: kept to `psm_suffix_share` of the budget), almost nothing with a
  suffix-prefix-middle one (StarCoder);
- keystrokes whose reuse fell below half the ceiling (the prefix window's start moved,
  so the whole prompt after the snippets was new; the start is anchored to a grid of
  lines, so this happens once per `ANCHOR_LINES` lines typed, not once per line).

    python -m bench.bench_kv_reuse [--lines 6] [--source textwrap.py] [--prompt-tokens 1536]
        [--templates qwen,starcoder]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from lsp_server.backends.base import GenerationRequest
from lsp_server.backends.embedded import EmbeddedBackend
from lsp_server.completion.job import build_job
from lsp_server.completion.snippet_memory import SnippetMemory
from lsp_server.settings import load_settings
from lsp_server.workspace.document import TextDocument
from lsp_server.workspace.store import WorkspaceStore
from tests.support.tiny_gguf import build_tiny_gguf

STDLIB = Path(sysconfig.get_paths()["stdlib"])
URI = "file:///work/replay.py"
# Open beside it, as in an editor: their snippets lead the prompt.
NEIGHBOURS = ("shlex.py", "string.py", "fractions.py")


def holes(text: str, count: int) -> list[tuple[int, int]]:
    """(start, end) of `count` non-trivial lines spread over the second half of the file
    (far enough down that the prefix window is full and must slide)."""
    lines, offset, found = text.splitlines(keepends=True), 0, []
    for line in lines:
        body = line.strip()
        if offset > len(text) // 2 and 20 <= len(body) <= 70 and not body.startswith("#"):
            start = offset + len(line) - len(line.lstrip())
            found.append((start, offset + len(line.rstrip("\n"))))
        offset += len(line)
    step = max(1, len(found) // count)
    return found[::step][:count]


def open_neighbours(names: list[str]) -> dict[str, TextDocument]:
    """Other standard-library modules, open in the editor beside the replayed one."""
    documents = {}
    for name in names:
        uri = f"file:///work/{name}"
        documents[uri] = TextDocument(uri, (STDLIB / name).read_text(), 1, "python")
    return documents


async def replay(
    source: Path,
    original: str,
    n_lines: int,
    prompt_tokens: int,
    template: str,
    neighbours: dict[str, TextDocument],
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny_gguf(Path(tmp) / "tiny.gguf")
        backend_settings = {"kind": "embedded", "modelPath": str(model), "contextTokens": 4096}
        settings, problems = load_settings(
            {
                "backend": backend_settings | {"fimTemplate": template},
                # A long timeout keeps the budget at promptTokens whatever the measured
                # prompt speed (the budget follows half the timeout): like for like.
                "completion": {"promptTokens": prompt_tokens, "maxTokens": 4, "timeoutMs": 600000},
            }
        )
        assert not problems, problems
        backend = EmbeddedBackend(settings.backend)
        await backend.prepare()
        store = WorkspaceStore()
        snippets = SnippetMemory()  # as the server's engine keeps them
        store.open(URI, original, 0, "python")  # first: the documents' order is the server's
        for uri, neighbour in neighbours.items():
            store.open(uri, neighbour.text, neighbour.version, neighbour.language_id)
        rows: list[dict[str, Any]] = []
        before = original
        try:
            for start, end in holes(original, n_lines):
                for typed in range(0, end - start + 1):
                    text = original[: start + typed] + original[end:]
                    store.recent_edits.record(URI, before, text)  # as the server does
                    before = text
                    document = store.open(URI, text, len(rows) + 1, "python")
                    snapshot = store.snapshot(document, start + typed, "", settings, False)
                    context = snippets.context_for(snapshot)
                    job = build_job(context, settings, backend, streaming=False)
                    request = GenerationRequest(
                        job.prompt, max_tokens=job.max_tokens, timeout_s=300
                    )
                    async for _ in backend.stream(request):
                        pass
                    stats = backend.last_stats
                    # The prefix ends at the cursor, whichever side of it the suffix is.
                    prompt = job.prompt
                    if prompt.template.suffix_first or not prompt.suffix:
                        before_cursor = prompt.text.rindex(prompt.prefix) + len(prompt.prefix)
                    else:
                        before_cursor = prompt.text.rindex(prompt.suffix)
                    tokenizer = backend.tokenizer()
                    assert tokenizer is not None
                    rows.append(
                        {
                            "first": typed == 0,
                            "prompt": stats.prompt_tokens,
                            "cached": stats.cached_prompt_tokens,
                            "evaluated": stats.extra["evaluated_prompt_tokens"],
                            "ceiling": tokenizer.count_tokens(job.prompt.text[:before_cursor]),
                        }
                    )
        finally:
            await backend.aclose()
    counted = [r for r in rows if not r["first"]]
    prompt = sum(r["prompt"] for r in counted)
    cached = sum(r["cached"] for r in counted)
    ceiling = sum(min(r["ceiling"], r["prompt"]) for r in counted)
    misses = [r for r in counted if r["cached"] < 0.5 * min(r["ceiling"], r["prompt"])]
    return {
        "source": source.name,
        "template": template,
        "suffix_first": job.prompt.template.suffix_first,
        "keystrokes": len(counted),
        "prompt_tokens_mean": statistics.mean(r["prompt"] for r in counted),
        "reused_share": cached / prompt,
        "ceiling_share": ceiling / prompt,
        "reused_of_ceiling": cached / ceiling,
        "evaluated_tokens_p50": statistics.median(r["evaluated"] for r in counted),
        "window_moves": len(misses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=6)
    parser.add_argument("--source", default="textwrap.py")
    parser.add_argument("--prompt-tokens", type=int, default=1536)
    parser.add_argument("--templates", default="qwen,starcoder")
    parser.add_argument("--neighbours", default=",".join(NEIGHBOURS), help="'' for none")
    args = parser.parse_args()
    source = STDLIB / args.source
    neighbours = open_neighbours([name for name in args.neighbours.split(",") if name])
    results: dict[str, Any] = {}
    for template in args.templates.split(","):
        figures = asyncio.run(
            replay(source, source.read_text(), args.lines, args.prompt_tokens, template, neighbours)
        )
        results[template] = figures
        for key, value in figures.items():
            shown = f"{value:.1%}" if key.endswith("share") or key.endswith("ceiling") else value
            print(f"{key:>22}: {shown}")
        print()
    out = Path(__file__).parent / "results" / "kv_reuse.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
