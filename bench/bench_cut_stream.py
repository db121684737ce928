"""Tokens generated after the cut was final, end to end.

    .venv/bin/python -m bench.bench_cut_stream [--samples 150] [--rates 200,1000]

A sample of granite-completebench's unstopped raw outputs (`../shared/eval/`, the model
ran on) is streamed by the scripted HTTP model of the tests (`tests/support/
fake_backend.py`, its `responder` returns the raw output, cut to `maxTokens` tokens as a
real model would stop there) at each rate, to the real server over stdio (a document =
prefix + suffix, one inline request at the cursor, streaming on). When the generation
has ended (the server closed the stream, or the text ran out), the figure per request is

    tokens the backend sent - tokens the cut needed to become final

where the second number is computed offline on the same token split, with the same
`CutLimits` the server uses (`build_job` on the context `assemble_context` builds, so the
syntax-decided single-/multi-line choice is the server's). Requests whose cut only
became final at the end of the text (the model would have stopped by itself) are
counted apart. Target (issue #9): ≤ 1 per request on a streaming backend.

Writes `bench/results/cut_stream.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
from pathlib import Path
from typing import Any

from lsprotocol import types

from bench.quality import EVAL, _jsonl, granite_inputs
from lsp_server.backends.factory import create_backend
from lsp_server.completion.job import build_job
from lsp_server.context.assemble import assemble_context
from lsp_server.postprocess import CutLimits, cut_completion
from lsp_server.settings import CompletionSettings, load_settings
from lsp_server.workspace.store import WorkspaceStore
from tests.support.fake_backend import FakeBackend, Script, split_tokens
from tests.support.lsp import openai_options, running_server

RESULTS = Path(__file__).parent / "results" / "cut_stream.json"
_EXTENSIONS = {"python": "py", "java": "java", "csharp": "cs", "typescript": "ts"}


def unstopped_samples(count: int, seed: int = 9) -> list[dict[str, str]]:
    root = EVAL / "granite-completebench"
    inputs = granite_inputs(root)
    rows = []
    for path in sorted((root / "samples").glob("*/*/*/none/results.jsonl")):
        language = path.parts[-4]
        for item in _jsonl(path):
            if item.get("stop", False):
                continue
            task = inputs[(language, item["task_id"])]
            rows.append(
                {
                    "language": language,
                    "prefix": task["prompt"],
                    "suffix": task["right_context"],
                    "raw": item["postprocessed"],
                }
            )
    return random.Random(seed).sample(rows, min(count, len(rows)))


def server_limits(uri: str, sample: dict[str, str], options: dict[str, Any]) -> CutLimits:
    """The `CutLimits` the server builds for this request (same settings, same context)."""
    settings, _ = load_settings(options)
    text, offset = sample["prefix"] + sample["suffix"], len(sample["prefix"])
    store = WorkspaceStore()
    document = store.open(uri, text, 1, sample["language"])
    context = assemble_context(store.snapshot(document, offset, "", settings, True))
    backend = create_backend(settings.backend)
    return build_job(context, settings, backend, streaming=True).limits


def tokens_needed(tokens: list[str], prefix: str, suffix: str, limits: CutLimits) -> int | None:
    """How many tokens the cut needs to become final (None: not before the text ends)."""
    text = ""
    for index, token in enumerate(tokens):
        text += token
        if cut_completion(text, prefix, suffix, limits).final:
            return index + 1
    return None


def _position(prefix: str) -> tuple[int, int]:
    line = prefix.count("\n")
    last = prefix.rsplit("\n", 1)[-1]
    return line, len(last.encode("utf-16-le")) // 2


async def run_rate(
    samples: list[dict[str, str]], rate: float, max_tokens: int, max_lines: int, tmp: Path
) -> dict[str, Any]:
    current = {"raw": ""}
    script = Script(token_interval_ms=1000 / rate)
    rows: list[dict[str, Any]] = []
    with FakeBackend(script) as backend:
        backend.responder = lambda _prompt: current["raw"]
        options = {
            **openai_options(
                backend.url, maxTokens=max_tokens, maxLines=max_lines, timeoutMs=60_000
            ),
            "streaming": True,
        }
        async with running_server(tmp, options) as session:
            # The first request warms the server up (grammars, connection): not counted.
            for index, sample in enumerate([samples[0], *samples]):
                tokens = split_tokens(sample["raw"])[:max_tokens]
                current["raw"] = "".join(tokens)
                ext = _EXTENSIONS.get(sample["language"], "txt")
                uri = (tmp / f"r{int(rate)}_{index}.{ext}").as_uri()
                limits = server_limits(uri, sample, options)
                needed = tokens_needed(tokens, sample["prefix"], sample["suffix"], limits)
                backend.reset()
                session.open(uri, sample["prefix"] + sample["suffix"], sample["language"])
                await session.inline(uri, *_position(sample["prefix"]))

                def ended(b: FakeBackend) -> bool:
                    records = b.completion_requests()
                    return bool(records) and (records[-1].finished or records[-1].disconnected)

                await asyncio.to_thread(backend.wait_for, ended, 60.0)
                record = backend.completion_requests()[-1]
                session.client.text_document_did_close(
                    types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
                )
                if index == 0:
                    continue
                rows.append(
                    {
                        "sent": record.tokens_sent,
                        "needed": needed,
                        "available": len(tokens),
                        "multiline": limits.multiline,
                        "after": None if needed is None else record.tokens_sent - needed,
                    }
                )
    measured = [row["after"] for row in rows if row["after"] is not None]
    return {
        "rate_tok_s": rate,
        "requests": len(rows),
        "final_before_end": len(measured),
        "after_final_mean": sum(measured) / max(len(measured), 1),
        "after_final_max": max(measured, default=0),
        "after_final_le_1_pct": 100 * sum(a <= 1 for a in measured) / max(len(measured), 1),
        # What a request costs the backend, cut or not (a larger budget costs here).
        "sent_mean": sum(row["sent"] for row in rows) / max(len(rows), 1),
        "rows": rows,
    }


async def measure(
    count: int, rates: list[float], max_tokens: int, max_lines: int
) -> list[dict[str, Any]]:
    samples = unstopped_samples(count)
    results = []
    for rate in rates:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(await run_rate(samples, rate, max_tokens, max_lines, Path(tmp)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=150)
    parser.add_argument("--rates", default="200,1000")
    defaults = CompletionSettings()
    parser.add_argument("--max-tokens", type=int, default=defaults.max_tokens)
    parser.add_argument("--max-lines", type=int, default=defaults.max_lines)
    args = parser.parse_args()
    rates = [float(rate) for rate in args.rates.split(",")]
    results = asyncio.run(measure(args.samples, rates, args.max_tokens, args.max_lines))
    for result in results:
        print(
            f"{result['rate_tok_s']:>6.0f} tok/s: {result['final_before_end']} of "
            f"{result['requests']} cuts final before the text ended; tokens generated "
            f"after the cut was final: mean {result['after_final_mean']:.2f}, max "
            f"{result['after_final_max']}, ≤ 1 in {result['after_final_le_1_pct']:.0f} %; "
            f"tokens sent a request {result['sent_mean']:.1f}"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"args": vars(args), "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
