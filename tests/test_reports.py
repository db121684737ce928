"""Reports back from the editor: Copilot's didShow / didPartiallyAccept notifications
and the full accept, counted by the real server over stdio, answered by `ghostls/stats`,
written to the stats file and printed by `ghostls stats`; and client-given work-done
tokens for `workspace/executeCommand`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from lsp_server.edge.stats import (
    LATENCY_SAMPLES,
    Reports,
    StatsFile,
    Tally,
    format_stats,
    percentile,
    stats_path,
    utf16_prefix,
)
from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.lsp import REPO, Session, openai_options, plain, running_server, server_env

SOURCE = "def add(a, b):\n    \n"


def item(text: str, item_id: str) -> dict[str, Any]:
    return {
        "insertText": text,
        "range": {"start": {"line": 1, "character": 4}, "end": {"line": 1, "character": 4}},
        "command": {
            "title": "ghostls: accepted",
            "command": "ghostls.accepted",
            "arguments": [item_id],
        },
    }


async def poll(predicate: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Until `predicate()` holds (progress notifications wake no waiter: polled)."""
    async with asyncio.timeout(limit_s):
        while not predicate():  # noqa: ASYNC110 - pytest-lsp sets no event for progress
            await asyncio.sleep(0.01)


async def stats(session: Session) -> dict[str, Any]:
    result = await session.client.protocol.send_request_async("ghostls/stats", None)
    return plain(result)  # type: ignore[no-any-return]


# -- the pure core ------------------------------------------------------------------------


def test_utf16_prefix_counts_surrogate_pairs_as_two() -> None:
    assert utf16_prefix("é😀x", 0) == ""
    assert utf16_prefix("é😀x", 1) == "é"
    assert utf16_prefix("é😀x", 2) == "é"  # half a pair is not a character
    assert utf16_prefix("é😀x", 3) == "é😀"
    assert utf16_prefix("é😀x", 99) == "é😀x"


def test_an_item_counts_once_however_it_is_reported() -> None:
    reports = Reports(clock=lambda: 1000.0)
    shown = item("return a + b", "7:0")
    assert reports.did_show(shown)
    assert not reports.did_show(shown)  # drawn again as it grew
    reports.did_partially_accept(shown, 6)  # "return"
    reports.did_partially_accept(shown, 8)  # "return a": 2 more
    reports.did_partially_accept(shown, 3)  # a stale, shorter report: nothing
    reports.did_accept("7:0")
    reports.did_accept("7:0")  # the command ran twice
    session = reports.session
    assert (session.shown, session.accepted, session.partially_accepted) == (1, 1, 1)
    assert session.chars_accepted == len("return a + b")


def test_full_accept_counts_the_latest_text_the_server_sent() -> None:
    reports = Reports()
    reports.answered("3:0", "if a:")
    reports.answered("3:0", "if a:\n        return a")  # a streamed update
    reports.did_accept("3:0")
    assert reports.session.chars_accepted == len("if a:\n        return a")
    assert reports.session.shown == 0  # the client never said it drew it


def test_bad_reports_count_nothing() -> None:
    reports = Reports()
    assert not reports.did_show(None)
    assert not reports.did_partially_accept(item("abc", "1:0"), "3")
    assert not reports.did_partially_accept(item("abc", "1:0"), -1)
    assert reports.session.empty() and reports.session.chars_accepted == 0


def test_percentiles_and_the_sample_limit() -> None:
    assert percentile([], 0.5) is None
    assert percentile([30.0, 10.0, 20.0], 0.5) == 20.0
    assert percentile([float(i) for i in range(1, 11)], 0.9) == 9.0
    tally = Tally()
    for i in range(LATENCY_SAMPLES + 10):
        tally.backend("b").add_latency(float(i))
    assert tally.backends["b"].requests == LATENCY_SAMPLES + 10
    assert len(tally.backends["b"].latencies_ms) == LATENCY_SAMPLES
    assert tally.backends["b"].latencies_ms[0] == 10.0  # the oldest went


def test_the_stats_file_sums_servers_and_survives_damage(tmp_path: Path) -> None:
    file = StatsFile(tmp_path / "state" / "stats.json")
    assert file.read().empty()
    first, second = Reports(clock=lambda: 50.0), Reports(clock=lambda: 40.0)
    first.did_show(item("abc", "1:0"))
    first.latency("openai @ x", 120.0)
    second.did_show(item("xyz", "1:0"))
    second.did_accept("1:0")
    file.add(first.take_pending())
    total = file.add(second.take_pending())
    assert (total.shown, total.accepted, total.chars_accepted) == (2, 1, 3)
    assert total.since == 40.0
    assert file.read().to_file() == total.to_file()
    assert [p.name for p in file.path.parent.iterdir() if p.name.startswith(".stats-")] == []
    file.path.write_text("{not json", encoding="utf-8")
    assert file.read().empty()  # a damaged file restarts the counts
    assert "nothing counted yet" in format_stats(file.read(), file.path)


def test_stats_path_follows_the_environment(tmp_path: Path) -> None:
    assert stats_path({"GHOSTLS_STATS_FILE": str(tmp_path / "s.json")}) == tmp_path / "s.json"
    assert stats_path({"GHOSTLS_CACHE_DIR": str(tmp_path)}) == tmp_path / "stats.json"
    assert stats_path({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "ghostls" / "stats.json"


# -- over JSON-RPC --------------------------------------------------------------------------


def check_the_terminal(
    tmp_path: Path, written: Path, counts: dict[str, Any], timing: dict[str, Any], url: str
) -> None:
    """`ghostls stats` reads what the server wrote at shutdown."""
    assert json.loads(written.read_text(encoding="utf-8"))["shown"] == 1
    env = server_env(tmp_path)
    printed = subprocess.run(
        [sys.executable, "-m", "lsp_server", "stats", "--json"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    from_cli = json.loads(printed.stdout)
    for key in ("shown", "accepted", "partiallyAccepted", "charsAccepted"):
        assert from_cli[key] == counts[key], key
    # The accept started a prefetch: its latency may have come after the request.
    assert from_cli["perBackend"][timing["name"]]["requests"] >= timing["requests"]
    text = subprocess.run(
        [sys.executable, "-m", "lsp_server", "stats"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "suggestions shown    1" in text and "accepted             1 (100% of shown)" in text
    assert "characters kept      12" in text and url in text


async def test_reports_are_counted_answered_written_and_printed(tmp_path: Path) -> None:
    uri = (tmp_path / "calc.py").as_uri()
    with FakeBackend(Script([Reply(text="return a + b")])) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(uri, SOURCE)
            answer = await session.inline(uri, 1, 4)
            (first,) = answer.items
            item_id = first.command.arguments[0]
            wire = item(first.insert_text, item_id)
            notify = session.client.protocol.notify
            notify("textDocument/didShowCompletion", {"item": wire})
            notify("textDocument/didShowCompletion", {"item": wire})
            notify("textDocument/didPartiallyAcceptCompletion", {"item": wire, "acceptedLength": 6})
            await session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="ghostls.accepted", arguments=[item_id])
            )
            counts = await stats(session)
            assert counts["shown"] == 1
            assert counts["accepted"] == 1
            assert counts["partiallyAccepted"] == 1
            assert counts["charsAccepted"] == len("return a + b")
            assert counts["session"]["shown"] == 1
            ((timing),) = counts["backends"]  # perBackend's keys: renamed by pygls
            assert backend.url in timing["name"]
            assert timing["requests"] >= 1 and timing["p50Ms"] >= 0 and timing["p90Ms"] >= 0
            written = Path(counts["file"])
            assert written == tmp_path / "cache" / "stats.json"
        check_the_terminal(tmp_path, written, counts, timing, backend.url)


async def test_partial_accept_counts_utf16_units_from_the_start(tmp_path: Path) -> None:
    with FakeBackend(Script([Reply(text="x")])) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            wire = item("s = '😀é' + t", "9:0")
            session.client.protocol.notify(
                "textDocument/didPartiallyAcceptCompletion", {"item": wire, "acceptedLength": 7}
            )
            counts = await stats(session)
            assert counts["charsAccepted"] == len("s = '😀")  # 😀 is two UTF-16 units
            assert counts["partiallyAccepted"] == 1 and counts["shown"] == 0


# -- workDoneToken -------------------------------------------------------------------------

EXPLAIN_SOURCE = "def add(a, b):\n    return a + b\n"
EXPLAIN_RANGE = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 16}}


async def test_a_client_token_gets_the_progress_and_none_is_created(tmp_path: Path) -> None:
    uri = (tmp_path / "calc.py").as_uri()
    with FakeBackend(Script([Reply(text="It adds.")])) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(uri, EXPLAIN_SOURCE)
            client = session.client
            client.progress_reports["editor-token-1"] = []  # the client's own token
            outcome = await client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="ghostls.runAction",
                    arguments=[{"kind": "explain", "uri": uri, "range": EXPLAIN_RANGE}],
                    work_done_token="editor-token-1",
                )
            )
            assert outcome["status"] == "done"
            await poll(
                lambda: [v.kind for v in client.progress_reports["editor-token-1"]][-1:] == ["end"]
            )
            kinds = [v.kind for v in client.progress_reports["editor-token-1"]]
            assert kinds[0] == "begin" and kinds[-1] == "end"
            assert list(client.progress_reports) == ["editor-token-1"]  # nothing created

            # Without a token the server still creates its own.
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="ghostls.runAction",
                    arguments=[{"kind": "explain", "uri": uri, "range": EXPLAIN_RANGE}],
                )
            )
            await poll(lambda: len(client.progress_reports) == 2)
            (created,) = [t for t in client.progress_reports if t != "editor-token-1"]
            assert str(created).startswith("ghostls/action/")


async def test_cancelling_a_client_token_stops_the_action(tmp_path: Path) -> None:
    uri = (tmp_path / "calc.py").as_uri()
    script = Script([Reply(text="word " * 200)], token_interval_ms=30)
    with FakeBackend(script) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(uri, EXPLAIN_SOURCE)
            client = session.client
            client.progress_reports[42] = []
            future = asyncio.ensure_future(
                client.workspace_execute_command_async(
                    types.ExecuteCommandParams(
                        command="ghostls.runAction",
                        arguments=[{"kind": "explain", "uri": uri, "range": EXPLAIN_RANGE}],
                        work_done_token=42,
                    )
                )
            )
            await poll(lambda: len(client.progress_reports[42]) >= 1)  # begun
            # Cancel once the model is writing, so that there is a stream to close.
            assert await asyncio.to_thread(
                backend.wait_for, lambda b: b.requests and b.requests[-1].token_times, 10
            )
            client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=42))
            outcome = await future
            assert outcome["status"] == "cancelled"
            assert backend.wait_for(lambda b: b.requests[-1].disconnected, 5)


async def test_an_edit_without_instruction_is_told_to_the_user(tmp_path: Path) -> None:
    """An editor that runs the listed "Edit with instruction…" action as it is (no prompt)
    gets the error, and the user a message saying why."""
    uri = (tmp_path / "calc.py").as_uri()
    with FakeBackend(Script([Reply(text="x")])) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(uri, EXPLAIN_SOURCE)
            client = session.client
            try:
                await client.workspace_execute_command_async(
                    types.ExecuteCommandParams(
                        command="ghostls.runAction",
                        arguments=[{"kind": "edit", "uri": uri, "range": EXPLAIN_RANGE}],
                    )
                )
            except JsonRpcInvalidParams as error:
                assert "needs an instruction" in str(error)
            else:
                raise AssertionError("an edit without instruction ran")
            await poll(lambda: any("needs an instruction" in m.message for m in client.messages))
            assert backend.completion_requests() == []


async def test_the_file_is_written_at_most_once_per_interval(tmp_path: Path) -> None:
    from lsp_server.edge.reports import ReportsEdge
    from lsp_server.edge.stats import FLUSH_INTERVAL_S

    file = StatsFile(tmp_path / "stats.json")
    edge = ReportsEdge(file)
    for n in range(50):  # a burst of reports: one write scheduled, none done yet
        edge.did_show({"item": item("x", f"{n}:0")})
    handle = edge._flush
    assert handle is not None and not file.path.exists()
    assert handle.when() - asyncio.get_running_loop().time() <= FLUSH_INTERVAL_S
    edge.did_show({"item": item("y", "99:0")})
    assert edge._flush is handle  # still the one write
    edge.flush()  # what the timer (or shutdown, or exit) does
    assert file.read().shown == 51 and edge._flush is None
    edge.flush()  # nothing new: nothing written
    assert file.read().shown == 51
    assert edge.stats()["shown"] == 51 and edge.stats()["session"]["shown"] == 51
