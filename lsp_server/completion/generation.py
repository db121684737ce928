"""The values the completion lifecycle works with: a job (one request's snapshot), a
generation (one model request and what it produced so far), the views of the requests
it serves, and what the editor is sent. No I/O here; `lifecycle.py` drives them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lsp_server.backends.base import StreamEnd
from lsp_server.context.cursor import CursorContext
from lsp_server.postprocess import Cut, CutLimits, StreamCut
from lsp_server.prompt.build import Prompt


@dataclass(frozen=True)
class CompletionJob:
    """Everything one request needs, snapshotted before the first await."""

    context: CursorContext
    prompt: Prompt
    limits: CutLimits
    max_tokens: int
    timeout_s: float
    temperature: float
    streaming: bool


@dataclass(frozen=True)
class Suggestion:
    item_id: str
    text: str
    done: bool
    # Characters after the cursor (on its line) that `text` replaces: the model typed
    # the line's closing `)` / `"` again (`Cut.replace`). Only ever set when done.
    replace: int = 0
    # Characters of the line's indentation before the cursor that `text` removes
    # (`Cut.dedent`): the item replaces the line from its start. Known with the first
    # text, the same on every update.
    dedent: int = 0


@dataclass(frozen=True)
class StatusEvent:
    state: str  # idle | generating | error
    detail: str = ""
    latency_ms: float | None = None


UpdateSink = Callable[[Suggestion], None]
StatusSink = Callable[[StatusEvent], None]


@dataclass(eq=False)
class View:
    """A request served by a generation: where its text starts, where updates go."""

    typed: str
    item_id: str
    on_update: UpdateSink | None
    last_sent: str | None = None
    last_sent_at: float = float("-inf")
    timer: asyncio.TimerHandle | None = None


@dataclass(eq=False)
class Generation:
    id: int
    uri: str
    prefix: str
    suffix: str
    limits: CutLimits
    started: float
    cut: Cut = field(default_factory=lambda: Cut("", False))
    done: bool = False
    failed: bool = False  # cancelled or errored: what it produced is not shown
    error: BaseException | None = None
    chunks: int = 0
    # How the model ended, once the backend's stream said (its last event).
    end: StreamEnd = field(default_factory=StreamEnd)
    first_chunk_at: float | None = None
    last_chunk_at: float | None = None
    view: View | None = None
    agreeing_edits: int = 0
    # Typed at the cursor since it started, known from edits and adopting requests;
    # checked against the first tokens (before them it predicts nothing), and
    # `contradicted` once they disagree.
    typed: str = ""
    typed_checked: bool = True
    contradicted: bool = False
    task: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _raw: str = ""
    _pieces: list[str] = field(default_factory=list)
    last_cut_at: float = float("-inf")
    cut_cost_s: float = 0.0  # how long the last re-cut took
    cutter: StreamCut = field(init=False)  # re-cuts read only the text that is new

    def __post_init__(self) -> None:
        self.cutter = StreamCut(self.prefix, self.suffix, self.limits)

    @property
    def raw(self) -> str:
        """Everything the model produced so far (joined lazily: appends stay O(chunk))."""
        if self._pieces:
            self._raw += "".join(self._pieces)
            self._pieces.clear()
        return self._raw

    def append(self, chunk: str) -> None:
        self._pieces.append(chunk)

    def at_cursor(self) -> str:
        """The model's text as it goes on at the cursor, for what is typed there. After a
        column-zero prompt (`prompt/blank_line.py`) the model writes the indentation the
        editor had typed again: that part is not typed-through text (a model still in
        it predicts nothing yet: empty). A line it writes shallower than that is
        shown with the indentation removed (`Cut.dedent`): its text after its own."""
        raw = self.raw
        if not self.limits.column_zero_prompt:
            return raw
        typed = " " * (len(self.prefix) - self.prefix.rfind("\n") - 1)
        if raw.startswith(typed):
            return raw[len(typed) :]
        if typed.startswith(raw):
            return ""
        own = len(raw) - len(raw.lstrip(" "))
        return raw[own:] if own < len(typed) else raw

    def typed_for(self, prefix: str, suffix: str) -> str | None:
        """The text typed since this generation started, if it agrees with it."""
        if suffix != self.suffix or not prefix.startswith(self.prefix):
            return None
        typed = prefix[len(self.prefix) :]
        return typed if self.agrees_with(typed) else None

    def agrees_with(self, typed: str) -> bool:
        if self.failed:
            return False
        if self.done:
            if typed == self.cut.text:
                # All of it typed: the answer is "nothing more" when the model went on
                # with the code after the cursor (no new request needed to learn that).
                return self.cut.then_suffix
            return self.cut.text.startswith(typed) and len(self.cut.text) > len(typed)
        raw = self.at_cursor()
        # Before its first token a generation predicts nothing: typing agrees with it
        # only by luck, and a contradiction seen later would leave the request empty.
        # (Only the typed indentation again so far: its tokens are checked as they come.)
        started = bool(raw) or bool(self.raw)
        return raw.startswith(typed) or (started and typed.startswith(raw))

    def awaiting_first_token(self) -> bool:
        return self.chunks == 0 and not self.done and not self.failed

    def extended_by(self, prefix: str, suffix: str) -> str | None:
        """Before its first token: the text typed at the cursor since it started, when
        `prefix`/`suffix` only append to what was typed already (no delete, no jump,
        no change elsewhere); None otherwise."""
        if not self.awaiting_first_token() or suffix != self.suffix:
            return None
        if not prefix.startswith(self.prefix):
            return None
        typed = prefix[len(self.prefix) :]
        return typed if typed.startswith(self.typed) else None

    def note_typed(self, typed: str) -> None:
        if typed != self.typed:
            self.typed, self.typed_checked = typed, not typed

    def check_typed(self) -> bool:
        """Once tokens arrive: False when they contradict what was typed before them."""
        if self.typed_checked:
            return True
        raw = self.at_cursor()
        if not (raw.startswith(self.typed) or self.typed.startswith(raw)):
            return False
        self.typed_checked = len(raw) >= len(self.typed)
        return True

    def visible(self, typed: str) -> str | None:
        """What a request that already typed `typed` should show, None if contradicted."""
        if not self.cut.text.startswith(typed):
            return None if len(self.cut.text) >= len(typed) or self.done else ""
        return self.cut.text[len(typed) :]

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self) -> None:
        await self._changed.wait()


def first_line_ready(text: str) -> bool:
    head, newline, _ = text.partition("\n")
    return bool(newline) and bool(head.strip() or text.strip())


def unfinished_view(text: str) -> str:
    """What to send of a suggestion that is not final yet: without its trailing blank
    lines (a line break, the next line's indentation), which the final cut may still
    drop (the model stopped after a line). What the editor is sent stays a start of
    the final text, so accepting early never inserts a line the finished suggestion
    does not have."""
    return _BLANK_TAIL.sub("", text)


_BLANK_TAIL = re.compile(r"(?:\n[ \t]*)+\Z")


_WORD_TAIL = re.compile(r"[\w$]+$")


def words_so_far(text: str) -> str:
    """`text` without a word the next token may still continue (`tot` of `total`), and
    without trailing blanks: what a streaming answer shows before its first line is
    complete. Empty when there is no whole word yet."""
    head = _WORD_TAIL.sub("", text).rstrip()
    return head if head.strip() else ""
