"""Reports back from the editor, counted on this machine: nothing leaves it.

An editor tells the server what happened to a suggestion with Copilot's notifications:
`textDocument/didShowCompletion` `{item}` when it drew it,
`textDocument/didPartiallyAcceptCompletion` `{item, acceptedLength}` when the user took
a word or a line (`acceptedLength` in UTF-16 code units from the start of the item's
`insertText`), and the item's own command (`ghostls.accepted`) when the user took all
of it. The server adds how long each backend took to its first text.

This module is the pure core: `Tally` (the counts, their sum and their wire shape),
`Reports` (one server's counting, item by item, so a suggestion partly accepted twice
and then accepted whole counts its characters once) and `StatsFile` (the counts on
disk, summed over every server that ran, written atomically). `edge.reports` wires it
to the protocol; `ghostls stats` reads the file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = 1
LATENCY_SAMPLES = 500  # most recent first-text latencies kept per backend
ITEMS_REMEMBERED = 256  # items whose show/accept state is kept (an LRU)
FLUSH_INTERVAL_S = 10.0  # at most one write per this long (and one at shutdown)


@dataclass
class BackendTally:
    requests: int = 0
    latencies_ms: list[float] = field(default_factory=list)  # oldest first

    def add_latency(self, ms: float) -> None:
        self.requests += 1
        self.latencies_ms.append(round(ms, 1))
        del self.latencies_ms[:-LATENCY_SAMPLES]


def percentile(samples: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Tally:
    shown: int = 0
    accepted: int = 0
    partially_accepted: int = 0
    chars_accepted: int = 0
    backends: dict[str, BackendTally] = field(default_factory=dict)
    since: float | None = None  # epoch seconds of the first count

    def empty(self) -> bool:
        return self.since is None

    def touch(self, now: float) -> None:
        if self.since is None:
            self.since = now

    def backend(self, name: str) -> BackendTally:
        return self.backends.setdefault(name, BackendTally())

    def plus(self, other: Tally) -> Tally:
        backends: dict[str, BackendTally] = {}
        for name in {*self.backends, *other.backends}:
            a = self.backends.get(name, BackendTally())
            b = other.backends.get(name, BackendTally())
            samples = (a.latencies_ms + b.latencies_ms)[-LATENCY_SAMPLES:]
            backends[name] = BackendTally(a.requests + b.requests, samples)
        starts = [s for s in (self.since, other.since) if s is not None]
        return Tally(
            self.shown + other.shown,
            self.accepted + other.accepted,
            self.partially_accepted + other.partially_accepted,
            self.chars_accepted + other.chars_accepted,
            backends,
            min(starts) if starts else None,
        )

    # -- wire ---------------------------------------------------------------------------

    def to_wire(self) -> dict[str, Any]:
        """The `ghostls/stats` shape (docs/protocol.md)."""
        return {
            "shown": self.shown,
            "accepted": self.accepted,
            "partiallyAccepted": self.partially_accepted,
            "charsAccepted": self.chars_accepted,
            "perBackend": {name: _timing(b) for name, b in sorted(self.backends.items())},
            # The same as a list: backend names are not identifiers, which some JSON-RPC
            # clients (pygls's named tuples) rename.
            "backends": [{"name": name, **_timing(b)} for name, b in sorted(self.backends.items())],
            "since": _iso(self.since),
        }

    def to_file(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "since": self.since,
            "shown": self.shown,
            "accepted": self.accepted,
            "partiallyAccepted": self.partially_accepted,
            "charsAccepted": self.chars_accepted,
            "backends": {
                name: {"requests": b.requests, "latenciesMs": b.latencies_ms}
                for name, b in sorted(self.backends.items())
            },
        }

    @classmethod
    def from_file(cls, data: Any) -> Tally:
        """Whatever parses; anything else counts as zero (a damaged file restarts)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return cls()
        backends: dict[str, BackendTally] = {}
        raw_backends = data.get("backends")
        for name, raw in (raw_backends if isinstance(raw_backends, dict) else {}).items():
            if isinstance(raw, dict):
                samples = [float(x) for x in raw.get("latenciesMs") or [] if _number(x)]
                backends[str(name)] = BackendTally(
                    _count(raw.get("requests")), samples[-LATENCY_SAMPLES:]
                )
        since: Any = data.get("since")
        return cls(
            _count(data.get("shown")),
            _count(data.get("accepted")),
            _count(data.get("partiallyAccepted")),
            _count(data.get("charsAccepted")),
            backends,
            float(since) if _number(since) else None,
        )


def _timing(backend: BackendTally) -> dict[str, Any]:
    return {
        "requests": backend.requests,
        "p50Ms": percentile(backend.latencies_ms, 0.5),
        "p90Ms": percentile(backend.latencies_ms, 0.9),
    }


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _count(value: Any) -> int:
    return int(value) if _number(value) and value >= 0 else 0


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def utf16_prefix(text: str, units: int) -> str:
    """The longest prefix of `text` that is at most `units` UTF-16 code units long."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return text[:index]
    return text


@dataclass
class _Item:
    text: str = ""
    shown: bool = False
    partly: bool = False
    accepted: bool = False
    kept: int = 0  # characters of `text` counted as accepted so far


def item_key(item: Any) -> tuple[str | None, str]:
    """(the server's item id from its command, the insert text) of a wire item."""
    if not isinstance(item, Mapping):
        return None, ""
    text = item.get("insertText")
    if isinstance(text, Mapping):  # a StringValue snippet
        text = text.get("value")
    command = item.get("command")
    arguments = command.get("arguments") if isinstance(command, Mapping) else None
    item_id = arguments[0] if isinstance(arguments, list) and arguments else None
    return (item_id if isinstance(item_id, str) else None), (text if isinstance(text, str) else "")


class Reports:
    """One server's counting. `pending` is what it counted and has not written yet;
    `session` all it counted since it started."""

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self.pending = Tally()
        self.session = Tally()
        self._items: OrderedDict[str, _Item] = OrderedDict()

    def _tallies(self) -> Iterator[Tally]:
        now = self._clock()
        for tally in (self.pending, self.session):
            tally.touch(now)
            yield tally

    def _item(self, key: str) -> _Item:
        record = self._items.get(key)
        if record is None:
            record = self._items[key] = _Item()
            while len(self._items) > ITEMS_REMEMBERED:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(key)
        return record

    def answered(self, item_id: str, text: str) -> None:
        """The server's latest text for an item (its answer, then each update)."""
        if text:
            self._item(item_id).text = text

    def did_show(self, item: Any) -> bool:
        item_id, text = item_key(item)
        if not (item_id or text):
            return False
        record = self._item(item_id or text)
        if text:
            record.text = text
        if record.shown:
            return False  # drawn again (it grew): one suggestion shown
        record.shown = True
        for tally in self._tallies():
            tally.shown += 1
        return True

    def did_partially_accept(self, item: Any, accepted_length: Any) -> bool:
        item_id, text = item_key(item)
        if not (item_id or text) or not _number(accepted_length) or accepted_length < 0:
            return False
        record = self._item(item_id or text)
        if text:
            record.text = text
        kept = len(utf16_prefix(record.text, int(accepted_length)))
        self._keep(record, kept, partly=True)
        return True

    def did_accept(self, item_id: str) -> None:
        """The item's command ran: all of it is in the document."""
        record = self._item(item_id)
        if record.accepted:
            return
        record.accepted = True
        for tally in self._tallies():
            tally.accepted += 1
        self._keep(record, len(record.text), partly=False)

    def _keep(self, record: _Item, kept: int, partly: bool) -> None:
        more = max(0, kept - record.kept)
        record.kept = max(record.kept, kept)
        first_part = partly and not record.partly and not record.accepted
        record.partly = record.partly or partly
        for tally in self._tallies():
            tally.chars_accepted += more
            if first_part:
                tally.partially_accepted += 1

    def latency(self, backend: str, ms: float) -> None:
        for tally in self._tallies():
            tally.backend(backend).add_latency(ms)

    def take_pending(self) -> Tally:
        pending, self.pending = self.pending, Tally()
        return pending


# -- the file --------------------------------------------------------------------------


def stats_path(environ: Mapping[str, str] | None = None) -> Path:
    """`$GHOSTLS_STATS_FILE`; else `stats.json` in `$GHOSTLS_CACHE_DIR` when that is
    set; else `$XDG_STATE_HOME/ghostls/stats.json` (`~/.local/state/ghostls/...`)."""
    environ = os.environ if environ is None else environ
    if environ.get("GHOSTLS_STATS_FILE"):
        return Path(environ["GHOSTLS_STATS_FILE"]).expanduser()
    if environ.get("GHOSTLS_CACHE_DIR"):
        return Path(environ["GHOSTLS_CACHE_DIR"]).expanduser() / "stats.json"
    base = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base).expanduser() / "ghostls" / "stats.json"


class StatsFile:
    """The counts of every server that ran on this machine, in one small JSON file.

    `add` is a read-sum-write under an advisory lock (several servers run at once, one
    per project), written to a temporary file and renamed over the old one, so a reader
    never sees half a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Tally:
        try:
            return Tally.from_file(json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return Tally()

    def add(self, delta: Tally) -> Tally:
        if delta.empty():
            return self.read()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked():
            total = self.read().plus(delta)
            fd, temporary = tempfile.mkstemp(prefix=".stats-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump(total.to_file(), out, separators=(",", ":"))
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        return total

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:  # Windows: the rename is still atomic
            yield
            return
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def format_stats(total: Tally, path: Path) -> str:
    """`ghostls stats` in the terminal."""
    if total.empty():
        return f"ghostls stats: nothing counted yet ({path})\n"
    rate = f" ({100 * total.accepted / total.shown:.0f}% of shown)" if total.shown else ""
    lines = [
        f"ghostls stats since {_iso(total.since)} ({path})",
        f"  suggestions shown    {total.shown}",
        f"  accepted             {total.accepted}{rate}",
        f"  partly accepted      {total.partially_accepted}",
        f"  characters kept      {total.chars_accepted}",
    ]
    for name, backend in sorted(total.backends.items()):
        p50 = percentile(backend.latencies_ms, 0.5)
        p90 = percentile(backend.latencies_ms, 0.9)
        timing = f"first text p50 {p50:.0f} ms, p90 {p90:.0f} ms" if p50 is not None else ""
        lines.append(f"  {name}: {backend.requests} requests{', ' + timing if timing else ''}")
    return "\n".join(lines) + "\n"
