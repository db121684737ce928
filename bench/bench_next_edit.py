"""Next-edit suggestions on cases mined from public commit history (`nextedit_cases`).

    .venv/bin/python -m bench.bench_next_edit [--cases 60] [--real 18] [--model GGUF]

Every case goes through the real server over JSON-RPC as an editor would drive it: the
file is opened as it was before the commit, the commit's first hunks arrive as
`didChange` edits (the history), and `textDocument/copilotInlineEdit` is asked at the
end of the last one. The answer's edits are compared with the commit:

- exact (positive cases): the edits contain the next hunk's edits exactly and nothing
  but edits of the commit's later hunks; strict: exactly the next hunk's edits;
- no edit when none was due (negative cases: every hunk made).

Backends:
- scripted: an oracle on 127.0.0.1 that writes the window as the commit has it (the
  pipeline's ceiling: prompt → answer → smallest edits → filters → LSP ranges);
- copy: a model that writes the window back unchanged (what "never edit" scores);
- real: the embedded engine with a local GGUF (default: the 0.5B general model of the
  real-model bench), the Sweep prompt; small and slow on purpose (`--real` cases).
Also the cancellation figure: a keystroke during a slow model request → the backend
sees the disconnect (ms), over `--cancel-runs` runs.
Writes `bench/results/next_edit.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types

from bench.nextedit_cases import Case, cursor, load_cases, state
from lsp_server.nextedit.answer import TextEdit, window_edits
from lsp_server.workspace.document import Pos, TextDocument
from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.lsp import Session, openai_options, running_server

RESULTS = Path(__file__).parent / "results" / "next_edit.json"
MODEL = Path.home() / ".cache" / "ghostls-bench" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
_CASE_PATH = re.compile(r"current/bench/([0-9a-f]{10})/")


def pick(cases: list[Case], positives: int, negatives: int) -> list[Case]:
    """Round-robin over repositories (stable order), so no project dominates."""
    by_repo: dict[str, list[Case]] = defaultdict(list)
    for case in sorted(cases, key=lambda c: c.id):
        by_repo[case.repo].append(case)
    chosen: list[Case] = []
    wanted = {True: positives, False: negatives}
    queues = [list(v) for _, v in sorted(by_repo.items())]
    while any(queues) and any(wanted.values()):
        for queue in queues:
            while queue:
                case = queue.pop(0)
                if wanted[case.positive] > 0:
                    wanted[case.positive] -= 1
                    chosen.append(case)
                    break
    return chosen


def uri_of(case: Case) -> str:
    return f"file:///bench/{case.id}/{Path(case.path).name}"


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _replace_lines(session: Session, uri: str, text: str, start: int, new: tuple[str, ...]) -> str:
    lines = text.split("\n")
    end = start + len(new) - 1
    session.versions[uri] += 1
    change = types.TextDocumentContentChangePartial(
        types.Range(types.Position(start, 0), types.Position(end, _utf16(lines[end]))),
        "\n".join(new),
    )
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=session.versions[uri]), [change]
        )
    )
    lines[start : end + 1] = new
    return "\n".join(lines)


def truth(case: Case, current: str) -> tuple[set[TextEdit], set[TextEdit]]:
    """The next hunk's edits, and every later hunk's, as offsets in `current`."""
    starts = [0]
    for line in current.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    later: list[set[TextEdit]] = []
    for hunk in case.hunks[case.applied :]:
        old, new = "\n".join(hunk.old), "\n".join(hunk.new)
        later.append(set(window_edits(starts[hunk.start], old, new)))
    if not later:
        return set(), set()
    return later[0], set().union(*later)


async def run_case(session: Session, case: Case) -> dict[str, Any]:
    uri = uri_of(case)
    session.open(uri, case.before, "plaintext")
    text = case.before
    for hunk in case.hunks[: case.applied]:
        text = _replace_lines(session, uri, text, hunk.start, hunk.new)
    assert text == state(case)
    line, column = cursor(case)
    params = {
        "textDocument": {"uri": uri, "version": session.versions[uri]},
        "position": {"line": line, "character": _utf16(text.split("\n")[line][:column])},
    }
    began = time.monotonic()
    try:
        result = await session.client.protocol.send_request_async(
            "textDocument/copilotInlineEdit", params
        )
        answer = _plain(result)
        edits, reason, error = answer.get("edits", []), answer.get("reason", ""), None
    except Exception as failure:  # a server error is a miss, and is counted
        edits, reason, error = [], "", str(failure)
    elapsed = time.monotonic() - began
    session.client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    )
    document = TextDocument(uri, text, 0)
    predicted = {
        TextEdit(
            document.offset_at(Pos(e["range"]["start"]["line"], e["range"]["start"]["character"])),
            document.offset_at(Pos(e["range"]["end"]["line"], e["range"]["end"]["character"])),
            e["text"],
        )
        for e in edits
    }
    following, later = truth(case, text)
    return {
        "id": case.id,
        "repo": case.repo,
        "positive": case.positive,
        "edits": len(predicted),
        "exact": case.positive and bool(following) and following <= predicted <= later,
        "strict": case.positive and predicted == following,
        "none_when_due_none": not case.positive and not predicted,
        "error": error,
        "reason": reason,
        "seconds": elapsed,
    }


def _plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def oracle(cases: list[Case], copy: bool) -> Callable[[str], str]:
    """Write the prompt's `current/` window as the commit has it (or as it is)."""
    by_id = {case.id: case for case in cases}

    def respond(prompt: str) -> str:
        found = _CASE_PATH.search(prompt)
        case = by_id.get(found.group(1)) if found else None
        if case is None:
            return ""
        current = prompt.split("<|file_sep|>current/", 1)[1].split("\n", 1)[1]
        window = current.split("\n<|file_sep|>updated/", 1)[0]
        text = state(case)
        first = text.count("\n", 0, text.find(window))
        final = text if copy else state(case, len(case.hunks))
        lines = final.split("\n")[first : first + window.count("\n") + 1]
        return "\n".join(lines) + "\n<|file_sep|>"

    return respond


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    positives = [r for r in rows if r["positive"]]
    negatives = [r for r in rows if not r["positive"]]

    def share(items: list[dict[str, Any]], key: str) -> float:
        return round(100 * sum(bool(r[key]) for r in items) / len(items), 1) if items else 0.0

    return {
        "positive_cases": len(positives),
        "negative_cases": len(negatives),
        "exact_pct": share(positives, "exact"),
        "strict_pct": share(positives, "strict"),
        "no_edit_when_none_due_pct": share(negatives, "none_when_due_none"),
        "positives_with_some_edit_pct": round(
            100 * sum(r["edits"] > 0 for r in positives) / len(positives), 1
        )
        if positives
        else 0.0,
        "errors": sum(r["error"] is not None for r in rows),
        "median_s": round(statistics.median(r["seconds"] for r in rows), 3) if rows else 0.0,
        "repos": len({r["repo"] for r in rows}),
        "no_edit_reasons": dict(Counter(r["reason"] for r in rows if not r["edits"])),
    }


async def scripted(cases: list[Case], copy: bool) -> dict[str, Any]:
    with FakeBackend(Script([Reply(text="")])) as backend, tempfile.TemporaryDirectory() as tmp:
        backend.responder = oracle(cases, copy)
        async with running_server(Path(tmp), openai_options(backend.url)) as session:
            rows = [await run_case(session, case) for case in cases]
    return {"summary": summary(rows), "rows": rows}


async def real(cases: list[Case], model: Path, max_tokens: int) -> dict[str, Any]:
    options = {
        "backend": {"kind": "embedded", "modelPath": str(model), "contextTokens": 4096},
        "nextEdit": {"maxTokens": max_tokens, "timeoutMs": 300_000},
    }
    with tempfile.TemporaryDirectory() as tmp:
        async with running_server(Path(tmp), options) as session:
            rows = []
            for case in cases:
                rows.append(await run_case(session, case))
                print(f"  real {len(rows)}/{len(cases)}: {rows[-1]}", flush=True)
    return {"summary": summary(rows), "rows": rows}


async def cancel_latency(runs: int) -> dict[str, Any]:
    """A keystroke during a slow model request: ms until the backend sees it leave."""
    window = "def f(value):\n    return value\n" + "\n".join(f"x{i} = {i}" for i in range(40))
    script = Script([Reply(text=window)], token_interval_ms=20)
    waits: list[float] = []
    with FakeBackend(script) as backend, tempfile.TemporaryDirectory() as tmp:
        async with running_server(Path(tmp), openai_options(backend.url)) as session:
            uri = "file:///bench/cancel.py"
            session.open(uri, "def f(x):\n    return x\n")
            for _ in range(runs):
                backend.reset()
                future = asyncio.ensure_future(
                    session.client.protocol.send_request_async(
                        "textDocument/copilotInlineEdit",
                        {
                            "textDocument": {"uri": uri, "version": session.versions[uri]},
                            "position": {"line": 0, "character": 6},
                        },
                    )
                )
                await asyncio.to_thread(
                    backend.wait_for, lambda b: b.requests and b.requests[0].tokens_sent >= 2, 10
                )
                sent = time.monotonic()
                session.type_text(uri, 1, 0, "#")
                await asyncio.to_thread(backend.wait_for, lambda b: b.requests[0].disconnected, 10)
                waits.append((backend.requests[0].disconnected_at or sent) - sent)
                with contextlib.suppress(Exception):
                    await future  # ContentModified, as documented
    waits.sort()
    return {
        "runs": runs,
        "p50_ms": round(1000 * waits[len(waits) // 2], 2),
        "max_ms": round(1000 * waits[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument(
        "--cases", type=int, default=60, help="positive cases (and half as many negative)"
    )
    parser.add_argument(
        "--real", type=int, default=18, help="real-model cases (2/3 positive); 0 skips"
    )
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--max-tokens", type=int, default=384)
    parser.add_argument("--cancel-runs", type=int, default=20)
    parser.add_argument("--refresh", action="store_true", help="mine the mirrors again")
    args = parser.parse_args()
    cases = load_cases(args.refresh)
    if not cases:
        raise SystemExit("no cases: fetch some public repositories into /work/.mirror first")
    chosen = pick(cases, args.cases, args.cases // 2)
    print(
        f"{len(cases)} mined cases ({sum(c.positive for c in cases)} positive) from "
        f"{len({c.repo for c in cases})} repositories; scoring {len(chosen)}"
    )
    results: dict[str, Any] = {"mined": len(cases)}
    results["scripted"] = asyncio.run(scripted(chosen, copy=False))
    results["copy"] = asyncio.run(scripted(chosen, copy=True))
    results["cancel"] = asyncio.run(cancel_latency(args.cancel_runs))
    if args.real and args.model.exists():
        few = pick(cases, args.real - args.real // 3, args.real // 3)
        results["real"] = asyncio.run(real(few, args.model, args.max_tokens))
        results["real"]["model"] = args.model.name
    elif args.real:
        print(f"(no real-model run: {args.model} is missing)")
    print(
        f"{'backend':<10} {'cases':>6} {'exact %':>8} {'strict %':>9} {'no-edit-ok %':>13} "
        f"{'some edit %':>12} {'median s':>9}"
    )
    for name in ("scripted", "copy", "real"):
        if name in results:
            s = results[name]["summary"]
            print(
                f"{name:<10} {s['positive_cases']:>3}+{s['negative_cases']:<2} {s['exact_pct']:>8} "
                f"{s['strict_pct']:>9} {s['no_edit_when_none_due_pct']:>13} "
                f"{s['positives_with_some_edit_pct']:>12} {s['median_s']:>9}"
            )
    cancel = results["cancel"]
    print(
        f"contradicting keystroke → backend disconnect: p50 {cancel['p50_ms']} ms, "
        f"max {cancel['max_ms']} ms over {cancel['runs']} runs"
    )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
