"""The editing-session replay of `bench_real_model.py replay`: a real model, a real file.

A ~500-line standard-library module is open in the editor with two other modules
(`shlex.py`, `string.py`). On `--lines` lines spread through the file the user deletes
the line's content (its indentation stays), retypes 3 to 6 characters at 120 ms a key —
each key a `didChange` and a `textDocument/inlineCompletion` (Automatic), the previous
request cancelled first, as VS Code does — and pauses. The pause shows a suggestion
when the last request's answer has text within 6 s. Then the rest of the line is typed
back in one change (the user finished it) and the user moves on.

Figures: the share of pauses that show a suggestion within 6 s; last keystroke → first
visible text (the answer, or with `--streaming` the first update with text), p50 / p90;
answers that repeat the partial word already typed (`sel` → `self.…`); per pause, the
prompt tokens the engine evaluated (not found in its KV cache) over all the pause's
requests, and the cached share of the last request's prompt.

`--analyse` runs no model: it builds the prompts of the same session exactly as the
server does (`assemble_context`, `build_job`, the model's own tokenizer) and says, for
every request, how many leading prompt tokens it shares with the previous request and
in which section the first difference lies (`snippets`, `file header`, `prefix window`
start / middle / the cursor's line, `suffix`), which is what decides the cache.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types

from bench.bench_real_model import (
    REPO,
    generations,
    inline_request,
    percentile,
    server_options,
    wait_ready,
)
from tests.support.lsp import Session, running_server

STDLIB = Path(sysconfig.get_paths()["stdlib"])
NEIGHBOURS = ("shlex.py", "string.py")
KEY_S = 0.120
PAUSE_S = 6.0
SEED = 8


@dataclass(frozen=True)
class Hole:
    line: int
    indent: str
    body: str
    typed: int  # characters retyped before the pause


def pick_holes(text: str, count: int, seed: int = SEED) -> list[Hole]:
    """`count` non-trivial lines spread evenly through the file."""
    lines = text.split("\n")
    candidates = [
        index
        for index, line in enumerate(lines)
        if 12 <= len(line.strip()) <= 70 and not line.strip().startswith(("#", '"', "'"))
    ]
    step = len(candidates) / count
    rng = random.Random(seed)
    holes = []
    for k in range(count):
        index = candidates[int(k * step + step / 2)]
        line = lines[index]
        indent = line[: len(line) - len(line.lstrip())]
        holes.append(Hole(index, indent, line.strip(), rng.randint(3, 6)))
    return holes


def _edit(session: Session, uri: str, line: int, start: int, end: int, text: str) -> None:
    session.versions[uri] += 1
    change = types.TextDocumentContentChangePartial(
        types.Range(types.Position(line, start), types.Position(line, end)), text
    )
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=session.versions[uri]),
            [change],
        )
    )


def _cancel(session: Session, request: asyncio.Future[Any] | None) -> None:
    if request is not None and not request.done():
        session.cancel(request)  # $/cancelRequest; its answer (an error) is ignored


def repeated_word(typed: str, rest: str, suggestion: str) -> bool:
    """The suggestion starts again with the partial word already typed (`sel` →
    `self.x`), where the real line does not."""
    word = ""
    for char in reversed(typed):
        if not (char.isalnum() or char == "_"):
            break
        word = char + word
    return bool(word) and suggestion.startswith(word) and not rest.startswith(word)


async def _session(args: argparse.Namespace) -> dict[str, Any]:
    source = STDLIB / args.source
    text = source.read_text()
    uri = f"file:///work/project/{args.source}"
    holes = pick_holes(text, args.lines)
    extra: dict[str, Any] = json.loads(args.settings) if args.settings else {}
    options = server_options(args.model, {k: v for k, v in extra.items() if k != "streaming"})
    options["streaming"] = bool(args.streaming or extra.get("streaming"))
    pauses: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GHOSTLS_DEBUG": "1"}
        async with running_server(Path(tmp), options, env=env) as session:
            await wait_ready(session)
            for name in NEIGHBOURS:
                session.open(f"file:///work/project/{name}", (STDLIB / name).read_text())
            session.open(uri, text)
            for hole in holes:
                pauses.append(await _pause(session, uri, hole))
                row = pauses[-1]
                print(
                    f"line {hole.line + 1:4d} typed {hole.typed} "
                    f"{'shown' if row['shown'] else 'NONE '} {row['ms'] or 0:7.0f} ms "
                    f"evaluated {row['evaluated']:5d} last cached "
                    f"{row['last_cached']}/{row['last_prompt']} {row['text'][:50]!r}",
                    flush=True,
                )
    shown = [p for p in pauses if p["shown"]]
    figures = {
        "pauses": len(pauses),
        "shown_share": len(shown) / len(pauses),
        "first_text_p50_ms": percentile([p["ms"] for p in shown], 0.5),
        "first_text_p90_ms": percentile([p["ms"] for p in shown], 0.9),
        "repeated_partial_words": sum(p["repeated"] for p in pauses),
        "evaluated_tokens_p50": statistics.median(p["evaluated"] for p in pauses),
        "last_prompt_tokens_p50": statistics.median(p["last_prompt"] or 0 for p in pauses),
        "last_cached_share_p50": statistics.median(
            (p["last_cached"] or 0) / p["last_prompt"] if p["last_prompt"] else 0 for p in pauses
        ),
    }
    return {"figures": figures, "pauses": pauses}


async def _pause(session: Session, uri: str, hole: Hole) -> dict[str, Any]:
    before = max((g["seq"] for g in await generations(session)), default=0)
    column = len(hole.indent)
    updates_before = len(session.updates)
    _edit(session, uri, hole.line, column, column + len(hole.body), "")
    request: asyncio.Future[Any] | None = inline_request(session, uri, hole.line, column, False)
    for k in range(hole.typed):
        await asyncio.sleep(KEY_S)
        _edit(session, uri, hole.line, column + k, column + k, hole.body[k])
        _cancel(session, request)
        request = inline_request(session, uri, hole.line, column + k + 1, False)
    last_key = time.perf_counter()
    text, answered_at = "", None
    assert request is not None
    try:
        async with asyncio.timeout(PAUSE_S):
            result = await asyncio.shield(request)
        items = getattr(result, "items", None) or []
        if items:
            text = items[0].insert_text
        answered_at = time.perf_counter()
        if not text.strip() and session.updates[updates_before:]:
            # Streaming: text may come in updates after an empty answer.
            def has_text() -> bool:
                return any(u.get("text", "").strip() for u in session.updates[updates_before:])

            async with asyncio.timeout(PAUSE_S - (answered_at - last_key)):
                await session.wait_until(has_text, PAUSE_S)
            text = next(u["text"] for u in session.updates[updates_before:] if u["text"].strip())
            answered_at = time.perf_counter()
    except TimeoutError:
        _cancel(session, request)
    except Exception as error:  # ContentModified, a cancelled request: nothing shown
        text = ""
        print(f"  request failed: {error}")
    # The user finishes the line and moves on.
    typed = hole.body[: hole.typed]
    _edit(
        session, uri, hole.line, column + hole.typed, column + hole.typed, hole.body[hole.typed :]
    )
    mine = [g for g in await generations(session) if g["seq"] > before]
    last = mine[-1] if mine else {}
    return {
        "line": hole.line,
        "typed": typed,
        "text": text,
        "shown": bool(text.strip()),
        "ms": (answered_at - last_key) * 1000 if answered_at and text.strip() else None,
        "repeated": bool(text) and repeated_word(typed, hole.body[hole.typed :], text),
        "requests": hole.typed + 1,
        "generations": mine,
        "evaluated": sum(g["evaluatedPromptTokens"] or 0 for g in mine),
        "last_prompt": last.get("promptTokens"),
        "last_cached": last.get("cachedPromptTokens"),
    }


# -- the analysis: which part of the prompt moves ------------------------------------------


def _prompt_backend(args: argparse.Namespace, llama: Any) -> Any:
    """A stand-in for the engine as the prompt builder sees it: its FIM token, its
    tokenizer (`llama`'s), and `--prompt-speed`."""
    from lsp_server.backends.base import PromptFacts

    class Tok:
        def count_tokens(self, text: str) -> int:
            return len(llama.tokenize(text.encode(), add_bos=False, special=True))

    class Backend:
        description = model_name = args.model.name

        def prompt_facts(self) -> PromptFacts:
            # As the engine would know them: its FIM token, its tokenizer, its speed.
            speed = args.prompt_speed or None
            return PromptFacts(self.model_name, "<|fim_prefix|>", Tok(), speed)

    return Backend()


def analyse(args: argparse.Namespace) -> dict[str, Any]:
    import llama_cpp

    from lsp_server.completion.job import build_job
    from lsp_server.completion.snippet_memory import SnippetMemory
    from lsp_server.settings import load_settings
    from lsp_server.workspace.store import WorkspaceStore

    llama = llama_cpp.Llama(model_path=str(args.model), vocab_only=True, verbose=False)
    backend = _prompt_backend(args, llama)
    extra: dict[str, Any] = json.loads(args.settings) if args.settings else {}
    settings, problems = load_settings(server_options(args.model, extra))
    assert not problems, problems
    source = STDLIB / args.source
    text = source.read_text()
    uri = f"file:///work/project/{args.source}"
    store = WorkspaceStore()
    snippets = SnippetMemory()  # as the server's engine keeps them
    for name in NEIGHBOURS:
        path = f"file:///work/project/{name}"
        store.open(path, (STDLIB / name).read_text(), 1, "python")
    marks = [
        llama.tokenize(mark.encode(), add_bos=False, special=True)[0]
        for mark in ("<|fim_prefix|>", "<|fim_suffix|>")
    ]
    previous: list[int] = []
    rows: list[dict[str, Any]] = []
    version = 1

    def request(new_text: str, offset: int, jump: bool) -> None:
        nonlocal previous, version, text
        store.recent_edits.record(uri, text, new_text)
        text = new_text
        version += 1
        document = store.open(uri, text, version, "python")
        context = snippets.context_for(store.snapshot(document, offset, "", settings, False))
        prompt = build_job(context, settings, backend, streaming=False).prompt
        tokens = list(llama.tokenize(prompt.text.encode(), add_bos=False, special=True))
        common = 0
        for a, b in zip(previous, tokens, strict=False):
            if a != b:
                break
            common += 1
        rows.append(
            {
                "jump": jump,
                "prompt": len(tokens),
                "reused": common,
                "evaluated_with_moves": len(tokens) - simulate_reuse(previous, tokens),
                "section": _section(tokens, common, marks, llama),
                "snippet_paths": [s.path.rsplit("/", 1)[-1] for s in prompt.snippets],
                "window_lines": prompt.prefix.count("\n"),
            }
        )
        previous = tokens

    for hole in pick_holes(text, args.lines):
        lines = text.split("\n")
        start = sum(len(line) + 1 for line in lines[: hole.line]) + len(hole.indent)
        end = start + len(hole.body)
        request(text[:start] + text[end:], start, True)
        for k in range(1, hole.typed + 1):
            request(text[:start] + hole.body[k - 1] + text[start:], start + k, False)
        text = text[: start + hole.typed] + hole.body[hole.typed :] + text[start + hole.typed :]
    for row in rows:
        print(
            f"{'JUMP' if row['jump'] else '    '} prompt {row['prompt']:5d} reused "
            f"{row['reused']:5d} (with moves {row['prompt'] - row['evaluated_with_moves']:5d}) "
            f"first change: {row['section']:<22} "
            f"window {row['window_lines']} lines, snippets {row['snippet_paths']}"
        )
    jumps = [r for r in rows if r["jump"]]
    keys = [r for r in rows if not r["jump"]]
    summary = {
        "jump_new_tokens_p50": statistics.median(r["prompt"] - r["reused"] for r in jumps),
        "key_new_tokens_p50": statistics.median(r["prompt"] - r["reused"] for r in keys),
        "jump_evaluated_with_moves_p50": statistics.median(
            r["evaluated_with_moves"] for r in jumps
        ),
        "jump_evaluated_with_moves_max": max(r["evaluated_with_moves"] for r in jumps),
        "key_evaluated_with_moves_p50": statistics.median(r["evaluated_with_moves"] for r in keys),
        "jump_sections": {s: sum(r["section"] == s for r in jumps) for s in _SECTIONS},
        "key_sections": {s: sum(r["section"] == s for r in keys) for s in _SECTIONS},
    }
    print(json.dumps(summary, indent=1))
    return {"summary": summary, "rows": rows}


def compare_layouts(args: argparse.Namespace) -> dict[str, Any]:
    """Quality of the jump layout: at every pause's last keystroke (the holes of an
    `--lines` session, the edits before it applied), the prompt built both ways — one
    window (`seen_before` off) and the stable head with the short window next to the
    cursor (on) — and the model's greedy first line against the rest of the real line.
    Pauses whose two prompts are the same (the prefix fits whole) are not counted."""
    import dataclasses
    import difflib

    import llama_cpp

    from lsp_server.backends.llama_cache import physical_cores
    from lsp_server.completion.job import build_job
    from lsp_server.completion.snippet_memory import SnippetMemory
    from lsp_server.settings import load_settings
    from lsp_server.workspace.store import WorkspaceStore

    threads = args.threads or physical_cores()
    llama = llama_cpp.Llama(
        model_path=str(args.model), n_ctx=2048, n_threads=threads, verbose=False
    )
    args.prompt_speed = args.prompt_speed or 131.0  # the quiet machine's (issue #19)
    backend = _prompt_backend(args, llama)
    settings, problems = load_settings(server_options(args.model, {}))
    assert not problems, problems
    text = (STDLIB / args.source).read_text()
    uri = f"file:///work/project/{args.source}"
    store = WorkspaceStore()
    snippets = SnippetMemory()  # as the server's engine keeps them
    for name in NEIGHBOURS:
        store.open(f"file:///work/project/{name}", (STDLIB / name).read_text(), 1, "python")
    rows: list[dict[str, Any]] = []
    for hole in pick_holes(text, args.lines):
        lines = text.split("\n")
        start = sum(len(line) + 1 for line in lines[: hole.line]) + len(hole.indent)
        typed = hole.body[: hole.typed]
        typed_text = text[:start] + typed + text[start + len(hole.body) :]
        document = store.open(uri, typed_text, len(rows) + 2, "python")
        snapshot = store.snapshot(document, start + hole.typed, "", settings, False)
        context = snippets.context_for(snapshot)
        answers: dict[str, str] = {}
        prompts: dict[str, str] = {}
        for name, seen in (("window", False), ("head", True)):
            variant = dataclasses.replace(context, seen_before=seen)
            prompt = build_job(variant, settings, backend, streaming=False).prompt
            prompts[name] = prompt.text
            out = llama.create_completion(
                prompt.text, max_tokens=48, temperature=0.0, stop=["\n", *prompt.stop]
            )
            answers[name] = out["choices"][0]["text"]  # type: ignore[index]
        truth = hole.body[hole.typed :]
        row = {
            "line": hole.line,
            "typed": typed,
            "truth": truth,
            "same": len(set(prompts.values())) == 1,
        }
        for name, answer in answers.items():
            row[name] = answer
            row[f"{name}_exact"] = answer.strip() == truth.strip()
            row[f"{name}_es"] = difflib.SequenceMatcher(None, answer.strip(), truth.strip()).ratio()
        rows.append(row)
        print(
            f"line {hole.line + 1:4d} {'same ' if row['same'] else ''}{typed!r} truth {truth!r}"
            f" | window {answers['window']!r} | head {answers['head']!r}",
            flush=True,
        )
    differing = [r for r in rows if not r["same"]]
    summary = {
        "pauses": len(rows),
        "prompts_differ": len(differing),
        **{
            f"{name}_{what}": statistics.mean(r[f"{name}_{what}"] for r in differing)
            for name in ("window", "head")
            for what in ("exact", "es")
        },
    }
    print(json.dumps(summary, indent=1))
    return {"summary": summary, "rows": rows}


_SECTIONS = ("snippets", "prefix window start", "prefix window", "cursor line", "suffix", "none")


def simulate_reuse(cached: list[int], tokens: list[int]) -> int:
    """The prompt tokens the embedded engine keeps from a cache holding `cached`: the
    common prefix, then the runs it moves (`Engine.reuse_cached_chunks`)."""
    from lsp_server.backends.llama_cache import plan_cached_moves

    return plan_cached_moves(cached, tokens)[1]


def _section(tokens: list[int], common: int, marks: list[int], llama: Any) -> str:
    """The prompt section of the first token that differs (`tokens[common]`)."""
    if common >= len(tokens):
        return "none"
    prefix_at, suffix_at = tokens.index(marks[0]), tokens.index(marks[1])
    if common <= prefix_at:
        return "snippets"
    if common >= suffix_at:
        return "suffix"
    breaks = [i for i in range(prefix_at + 1, suffix_at) if b"\n" in llama.detokenize([tokens[i]])]
    if not breaks or common <= breaks[0]:
        return "prefix window start"
    return "cursor line" if common > breaks[-1] else "prefix window"


def run_replay(args: argparse.Namespace) -> None:
    out = REPO / "bench" / "results" / f"real_replay{args.tag}.json"
    out.parent.mkdir(exist_ok=True)
    if args.analyse:
        payload = analyse(args)
        out = out.with_name(out.stem + "_analysis.json")
    elif args.layouts:
        payload = compare_layouts(args)
        out = out.with_name(out.stem + "_layouts.json")
    else:
        payload = asyncio.run(_session(args))
        print(json.dumps(payload["figures"], indent=1))
    out.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"written to {out}")
