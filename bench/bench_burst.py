"""A fast typist from the first keystroke, ghostls side by side with a bare server.

The replay a new user makes, not the warmed-up one of `bench_typing`: each line is
typed from its first character at one key every 60 ms, with no pause before, in a
document just opened. Every keystroke is a `didChange` (incremental), then
`$/cancelRequest` of the previous inline completion request while it is unanswered,
then an `textDocument/inlineCompletion` (Automatic). A few characters before the end
of the line the user stops and reads the suggestion (a pause), then the next line.

Files: modules of Python's standard library (textwrap, shlex, queue) and of two npm
packages in `clients/vscode/node_modules` (commander's `lib/option.js`, picomatch's
`lib/scan.js`), 300-500 lines each; four lines of each.

The backend (`tests/support/fake_backend.py`, OpenAI `/v1/completions` over SSE) is an
oracle: it answers with the file's true continuation after the prompt's prefix, with a
time to first token equal to the keystroke interval (60 ms), then 200 tokens/s. It
never stops by itself (the cut must find the end).

Two servers run against that one backend in the same run, line by line in turn
(alternating which goes first): ghostls, and `bench/bare_server.py` (pygls, the
prefix and suffix as a FIM prompt, the first line as the answer, nothing else).

The editor is modelled as VS Code shows ghost text: an answer is shown when it
arrives before the next keystroke (a later one belongs to a cancelled request), a
`ghostls/inlineCompletionUpdate` for the item on screen replaces its text, and a
keystroke that types the next character of what is on screen keeps the rest on
screen. Figures, per server (table, and bench/results/burst.json):

- typing-through: keystrokes that typed a character of a suggestion on screen (%);
- backend requests per keystroke;
- server CPU per keystroke (the process's user + system time over the replay);
- at pauses: answer - backend floor, p50 / p95 (the floor: when the backend had sent
  what the answer shows and the token after it, or the request time if later);
- peak RSS.

    python -m bench.bench_burst [--lines-per-file 4] [--interval-ms 60] [--tokens-per-s 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sysconfig
import tempfile
import time
import zlib
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from bench.bench_typing import percentile
from tests.support.fake_backend import FakeBackend, RequestRecord, Script, split_tokens
from tests.support.lsp import REPO, Session, openai_options, running_server

STDLIB = Path(sysconfig.get_paths()["stdlib"])
NODE_MODULES = REPO / "clients" / "vscode" / "node_modules"
SOURCES = (
    (STDLIB / "textwrap.py", "python"),
    (STDLIB / "shlex.py", "python"),
    (STDLIB / "queue.py", "python"),
    (NODE_MODULES / "commander" / "lib" / "option.js", "javascript"),
    (NODE_MODULES / "picomatch" / "lib" / "scan.js", "javascript"),
)
PAUSE_S = 0.4  # the user reads the suggestion
REPLY_CHARS = 400  # the oracle's answer: this much of the file's continuation
BARE_MODEL = "bare"
GHOSTLS_MODEL = "test-model"


@dataclass(frozen=True)
class Line:
    """A line the user types: `original[start:end]`, pausing after `pause_at` chars."""

    path: Path
    language: str
    original: str
    start: int
    end: int
    pause_at: int


@dataclass
class Figures:
    keystrokes: int = 0
    served: int = 0  # keystrokes that typed a character of the suggestion on screen
    per_line: list[float] = field(default_factory=list)  # typing-through share per line
    pause_overhead_ms: list[float] = field(default_factory=list)
    pause_detail: list[dict[str, Any]] = field(default_factory=list)
    cpu_s: float = 0.0
    peak_rss_kb: int = 0


@dataclass
class Screen:
    """The editor's ghost text: where it starts, its text, the item it came from."""

    start: int = 0
    text: str = ""
    item_id: str | None = None
    version: int = -1


def pick_lines(per_file: int) -> list[Line]:
    lines: list[Line] = []
    for path, language in SOURCES:
        original = path.read_text(encoding="utf-8")
        offset = 0
        candidates = []
        for line in original.splitlines(keepends=True):
            body = line.strip()
            if 20 <= len(body) <= 60 and not body.startswith(("#", '"', "'", "//", "*", "/*")):
                start = offset + line.index(body[0])
                candidates.append((start, start + len(body)))
            offset += len(line)
        step = max(1, len(candidates) // (per_file + 1))
        for start, end in candidates[step::step][:per_file]:
            pause_at = end - start - (2 + zlib.crc32(original[start:end].encode()) % 5)
            lines.append(Line(path, language, original, start, end, pause_at))
    return lines


def oracle(current: dict[str, Line]) -> Any:
    """The file's true continuation after the prompt's prefix."""

    def respond(prompt: str) -> str:
        prefix = prompt.split("<|fim_prefix|>", 1)[-1].split("<|fim_suffix|>", 1)[0]
        line = current["line"]
        tail = prefix[-200:]
        found = line.original.rfind(tail, 0, line.end)
        if found < 0:
            return "unknown_continuation()\n"
        cursor = found + len(tail)
        return line.original[cursor : cursor + REPLY_CHARS]

    return respond


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_kb(pid: int) -> int:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1])
    return 0


def server_pid(session: Session) -> int:
    process = session.client._server
    assert process is not None
    return int(process.pid)


class Replay:
    """One server's side of the run: its session, the editor's screen, its figures."""

    def __init__(self, name: str, model: str, session: Session, backend: FakeBackend) -> None:
        self.name = name
        self.model = model
        self.session = session
        self.backend = backend
        self.figures = Figures()
        self.screen = Screen()
        self.line: Line | None = None
        self.uri = ""
        self.version = 0
        self.cursor = 0
        self.replies: dict[int, str] = {}
        self._record = session._record
        session._record = self._on_notification  # type: ignore[method-assign]

    def records(self) -> list[RequestRecord]:
        return [r for r in self.backend.completion_requests() if r.body.get("model") == self.model]

    # -- the editor's screen ----------------------------------------------------------

    def _on_notification(self, bucket: list[dict[str, Any]], params: Any) -> None:
        self._record(bucket, params)
        if bucket is not self.session.updates:
            return
        update = bucket[-1]
        screen = self.screen
        if update["itemId"] == screen.item_id and update["version"] == screen.version:
            screen.text = update["text"]

    def _answered(self, result: Any, start: int, version: int) -> None:
        if version != self.version or not isinstance(result, types.InlineCompletionList):
            return  # a cancelled request's answer: the editor has dropped it
        if not result.items or not isinstance(result.items[0].insert_text, str):
            self.screen = Screen()
            return
        item = result.items[0]
        item_id = item.command.arguments[0] if item.command and item.command.arguments else None
        self.screen = Screen(start, item.insert_text, item_id, version)

    def _keystroke_served(self, char: str) -> bool:
        assert self.line is not None
        screen = self.screen
        typed = self.line.original[screen.start : self.cursor]
        ahead = screen.text[len(typed) :] if screen.text.startswith(typed) else ""
        return self.cursor >= screen.start and ahead[:1] == char

    # -- the replay -----------------------------------------------------------------

    async def type_line(self, line: Line, interval_s: float) -> None:
        session = self.session
        self.line, self.uri = line, line.path.as_uri()
        self.screen = Screen()
        text = line.original[: line.start] + line.original[line.end :]
        session.open(self.uri, text, line.language)
        self.version = session.versions[self.uri]
        row = line.original.count("\n", 0, line.start)
        column = line.start - (line.original.rfind("\n", 0, line.start) + 1)
        pending: asyncio.Future[Any] | None = None
        served = 0
        began = time.monotonic() + interval_s
        for typed in range(1, line.pause_at + 1):
            await asyncio.sleep(max(0.0, began + (typed - 1) * interval_s - time.monotonic()))
            self.cursor = line.start + typed - 1
            char = line.original[self.cursor]
            if self._keystroke_served(char):
                served += 1
            else:
                self.screen = Screen()
            session.type_text(self.uri, row, column + typed - 1, char)
            self.version = session.versions[self.uri]
            self.cursor += 1
            self.figures.keystrokes += 1
            if pending is not None and not pending.done():
                session.cancel(pending)
            sent_at = time.monotonic()
            pending = session.inline(self.uri, row, column + typed)
            pending.add_done_callback(
                lambda done, at=self.cursor, v=self.version: self._answered(
                    None if done.cancelled() or done.exception() else done.result(), at, v
                )
            )
        self.figures.served += served
        self.figures.per_line.append(served / max(1, line.pause_at))
        assert pending is not None
        try:
            result = await pending
        except Exception as error:  # a stale answer is part of the replay
            result = error
        received = time.monotonic()
        overhead = self.pause_overhead_ms(result, sent_at, received)
        if overhead is not None:
            self.figures.pause_overhead_ms.append(overhead)
        await asyncio.sleep(PAUSE_S)
        session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(self.uri))
        )

    def serving_record(self, item_id: str | None) -> tuple[RequestRecord | None, int]:
        """The backend request that an answer came from, and how many characters the
        user had typed since it started (ghostls's item id says; the bare server's
        answer comes from the request made at the cursor)."""
        assert self.line is not None
        typed = int(item_id.split(":")[1]) if item_id and ":" in item_id else 0
        prefix = self.line.original[: self.cursor - typed]
        started_at = prefix[-200:] + "<|fim_suffix|>"
        for record in reversed(self.records()):
            if started_at in record.prompt:
                return record, typed
        return None, typed

    def pause_overhead_ms(self, result: Any, sent: float, received: float) -> float | None:
        if not isinstance(result, types.InlineCompletionList) or not result.items:
            return None
        item = result.items[0]
        item_id = item.command.arguments[0] if item.command and item.command.arguments else None
        record, typed = self.serving_record(item_id)
        if record is None or not isinstance(item.insert_text, str):
            return None
        needed = typed + len(item.insert_text) + 1
        covered = 0
        ready = record.finished_at or (record.token_times[-1] if record.token_times else received)
        for index, token in enumerate(split_tokens(self.replies.get(id(record), ""))):
            covered += len(token)
            if covered >= needed and index < len(record.token_times):
                ready = record.token_times[index]
                break
        self.figures.pause_detail.append(
            {
                "overhead_ms": round((received - max(sent, ready)) * 1000, 2),
                "from_memory": ready < sent,
                "typed_since_request": typed,
                "request_to_answer_ms": round((received - sent) * 1000, 2),
            }
        )
        return (received - max(sent, ready)) * 1000


async def warm_up(session: Session) -> None:
    """What both servers pay once per session, outside the measurement: the first
    document of each language (grammars load) and a round trip."""
    for index, (path, language) in enumerate(SOURCES[::3]):
        uri = f"file:///warm/{index}{path.suffix}"
        session.open(uri, path.read_text(encoding="utf-8"), language)
        session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )
    await session.inline("file:///not/open.py", 0, 0)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    lines = pick_lines(args.lines_per_file)
    interval_s = args.interval_ms / 1000
    current: dict[str, Line] = {}
    script = Script(ttft_ms=args.interval_ms, token_interval_ms=1000 / args.tokens_per_s)
    respond = oracle(current)
    with tempfile.TemporaryDirectory() as tmp, FakeBackend(script) as backend:
        replays: list[Replay] = []

        def recording(prompt: str) -> str:
            text = respond(prompt)
            record = backend.completion_requests()[-1]
            for replay in replays:
                if record.body.get("model") == replay.model:
                    replay.replies[id(record)] = text
            return text

        backend.responder = recording
        ghostls_options = {
            **openai_options(backend.url, maxTokens=64),
            "streaming": True,
        }
        async with AsyncExitStack() as stack:
            bare = await stack.enter_async_context(
                running_server(
                    Path(tmp) / "bare",
                    {"url": backend.url},
                    command=("-m", "bench.bare_server"),
                )
            )
            profile = ("-m", "cProfile", "-o", args.profile) if args.profile else ()
            ghostls = await stack.enter_async_context(
                running_server(
                    Path(tmp) / "ghostls",
                    ghostls_options,
                    command=(*profile, "-m", "lsp_server", "serve"),
                )
            )
            replays = [
                Replay("bare server", BARE_MODEL, bare, backend),
                Replay("ghostls", GHOSTLS_MODEL, ghostls, backend),
            ]
            for replay in replays:
                await warm_up(replay.session)
            before = {r.name: cpu_seconds(server_pid(r.session)) for r in replays}
            for index, line in enumerate(lines):
                current["line"] = line
                for replay in replays if index % 2 == 0 else replays[::-1]:
                    await replay.type_line(line, interval_s)
            for replay in replays:
                pid = server_pid(replay.session)
                replay.figures.cpu_s = cpu_seconds(pid) - before[replay.name]
                replay.figures.peak_rss_kb = peak_rss_kb(pid)
            requests = {r.name: len(r.records()) for r in replays}
    report: dict[str, Any] = {
        "config": {
            "lines": len(lines),
            "interval_ms": args.interval_ms,
            "ttft_ms": args.interval_ms,
            "tokens_per_s": args.tokens_per_s,
            "files": [str(path.relative_to(path.parents[2])) for path, _ in SOURCES],
        },
        "servers": {},
    }
    for replay in replays:
        figures = replay.figures
        keystrokes = max(1, figures.keystrokes)
        report["servers"][replay.name] = {
            "keystrokes": figures.keystrokes,
            "typing_through_pct": 100 * figures.served / keystrokes,
            "typing_through_per_line_p50_pct": 100 * percentile(figures.per_line, 0.5),
            "backend_requests_per_keystroke": requests[replay.name] / keystrokes,
            "cpu_ms_per_keystroke": 1000 * figures.cpu_s / keystrokes,
            "pause_overhead_ms": {
                "p50": percentile(figures.pause_overhead_ms, 0.5),
                "p95": percentile(figures.pause_overhead_ms, 0.95),
                "n": len(figures.pause_overhead_ms),
                "all": [round(value, 2) for value in figures.pause_overhead_ms],
                "detail": figures.pause_detail,
            },
            "peak_rss_mb": figures.peak_rss_kb / 1024,
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--lines-per-file", type=int, default=4)
    parser.add_argument("--interval-ms", type=float, default=60)
    parser.add_argument("--tokens-per-s", type=float, default=200)
    parser.add_argument("--profile", help="run ghostls under cProfile, writing this file")
    args = parser.parse_args()
    report = asyncio.run(run(args))
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "burst.json").write_text(json.dumps(report, indent=2))
    bare, ghost = report["servers"]["bare server"], report["servers"]["ghostls"]
    rows = [
        ("typing-through (% of keystrokes)", "typing_through_pct", "{:.0f}", "≥ 60"),
        ("backend requests per keystroke", "backend_requests_per_keystroke", "{:.3f}", "≤ 0.15"),
        ("server CPU per keystroke (ms)", "cpu_ms_per_keystroke", "{:.2f}", "≤ bare"),
        ("peak RSS (MB)", "peak_rss_mb", "{:.0f}", ""),
    ]
    print(
        f"{ghost['keystrokes']} keystrokes over {report['config']['lines']} lines, a key every "
        f"{args.interval_ms:g} ms, TTFT {args.interval_ms:g} ms, {args.tokens_per_s:g} tok/s"
    )
    print(f"{'':<36}{'bare server':>14}{'ghostls':>14}  target")
    for name, key, form, target in rows:
        print(f"{name:<36}{form.format(bare[key]):>14}{form.format(ghost[key]):>14}  {target}")
    for share in ("p50", "p95"):
        b, g = bare["pause_overhead_ms"][share], ghost["pause_overhead_ms"][share]
        margin = "+ 1" if share == "p50" else "+ 3"
        print(
            f"{'pause: answer - floor ' + share + ' (ms)':<36}{b:>14.1f}{g:>14.1f}"
            f"  ≤ bare {margin} (ghostls - bare: {g - b:+.1f})"
        )
    ratio = ghost["cpu_ms_per_keystroke"] / bare["cpu_ms_per_keystroke"]
    print(
        f"CPU ratio ghostls / bare: {ratio:.2f}"
        f"; pauses answered: bare {bare['pause_overhead_ms']['n']}, "
        f"ghostls {ghost['pause_overhead_ms']['n']}"
    )


if __name__ == "__main__":
    main()
