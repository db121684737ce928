"""Typing through a suggestion while the embedded engine is still writing it: how long
the server takes to answer each typed-through keystroke (no new model request), the
alternative to answering it in the editor (VS Code's `StreamCache` answers in-process).

The real server on stdio, the embedded engine with a local GGUF (default: the bench
model); each run asks for a suggestion, then types its text as the updates bring it,
one inline request per keystroke, and prints p50 / max of the answer times. Figures
taken on a loaded machine vary a lot: compare runs taken side by side.

    python -m bench.bench_typed_through_embedded [--model PATH] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.support.lsp import running_server

URI = "file:///work/fib.py"
SOURCE = "def fibonacci(n):\n    \n"
DEFAULT_MODEL = Path.home() / ".cache/ghostls-bench/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


async def one_run(model: Path) -> list[float]:
    options = {
        "backend": {"kind": "embedded", "modelPath": str(model)},
        "streaming": True,
        "completion": {"multiline": "always", "maxTokens": 96, "debounceMs": 0},
    }
    async with running_server(Path(tempfile.mkdtemp()), options) as session:
        session.open(URI, SOURCE)
        for _ in range(40):  # the first requests wait for the model to load
            answer = await session.inline(URI, 1, 4)
            if answer.items and answer.items[0].insert_text.strip():
                break
            await asyncio.sleep(0.5)
        text, column, times = answer.items[0].insert_text, 4, []
        for index in range(16):

            def longer(at: int = index) -> bool:
                updates = session.updates
                return bool(updates) and (len(updates[-1]["text"]) > at + 1 or updates[-1]["done"])

            # Only keystrokes that leave some of the known text to show: the ones a
            # client cache could answer too (typing all of it waits for the model).
            if index + 1 >= len(text):
                await session.wait_until(longer, 30)
            if session.updates:
                text = session.updates[-1]["text"]
            if index + 1 >= len(text) or text[index] == "\n":
                break
            session.type_text(URI, 1, column, text[index])
            column += 1
            start = time.perf_counter()
            await session.inline(URI, 1, column)
            times.append((time.perf_counter() - start) * 1000)
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for run in range(args.runs):
        times = sorted(asyncio.run(one_run(args.model)))
        if times:
            print(
                f"run {run + 1}: {len(times)} keystrokes, answer p50 "
                f"{statistics.median(times):.1f} ms, max {times[-1]:.1f} ms"
            )


if __name__ == "__main__":
    main()
