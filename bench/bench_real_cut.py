"""Real-model cut bench: raw Qwen2.5-Coder outputs replayed through the server's cut.

    nice -n 5 .venv/bin/python -m bench.bench_real_cut --generate --single 100 --multi 60
    .venv/bin/python -m bench.bench_real_cut [--pace real|fast]

The real model (FACTS.md, "A real code model") almost never stops by itself in FIM mode,
so where the server cuts decides what is shown. `--generate` runs it once per task
(llama_cpp, n_threads 2, n_ctx 2048, greedy, max_tokens 128, the bare FIM prompt
`<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>`) on a seeded sample of
HumanEval-infilling single- and multi-line tasks (`../shared/eval/human-eval-infilling/`)
in two layouts: the hole is one empty line with the cursor at column 0 (`col0`), or
the line already indented as auto-indent leaves it (`indented`). The server prompts
the second as the first (`lsp_server/prompt/blank_line.py`), so its replay sends the
column-0 output; the indented outputs stay cached for a server that does not. The raw token pieces
are cached in ~/.cache/ghostls-bench/real-cut/raw.jsonl (never committed).

The replay sends each raw output through the real server over stdio: the scripted HTTP
model of the tests (`tests/support/fake_backend.py`) streams it (cut to the request's
`max_tokens`, as the model would stop there) for an inline request at the hole, a
non-streaming client applies the item and the task's tests run (pass@1); the server's
settings are its defaults (`--setting-max-tokens` / `--setting-max-lines` change them;
the stored outputs stop at 128 tokens). `--pace real`
(the default) paces the backend like the real model on 2 cores, scaled down tenfold
with the target: TTFT 120 ms, 4.5 ms a token, `targetLatencyMs` 50, so the latency
controller sees a backend slower than its target, as it does with the real model.
Beside it, from the same raw text: the bare model's first line (multi-line: up to the
suffix's next line or a dedent), the baseline of issue #19.

Tasks split by HumanEval problem number as `bench_real_model` splits them: problems whose
number is 4 mod 5 are held out, the others tune (tuning here must not show as progress
on the real-model bench's held-out rows).
Counted too: answers whose last line is cut part-way (a line of the model's text
that went on).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.support.fake_backend import FakeBackend, Reply, Script, split_tokens
from tests.support.lsp import openai_options, running_server

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "human-eval-infilling"
if not EVAL.is_dir():
    EVAL = Path("/work/shared/eval/human-eval-infilling")
CACHE = Path.home() / ".cache" / "ghostls-bench"
MODEL = CACHE / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
RAW = CACHE / "real-cut" / "raw.jsonl"
RESULTS = Path(__file__).resolve().parent / "results" / "real_cut.json"
SEED = 19
LAYOUTS = ("col0", "indented")


def load_tasks(kind: str) -> list[dict[str, Any]]:
    name = {"single": "SingleLine", "multi": "MultiLine"}[kind]
    with gzip.open(EVAL / f"HumanEval-{name}Infilling.jsonl.gz", "rt") as handle:
        return [json.loads(line) for line in handle]


def sample(kind: str, count: int) -> list[dict[str, Any]]:
    """A seeded sample; growing `count` keeps the earlier tasks (a prefix of one shuffle)."""
    tasks = load_tasks(kind)
    random.Random(f"{SEED}-{kind}").shuffle(tasks)
    return tasks[:count]


def hole_indent(task: dict[str, Any]) -> str:
    first = task["canonical_solution"].split("\n", 1)[0]
    return first[: len(first) - len(first.lstrip())]


def document(task: dict[str, Any], layout: str) -> tuple[str, str]:
    """(prefix, suffix) of the file with the hole replaced by one empty line."""
    prefix = task["prompt"]
    if layout == "indented":
        prefix += hole_indent(task)
    return prefix, "\n" + task["suffix"]


def read_raw() -> dict[tuple[str, str], dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    if RAW.exists():
        for line in RAW.read_text().splitlines():
            row = json.loads(line)
            rows[(row["task_id"], row["layout"])] = row
    return rows


def generate(
    single: int, multi: int, max_tokens: int, single_tokens: int, args_threads: int = 2
) -> None:
    import llama_cpp  # the optional embedded extra

    RAW.parent.mkdir(parents=True, exist_ok=True)
    done = read_raw()
    model = llama_cpp.Llama(str(MODEL), n_threads=args_threads, n_ctx=2048, verbose=False)
    # Interleave kinds and layouts so a run stopped early still covers all four.
    work: list[tuple[dict[str, Any], str]] = []
    singles, multis = sample("single", single), sample("multi", multi)
    for index in range(max(single, multi)):
        for tasks in (singles, multis):
            if index < len(tasks):
                work.extend((tasks[index], layout) for layout in LAYOUTS)
    with RAW.open("a") as out:
        for task, layout in work:
            if (task["task_id"], layout) in done:
                continue
            prefix, suffix = document(task, layout)
            prompt = f"<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>"
            start = time.monotonic()
            pieces = []
            limit = max_tokens if task["task_id"].startswith("Multi") else single_tokens
            for chunk in model.create_completion(
                prompt, max_tokens=limit, temperature=0.0, stream=True
            ):
                text = chunk["choices"][0]["text"]
                if text:
                    pieces.append(text)
            row = {
                "task_id": task["task_id"],
                "layout": layout,
                "pieces": pieces,
                "max_tokens": limit,
                "seconds": round(time.monotonic() - start, 3),
            }
            out.write(json.dumps(row) + "\n")
            out.flush()


# -- replay -------------------------------------------------------------------------------


def bare_cut(raw: str, prefix: str, suffix: str, multi: bool) -> str:
    """The issue's baseline: the first line; multi-line: lines up to the suffix's next
    line or the first line indented less than the first one."""
    lines = raw.split("\n")
    if not multi:
        return lines[0]
    anchor = next((line for line in suffix.split("\n") if line.strip()), "")
    line_prefix = prefix.rsplit("\n", 1)[-1]
    first = line_prefix + lines[0]
    level = len(first) - len(first.lstrip())
    kept = [lines[0]]
    for line in lines[1:]:
        if line.strip() and (
            line.strip() == anchor.strip() or len(line) - len(line.lstrip()) < level
        ):
            break
        kept.append(line)
    while len(kept) > 1 and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept)


def passes(task: dict[str, Any], program: str, timeout_s: float = 10.0) -> bool:
    source = f"{program}\n\n{task['test']}\n\ncheck({task['entry_point']})\n"
    try:
        done = subprocess.run(
            [sys.executable, "-c", source], capture_output=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def truncated(answer: str, seen: str, stopped: bool) -> bool:
    """The answer's last line is a line of the model's text cut part-way: the model's
    line went on after it (or ran out of tokens in it)."""
    if not answer.strip():
        return False
    last = answer.rstrip("\n").rsplit("\n", 1)[-1].strip()
    whole = seen.split("\n")
    if not stopped:
        whole = whole[:-1]  # the unfinished line the token limit cut
    return not any(line.rstrip().endswith(last) for line in whole if line.strip())


def _position(prefix: str) -> tuple[int, int]:
    line = prefix.count("\n")
    last = prefix.rsplit("\n", 1)[-1]
    return line, len(last.encode("utf-16-le")) // 2


def _apply(text: str, item: Any) -> tuple[str, str]:
    """(the document with an inline item applied, the inserted text)."""
    if item is None:
        return text, ""
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        return sum(len(line) + 1 for line in lines[: position.line]) + position.character

    start, end = offset(item.range.start), offset(item.range.end)
    insert = item.insert_text
    insert = insert if isinstance(insert, str) else insert.value
    return text[:start] + insert + text[end:], insert


PACES = {
    # TTFT, ms a token, targetLatencyMs: the real model on 2 cores, ten times faster.
    "real": (120.0, 4.5, 50),
    "fast": (0.0, 0.0, 500),
}


async def replay(
    rows: list[dict[str, Any]],
    tasks: dict[str, dict[str, Any]],
    pace: str,
    tmp: Path,
    multiline: str = "auto",
    completion: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """`completion`: settings for the server (`maxTokens`, `maxLines`; else its
    defaults)."""
    ttft, interval, target = PACES[pace]
    current = {"raw": ""}
    results = []
    with FakeBackend() as backend:
        options = openai_options(
            backend.url,
            timeoutMs=60_000,
            targetLatencyMs=target,
            multiline=multiline,
            **(completion or {}),
        )
        async with running_server(tmp, options) as session:
            for index, row in enumerate([rows[0], *rows]):  # the first one warms up
                task = tasks[row["task_id"]]
                prefix, suffix = document(task, row["layout"])
                current["raw"] = "".join(row["pieces"])
                # The model almost never stops by itself: it ran to its token limit.
                ran_out = len(row["pieces"]) >= row.get("max_tokens", 128)
                reply = Reply(text=current["raw"], finish_reason="length" if ran_out else "stop")
                backend.set_script(Script([reply], ttft_ms=ttft, token_interval_ms=interval))
                uri = (tmp / f"t{index}.py").as_uri()
                backend.reset()
                session.open(uri, prefix + suffix, "python")
                started = time.monotonic()
                answer = await session.inline(uri, *_position(prefix))
                elapsed = time.monotonic() - started
                session.client.text_document_did_close(
                    types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
                )
                if index == 0:
                    continue
                items = answer.items if answer is not None else []
                item = items[0] if items else None
                program, inserted = _apply(prefix + suffix, item)
                record = backend.completion_requests()[-1]
                limit = int(record.body["max_tokens"])
                tokens = split_tokens(current["raw"])
                seen = "".join(tokens[:limit])
                results.append(
                    {
                        **row,
                        "program": program,
                        "answer": inserted,
                        "ms": elapsed * 1000,
                        "max_tokens": limit,
                        "tokens_sent": record.tokens_sent,
                        "truncated": truncated(
                            inserted, seen, len(tokens) <= limit and not ran_out
                        ),
                        # The bare model's answer from its own prompt (this layout's).
                        "bare": bare_cut(
                            "".join(row.get("bare_pieces", row["pieces"])),
                            prefix,
                            suffix,
                            _kind(row) == "multi",
                        ),
                    }
                )
    return results


def _kind(row: dict[str, Any]) -> str:
    return "multi" if row["task_id"].startswith("MultiLine") else "single"


def microbench(rows: list[dict[str, Any]], tasks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The syntax check's cost: each raw output's final cut (`finish_cut`, the work the
    server does once a suggestion is final) with and without it, in one run side by
    side; and on a large file (this repository's completion/lifecycle.py, 560 lines) with
    the cursor in the middle, where only the window around the cursor is parsed."""
    import lsp_server.postprocess.rest_of_line as rest_of_line
    import lsp_server.postprocess.stream as stream
    import lsp_server.postprocess.syntax_check as syntax_check
    from lsp_server.postprocess import CutLimits, finish_cut

    cases = []
    for row in rows:
        prefix, suffix = document(tasks[row["task_id"]], row["layout"])
        cases.append((prefix, suffix, "".join(row["pieces"])))
    source = (
        Path(__file__).resolve().parents[1] / "lsp_server/completion/lifecycle.py"
    ).read_text()
    middle = source.index("\n", len(source) // 2) + 1
    big = (source[:middle], "\n" + source[middle:], "    x = compute(a, b)\n    return x\n")
    limits = CutLimits(True, 12, (), "python")
    checked = rest_of_line.syntax_trim

    def run(cases: list[tuple[str, str, str]], rounds: int) -> float:
        began = time.perf_counter()
        for _ in range(rounds):
            for prefix, suffix, raw in cases:
                stream._STREAMS.clear()  # a new generation each time
                syntax_check._document_errors.cache_clear()
                finish_cut(raw, prefix, suffix, limits, ran_out=True)
        return (time.perf_counter() - began) / rounds / len(cases) * 1000

    result: dict[str, Any] = {}
    for name, chosen, rounds in (("humaneval", cases, 5), ("large_file", [big], 20)):
        timings = {}
        for variant in ("without", "with", "without", "with"):  # interleaved
            rest_of_line.syntax_trim = checked if variant == "with" else (lambda t, *_: t)  # type: ignore[assignment]
            timings.setdefault(variant, []).append(run(chosen, rounds))
        rest_of_line.syntax_trim = checked
        without, with_ = min(timings["without"]), min(timings["with"])
        result[name] = {"cut_ms": without, "cut_with_check_ms": with_, "ratio": with_ / without}
    return result


def _problem(task_id: str) -> int:
    return int(task_id.split("/")[2])


def score(results: list[dict[str, Any]], tasks: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    jobs = []
    for row in results:
        task = tasks[row["task_id"]]
        prefix, suffix = document(task, row["layout"])
        jobs.append((task, row["program"]))
        jobs.append((task, prefix + row["bare"] + suffix))
    with ThreadPoolExecutor(2) as pool:
        verdicts = list(pool.map(lambda job: passes(*job), jobs))
    for k, row in enumerate(results):
        row["pass"], row["bare_pass"] = verdicts[2 * k], verdicts[2 * k + 1]
    table = []
    for kind in ("single", "multi"):
        for layout in LAYOUTS:
            for part in ("tune", "held-out", "all"):
                chosen = [
                    r
                    for r in results
                    if _kind(r) == kind
                    and r["layout"] == layout
                    and (part == "all" or (_problem(r["task_id"]) % 5 != 4) == (part == "tune"))
                ]
                if not chosen:
                    continue
                ms = sorted(r["ms"] for r in chosen)
                table.append(
                    {
                        "kind": kind,
                        "layout": layout,
                        "part": part,
                        "n": len(chosen),
                        "ghostls_pass": 100 * sum(r["pass"] for r in chosen) / len(chosen),
                        "bare_pass": 100 * sum(r["bare_pass"] for r in chosen) / len(chosen),
                        "truncated": sum(r["truncated"] for r in chosen),
                        "empty": sum(not r["answer"].strip() for r in chosen),
                        "p50_ms": ms[len(ms) // 2],
                        "p90_ms": ms[int(0.9 * (len(ms) - 1))],
                        "tokens_sent": sum(r["tokens_sent"] for r in chosen) / len(chosen),
                    }
                )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--generate", action="store_true")
    parser.add_argument("--single", type=int, default=100)
    parser.add_argument("--multi", type=int, default=60)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--single-tokens", type=int, default=128, help="single-line tasks")
    parser.add_argument("--threads", type=int, default=2, help="decode threads (generation)")
    parser.add_argument("--pace", choices=sorted(PACES), default="real")
    parser.add_argument("--multiline", default="auto", help="completion.multiline")
    parser.add_argument("--setting-max-tokens", type=int, help="completion.maxTokens")
    parser.add_argument("--setting-max-lines", type=int, help="completion.maxLines")
    parser.add_argument("--limit", type=int, default=0, help="replay only the first N rows")
    parser.add_argument("--dump", type=Path, help="write every answer here (JSON lines)")
    parser.add_argument("--microbench", action="store_true", help="the syntax check's cost")
    args = parser.parse_args()
    if args.generate:
        generate(args.single, args.multi, args.max_tokens, args.single_tokens, args.threads)
        return
    found = read_raw()
    rows = []
    for (task_id, layout), row in found.items():
        column_zero = found.get((task_id, "col0"))
        if layout == "indented" and column_zero is not None:
            # A Python line holding only indentation is prompted as empty
            # (`lsp_server/prompt/blank_line.py`): the model writes what it writes at
            # column 0.
            row = {**row, "pieces": column_zero["pieces"], "bare_pieces": row["pieces"]}
            row["max_tokens"] = column_zero.get("max_tokens", row.get("max_tokens", 128))
        rows.append(row)
    if args.limit:
        rows = rows[: args.limit]
    tasks = {t["task_id"]: t for kind in ("single", "multi") for t in load_tasks(kind)}
    if args.microbench:
        found = microbench(rows, tasks)
        print(json.dumps(found, indent=1))
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.with_name("real_cut_microbench.json").write_text(json.dumps(found, indent=1))
        return
    with tempfile.TemporaryDirectory() as tmp:
        completion = {
            key: value
            for key, value in (
                ("maxTokens", args.setting_max_tokens),
                ("maxLines", args.setting_max_lines),
            )
            if value is not None
        }
        results = asyncio.run(replay(rows, tasks, args.pace, Path(tmp), args.multiline, completion))
    table = score(results, tasks)
    print(
        f"{'kind':7}{'layout':10}{'part':10}{'n':>5}{'ghostls':>9}{'bare':>7}"
        f"{'trunc':>7}{'empty':>7}{'p50 ms':>8}"
    )
    for line in table:
        print(
            f"{line['kind']:7}{line['layout']:10}{line['part']:10}{line['n']:>5}"
            f"{line['ghostls_pass']:>8.1f}%{line['bare_pass']:>6.1f}%"
            f"{line['truncated']:>7}{line['empty']:>7}{line['p50_ms']:>8.0f}"
            f"{line['p90_ms']:>8.0f}{line['tokens_sent']:>8.1f}"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    summary = {"pace": args.pace, "multiline": args.multiline, "table": table}
    RESULTS.write_text(json.dumps(summary, indent=1) + "\n")
    if args.dump:
        with args.dump.open("w") as out:
            for row in results:
                out.write(json.dumps({k: v for k, v in row.items() if k != "pieces"}) + "\n")


if __name__ == "__main__":
    main()
