"""Replay typing over real source files nobody here wrote (Python's standard library)
against the real server and a test backend with a fixed time to first token and
token rate, the way VS Code drives a server: a keystroke every 60 ms, an inline
completion request on every keystroke, the previous request cancelled.

At a pause (a few characters into the line) and at the end of each line the user
stops to read the suggestion; in between every keystroke comes 60 ms after the last.

The backend is an oracle: it answers with what the user is really about to type,
except for a fixed share of requests where it is wrong. So typing-through,
contradiction and cut all happen. Where the answer ends, it stops itself (end of
text) in the share of requests that real models do: by default the share measured on
Qwen2.5-Coder-3B's raw outputs in `../shared/eval/` (the smallest of that family
there; the default model is its 1.5B sibling). In the other requests, and whenever
it is asked at the end of a finished line, it runs on into the code below, and the
cut must find the end. `--stop-share 0` is the worst case: a model that never stops.

Figures (printed as a table, written to bench/results/typing.json):
- server overhead at pauses: when the editor got the answer, minus when the backend had
  sent what the answer shows (or minus the request time, if it already had), p50 / p95;
- backend requests per keystroke;
- tokens generated but never shown (%);
- cancel → backend disconnect latency (`$/cancelRequest` and a contradicting edit);
- typing-through answer time, and a null request's round trip measured alongside.

    python -m bench.bench_typing [--holes 24] [--ttft-ms 40] [--tokens-per-s 200]
                                 [--stop-share 0.75]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sysconfig
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.support.fake_backend import FakeBackend, RequestRecord, Script, split_tokens
from tests.support.lsp import Session, openai_options, running_server

STDLIB = Path(sysconfig.get_paths()["stdlib"])
EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
STOPPING_MODEL = "Qwen2.5-Coder-3B"
SOURCES = ("textwrap.py", "shlex.py", "fractions.py", "graphlib.py")
KEYSTROKE_S = 0.060
PAUSE_S = 0.3  # the user reads the suggestion
WRONG_SHARE = 0.2


@dataclass(frozen=True)
class Hole:
    """A line the user retypes: `original[start:end]`, pausing after `pause_at` chars."""

    path: Path
    original: str
    start: int
    end: int
    pause_at: int


@dataclass
class Figures:
    keystrokes: int = 0
    pause_overhead_ms: list[float] = field(default_factory=list)
    typing_through_ms: list[float] = field(default_factory=list)
    null_round_trip_ms: list[float] = field(default_factory=list)
    cancel_disconnect_ms: list[float] = field(default_factory=list)
    edit_disconnect_ms: list[float] = field(default_factory=list)
    shown_extent: dict[int, int] = field(default_factory=dict)  # id(record) → chars shown
    replies: dict[int, str] = field(default_factory=dict)  # id(record) → the oracle's text


def pick_holes(count: int) -> list[Hole]:
    """Lines of code with at least 20 characters, spread over the files."""
    holes: list[Hole] = []
    for name in SOURCES:
        original = (STDLIB / name).read_text(encoding="utf-8")
        offset = 0
        candidates = []
        for line in original.splitlines(keepends=True):
            body = line.strip()
            if len(body) >= 20 and not body.startswith(("#", '"', "'")):
                start = offset + line.index(body[0])
                candidates.append((start, start + len(body)))
            offset += len(line)
        step = max(1, len(candidates) // (count // len(SOURCES) + 1))
        for start, end in candidates[step::step][: count // len(SOURCES)]:
            pause = 3 + zlib.crc32(original[start:end].encode()) % 6
            holes.append(Hole(STDLIB / name, original, start, end, pause))
    return holes


def measured_stop_share(eval_dir: Path = EVAL, model: str = STOPPING_MODEL) -> float:
    """The share of a real model's raw completions that ended by themselves (`stop`),
    over every language and prompt template of granite-completebench."""
    stops = [
        bool(json.loads(line)["stop"])
        for path in sorted((eval_dir / "granite-completebench/samples" / model).glob("*/*/none/*"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    if not stops:
        raise SystemExit(f"no raw outputs of {model} under {eval_dir}: pass --stop-share")
    return sum(stops) / len(stops)


def oracle(hole_for: dict[str, Hole], stop_share: float) -> Any:
    """The backend's answer to a FIM prompt: the rest of the hole (or a wrong guess),
    then, unless this request is one where the model stops itself, an overrun."""

    def respond(prompt: str) -> str:
        prefix = prompt.split("<|fim_prefix|>", 1)[-1].split("<|fim_suffix|>", 1)[0]
        hole = hole_for["current"]
        cursor = hole.original.rfind(prefix[-400:], 0, hole.end) + len(prefix[-400:])
        draw = zlib.crc32(prompt.encode())
        stops = (draw // 100) % 100 < stop_share * 100  # independent of the wrong draw
        if draw % 100 < WRONG_SHARE * 100:
            return "wrong_guess(value)" + ("" if stops else "\n")
        rest = hole.original[cursor : hole.end]
        # Asked at the end of a finished line, a FIM model does not answer "nothing"
        # (empty middles are rare in its training): it writes the code below.
        overrun = "" if stops and rest else hole.original[hole.end : hole.end + 60]
        return rest + overrun

    return respond


async def timed(future: asyncio.Future[Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    try:
        result = await future
    except Exception as error:  # cancelled / stale answers are part of the replay
        result = error
    return result, (time.perf_counter() - started) * 1000


def first_line_floor_ms(record: RequestRecord, text: str) -> float:
    """How long the backend itself took to send the tokens up to the first line."""
    from tests.support.fake_backend import split_tokens

    sent = ""
    for index, token in enumerate(split_tokens(text)):
        sent += token
        if "\n" in sent.lstrip("\n") or index + 1 >= len(record.token_times):
            return (
                record.token_times[min(index, len(record.token_times) - 1)] - record.started
            ) * 1000
    return (record.token_times[-1] - record.started) * 1000 if record.token_times else 0.0


def serving_record(
    backend: FakeBackend, cursor_prefix: str, item_id: str
) -> tuple[RequestRecord | None, int]:
    """The backend request whose generation served an item, and how many characters of
    the model's text come before the shown text: those the user had typed since the
    generation started (`typed` characters before the cursor), plus the indentation of
    a blank line the server prompted at column 0 (the model writes it again:
    `prompt/blank_line.py`; the prompt then ends before it)."""
    typed = int(item_id.split(":")[1])
    before = cursor_prefix[: len(cursor_prefix) - typed]
    line = before.rsplit("\n", 1)[-1]
    for record in reversed(backend.completion_requests()):
        if before[-200:] + "<|fim_suffix|>" in record.prompt:
            return record, typed
        if line and not line.strip():
            at_line_start = before[: len(before) - len(line)]
            if at_line_start[-200:] + "<|fim_suffix|>" in record.prompt:
                return record, typed + len(line)
    return None, typed


def pause_overhead_ms(
    backend: FakeBackend,
    figures: Figures,
    result: Any,
    cursor_prefix: str,
    sent: float,
    received: float,
) -> float | None:
    """How long after the backend had produced what the answer shows (or after the
    request, if it already had) the editor got it. The cut may need the token after
    the shown text (to know a line ended), so that token counts as needed too; past
    the last token, that is the end of the stream (the model's end-of-text)."""
    if not isinstance(result, types.InlineCompletionList) or not result.items:
        return None
    item = result.items[0]
    record, typed = serving_record(backend, cursor_prefix, item.command.arguments[0])
    if record is None:
        return None
    needed = typed + len(item.insert_text) + 1
    covered = 0
    ready = record.finished_at or (record.token_times[-1] if record.token_times else received)
    for index, token in enumerate(split_tokens(figures.replies.get(id(record), ""))):
        covered += len(token)
        if covered >= needed and index < len(record.token_times):
            ready = record.token_times[index]
            break
    return (received - max(sent, ready)) * 1000


def note_shown(
    figures: Figures, backend: FakeBackend, cursor_prefix: str, item_id: str, text: str
) -> None:
    record, typed = serving_record(backend, cursor_prefix, item_id)
    if record is not None:
        extent = typed + len(text)
        figures.shown_extent[id(record)] = max(figures.shown_extent.get(id(record), 0), extent)


def note_answer(figures: Figures, backend: FakeBackend, cursor_prefix: str, result: Any) -> None:
    if isinstance(result, types.InlineCompletionList) and result.items:
        item = result.items[0]
        note_shown(figures, backend, cursor_prefix, item.command.arguments[0], item.insert_text)


async def replay_hole(session: Session, backend: FakeBackend, hole: Hole, figures: Figures) -> None:
    uri = hole.path.as_uri()
    text = hole.original[: hole.start] + hole.original[hole.end :]
    session.open(uri, text)
    line = text.count("\n", 0, hole.start)
    column = hole.start - (text.rfind("\n", 0, hole.start) + 1)
    pending: asyncio.Future[Any] | None = None
    tasks: list[tuple[str, asyncio.Task[Any]]] = []
    prefixes: dict[tuple[int, int], str] = {}  # request position → text before it
    updates_before = len(session.updates)
    for typed in range(hole.end - hole.start + 1):
        if typed:
            session.type_text(uri, line, column + typed - 1, hole.original[hole.start + typed - 1])
            figures.keystrokes += 1
        if pending is not None and not pending.done():
            session.cancel(pending)
        sent_at = time.monotonic()
        pending = session.inline(uri, line, column + typed)
        timing = asyncio.ensure_future(timed(pending))
        tasks.append((hole.original[: hole.start + typed], timing))
        prefixes[(line, column + typed)] = hole.original[: hole.start + typed]
        if typed == hole.pause_at:
            result, _ = await timing
            received = time.monotonic()
            prefix = hole.original[: hole.start + typed]
            overhead = pause_overhead_ms(backend, figures, result, prefix, sent_at, received)
            if overhead is not None:
                figures.pause_overhead_ms.append(overhead)
            await asyncio.sleep(PAUSE_S)
        else:
            await asyncio.sleep(KEYSTROKE_S)
    # The line is typed; the user reads the suggestion for the next one before the
    # replay moves on (closing the document would cancel it mid-stream: not typing).
    await tasks[-1][1]
    await asyncio.sleep(PAUSE_S)
    for prefix, task in tasks:
        note_answer(figures, backend, prefix, (await task)[0])
    for update in session.updates[updates_before:]:
        where = (update["position"]["line"], update["position"]["character"])
        if update["uri"] == uri and where in prefixes:
            note_shown(figures, backend, prefixes[where], update["itemId"], update["text"])
    session.client.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
    )


async def null_round_trips(session: Session, figures: Figures, count: int = 40) -> None:
    """A request the server answers without any work: an unopened document."""
    for _ in range(count):
        _, elapsed = await timed(session.inline("file:///not/open.py", 0, 0))
        figures.null_round_trip_ms.append(elapsed)


async def streaming_record(backend: FakeBackend, seen: int) -> RequestRecord:
    """The first backend request after the first `seen`, once it has sent a token."""

    def streaming(b: FakeBackend) -> bool:
        records = b.completion_requests()
        return len(records) > seen and records[seen].tokens_sent > 0

    await asyncio.to_thread(backend.wait_for, streaming)
    return backend.completion_requests()[seen]


async def typing_through(session: Session, backend: FakeBackend, figures: Figures) -> None:
    """A finished suggestion, then matching characters typed one by one: each request
    must be answered from memory (checked: no new backend request)."""
    for trial in range(10):
        uri = f"file:///bench/through{trial}.py"
        session.open(uri, "def f(items):\n    \n")
        backend.responder = lambda prompt: "return sorted(items, key=len)\n"
        await session.inline(uri, 1, 4)  # the stream runs to its end
        await asyncio.sleep(0.2)
        requests = len(backend.completion_requests())
        for typed, char in enumerate("return sor"):
            session.type_text(uri, 1, 4 + typed, char)
            result, elapsed = await timed(session.inline(uri, 1, 5 + typed))
            if result.items and len(backend.completion_requests()) == requests:
                figures.typing_through_ms.append(elapsed)
        session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )


async def disconnect_latency(session: Session, backend: FakeBackend, figures: Figures) -> None:
    """Start a long generation, then stop it by cancel or by a contradicting edit."""
    for trial in range(20):
        uri = f"file:///bench/cancel{trial}.py"
        session.open(uri, "def f():\n    \n")
        backend.responder = lambda prompt: "value = 1\n" * 200
        count = len(backend.completion_requests())
        future = session.inline(uri, 1, 4)
        record = await streaming_record(backend, count)
        stopped = time.monotonic()
        if trial % 2 == 0:
            session.cancel(future)
        else:
            session.type_text(uri, 1, 4, "#")
        await asyncio.to_thread(backend.wait_for, lambda _, r=record: r.disconnected)
        latency = ((record.disconnected_at or stopped) - stopped) * 1000
        (figures.cancel_disconnect_ms if trial % 2 == 0 else figures.edit_disconnect_ms).append(
            latency
        )
        await timed(future)
        session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Waste:
    """Tokens the backend sent, and those never shown, by why."""

    sent: int = 0
    ending: int = 0  # the token right after a shown suggestion: the line break ending it
    look_ahead: int = 0  # read on past that before the cut was final
    unshown: int = 0  # answers nothing of which was shown: contradicted or typed past

    @property
    def unseen(self) -> int:
        return self.ending + self.look_ahead + self.unshown


def waste(backend: FakeBackend, figures: Figures) -> Waste:
    counted = Waste()
    for record in backend.completion_requests():
        extent = figures.shown_extent.get(id(record), 0)
        covered = 0
        for index, token in enumerate(split_tokens(figures.replies.get(id(record), ""))):
            if index >= record.tokens_sent:
                break
            if covered >= extent:
                unseen = record.tokens_sent - index
                if extent > 0:
                    counted.ending += 1
                    counted.look_ahead += unseen - 1
                else:
                    counted.unshown += unseen
                break
            covered += len(token)
        counted.sent += record.tokens_sent
    return counted


async def run(args: argparse.Namespace) -> dict[str, Any]:
    holes = pick_holes(args.holes)
    interval = 1000 / args.tokens_per_s
    current: dict[str, Hole] = {}
    figures = Figures()
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeBackend(Script(ttft_ms=args.ttft_ms, token_interval_ms=interval)) as backend,
    ):
        respond = oracle(current, args.stop_share)

        def recording(prompt: str) -> str:
            text = respond(prompt)
            figures.replies[id(backend.completion_requests()[-1])] = text
            return text

        options = {
            **openai_options(backend.url, maxTokens=64, debounceMs=args.debounce_ms),
            "streaming": True,
        }
        async with running_server(Path(tmp), options) as session:
            await null_round_trips(session, figures)
            for hole in holes:
                current["current"] = hole
                backend.responder = recording
                await replay_hole(session, backend, hole, figures)
            wasted = waste(backend, figures)
            requests = len(backend.completion_requests())
            await disconnect_latency(session, backend, figures)
            await typing_through(session, backend, figures)
    return {
        "config": {
            "holes": len(holes),
            "ttft_ms": args.ttft_ms,
            "tokens_per_s": args.tokens_per_s,
            "debounce_ms": args.debounce_ms,
            "stop_share": args.stop_share,
        },
        "keystrokes": figures.keystrokes,
        "backend_requests_per_keystroke": requests / max(1, figures.keystrokes),
        "pause_overhead_ms": {
            "p50": percentile(figures.pause_overhead_ms, 0.5),
            "p95": percentile(figures.pause_overhead_ms, 0.95),
            "n": len(figures.pause_overhead_ms),
        },
        "tokens_sent": wasted.sent,
        "tokens_never_shown_pct": 100 * wasted.unseen / max(1, wasted.sent),
        "never_shown_by_why_pct": {
            "line_break_ending_a_shown_suggestion": 100 * wasted.ending / max(1, wasted.sent),
            "look_ahead_before_the_cut_was_final": 100 * wasted.look_ahead / max(1, wasted.sent),
            "answers_contradicted_or_typed_past_unshown": 100
            * wasted.unshown
            / max(1, wasted.sent),
        },
        "cancel_to_disconnect_ms": {
            "p50": percentile(figures.cancel_disconnect_ms, 0.5),
            "p95": percentile(figures.cancel_disconnect_ms, 0.95),
        },
        "edit_to_disconnect_ms": {
            "p50": percentile(figures.edit_disconnect_ms, 0.5),
            "p95": percentile(figures.edit_disconnect_ms, 0.95),
        },
        "typing_through_ms": {
            "p50": percentile(figures.typing_through_ms, 0.5),
            "n": len(figures.typing_through_ms),
        },
        "null_round_trip_ms": {"p50": percentile(figures.null_round_trip_ms, 0.5)},
    }


def pair(figure: dict[str, float]) -> str:
    return f"{figure['p50']:.1f} / {figure['p95']:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--holes", type=int, default=24)
    parser.add_argument("--ttft-ms", type=float, default=40)
    parser.add_argument("--tokens-per-s", type=float, default=200)
    parser.add_argument(
        "--debounce-ms", default="0", help="0 (the core slice), a number, or auto (controller)"
    )
    parser.add_argument(
        "--stop-share",
        type=float,
        default=None,
        help=f"share of answers the model ends itself (default: {STOPPING_MODEL}'s, measured)",
    )
    args = parser.parse_args()
    if args.stop_share is None:
        args.stop_share = measured_stop_share()
    report = asyncio.run(run(args))
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "typing.json").write_text(json.dumps(report, indent=2))
    rows = [
        (
            "server overhead at pauses p50 / p95 (ms)",
            pair(report["pause_overhead_ms"]),
            "≤ 3 / ≤ 10",
        ),
        ("backend requests per keystroke", f"{report['backend_requests_per_keystroke']:.2f}", ""),
        ("tokens generated but never shown (%)", f"{report['tokens_never_shown_pct']:.1f}", "≤ 5"),
        *(
            (f"  … {why.replace('_', ' ')} (%)", f"{share:.1f}", "")
            for why, share in report["never_shown_by_why_pct"].items()
        ),
        (
            "cancel → disconnect p50 / p95 (ms)",
            pair(report["cancel_to_disconnect_ms"]),
            "≤ 10",
        ),
        (
            "contradicting edit → disconnect p50 / p95 (ms)",
            pair(report["edit_to_disconnect_ms"]),
            "≤ 10",
        ),
        (
            "typing-through answer, round trip p50 (ms)",
            f"{report['typing_through_ms']['p50']:.2f}",
            "",
        ),
        (
            "null request round trip p50 (ms), same run",
            f"{report['null_round_trip_ms']['p50']:.2f}",
            "",
        ),
        (
            "typing-through minus null round trip (ms)",
            f"{report['typing_through_ms']['p50'] - report['null_round_trip_ms']['p50']:.2f}",
            "< 1",
        ),
    ]
    width = max(len(row[0]) for row in rows)
    print(
        f"{report['keystrokes']} keystrokes over {report['config']['holes']} lines of stdlib code;"
        f" the model ends {100 * args.stop_share:.0f} % of its answers itself"
    )
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>14}  {target}")


if __name__ == "__main__":
    main()
