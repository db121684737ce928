"""The latency controller: debounce, token budget and line mode chosen to hold a target.

The target (`completion.targetLatencyMs`, p75) is the time from the request to the
first text the editor shows. That is debounce + time to first token (TTFT) + the tokens
the answer needs / rate. The controller measures TTFT and rate per backend
(exponentially weighted, from finished generations) and the user's typing rhythm (gaps
between edits), and for each request chooses (`plan`):

- **What the answer waits for** depends on the client. A non-streaming client gets the
  whole suggestion in the answer, so the budget must hold all of it. A streaming client
  (`streaming: true`) gets the first line as soon as it is complete, and when the
  budget runs out before that, the text so far cut at a word boundary
  (`answer_within_s`, applied by the engine): the rest grows through
  `ghostls/inlineCompletionUpdate`. A backend slower than the target (TTFT 400 ms at
  30 tokens/s against 500 ms) still shows its first words in time.
- **maxTokens** (non-streaming only): what the backend can write within the target
  after its first token, never more than the setting and never fewer than a whole
  line needs (`MIN_TOKENS`): the cut shows no line the token limit cut (issue #19), so
  a smaller budget would only turn late answers into none. A line ends the suggestion
  as soon as it is complete (the stream is closed there), so the floor costs time only
  on lines that long.
  A streaming client keeps the setting: later tokens do not delay what it shows.
- **single- vs multi-line** (non-streaming only): when the budget holds fewer tokens
  than a block needs, `multiline: auto` becomes `rejoin`: a blank line gets several
  lines only where the model's text shows they fill the hole (it goes on with the
  code after the cursor), else its first statement (`block_fit.py`); an empty block
  body still gets its body. (It used to become single-line: 99 of 100 multi-line
  holes got one line with a real model, issue #19.)
- **debounce** only out of slack: while the user types faster than the backend
  answers, a request started now is cancelled by the next keystroke, and waiting one
  typical gap saves that wasted request, but only when the wait still fits in the
  target after the model's own time. A fast backend (first token well inside a gap)
  gets none, and neither does a backend already slower than the target: every
  millisecond of waiting would be a millisecond late, and a request cancelled before
  its first token has cost the backend only its prompt. And only while requests are
  in fact wasted: a keystroke that merely types on keeps the request in flight (the
  engine adopts it), so debouncing pays only when most recent generations were
  stopped before their first token (by a contradicting edit, a cancel, age).
- **Learning under a flood**: a generation stopped after X ms without a first token
  says TTFT > X (`waited`); a server typed at from its first keystroke, which never
  sees a generation finish, learns the backend's TTFT from those.

Before any measurement the plan is the settings' own (no debounce). Numbers in the
settings stay overrides: `debounceMs: 30` is 30 ms whatever the controller thinks.
Pure, with an injected clock; the engine feeds it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from lsp_server.settings import CompletionSettings

# Weight of the newest sample in the moving averages.
SMOOTHING = 0.3
# Typing gaps longer than this are pauses, not rhythm.
RHYTHM_CAP_S = 1.0
MAX_DEBOUNCE_S = 0.075
# Debounce only while requests are wasted: at least this many of the last
# `RECENT_OUTCOMES` generations (and half of them) stopped before their first token.
RECENT_OUTCOMES = 8
MIN_WASTED = 2
# Fewest tokens asked for (a whole line's worth), and what a block needs to be useful.
MIN_TOKENS = 48
BLOCK_TOKENS = 48
# A `rejoin` block (below): room for a few lines and the code after them again, which
# is what shows they are the block (else its first statement is shown). At 96 a real
# 0.5B model ran out before it came back to the suffix (HumanEval/40: 16 lines, then
# the suffix's `return False`); 160 is what it writes on 2 cores in ~6 s, inside the
# 8 s `completion.timeoutMs` with its first token. A model that does come back stops
# there (the stream is closed), so the room costs time only where it does not.
REJOIN_TOKENS = 160
# Tokens a streaming client needs before there is a word to show.
FIRST_WORDS_TOKENS = 2


@dataclass(frozen=True)
class LatencyPlan:
    debounce_s: float
    max_tokens: int
    multiline: str  # auto | always | never, as the setting; or rejoin (see above)


@dataclass
class _Estimate:
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    # The latest generations: True for one stopped before its first token (wasted).
    outcomes: deque[bool] = field(default_factory=lambda: deque(maxlen=RECENT_OUTCOMES))

    def wasting(self) -> bool:
        """Whether most recent requests were stopped before their first token."""
        wasted = sum(self.outcomes)
        return wasted >= MIN_WASTED and wasted * 2 >= len(self.outcomes)

    def add(self, ttft_s: float, tokens_per_s: float | None) -> None:
        self.ttft_s = _smooth(self.ttft_s, ttft_s)
        if tokens_per_s is not None:
            self.tokens_per_s = _smooth(self.tokens_per_s, tokens_per_s)


def _smooth(old: float | None, new: float) -> float:
    return new if old is None else old + SMOOTHING * (new - old)


class LatencyController:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._backends: dict[str, _Estimate] = {}
        self._gaps: deque[float] = deque(maxlen=20)
        self._last_edit: float | None = None

    # -- observations -----------------------------------------------------------------

    def edited(self) -> None:
        """A document edit: its time feeds the typing rhythm."""
        now = self._clock()
        if self._last_edit is not None and now - self._last_edit <= RHYTHM_CAP_S:
            self._gaps.append(now - self._last_edit)
        self._last_edit = now

    def generated(self, backend: str, ttft_s: float, tokens: int, stream_s: float) -> None:
        """A finished generation: time to its first chunk, chunks after it and their time."""
        rate = (tokens - 1) / stream_s if tokens > 1 and stream_s > 0 else None
        found = self._backends.setdefault(backend, _Estimate())
        found.add(ttft_s, rate)
        found.outcomes.append(False)

    def waited(self, backend: str, waited_s: float) -> None:
        """A generation stopped after `waited_s` without a first token: the backend's
        time to first token is longer than that. Raises a lower estimate to it (a flood
        of such cancels is all a server typed at from its first keystroke sees), and
        counts as a wasted request."""
        found = self._backends.setdefault(backend, _Estimate())
        if found.ttft_s is None or found.ttft_s < waited_s:
            found.ttft_s = _smooth(found.ttft_s, waited_s)
        found.outcomes.append(True)

    def estimate(self, backend: str) -> tuple[float | None, float | None]:
        found = self._backends.get(backend, _Estimate())
        return found.ttft_s, found.tokens_per_s

    def typing_gap_s(self) -> float | None:
        """The 75th percentile of recent gaps between edits (None before a rhythm)."""
        if len(self._gaps) < 3:
            return None
        ordered = sorted(self._gaps)
        return ordered[int(0.75 * (len(ordered) - 1))]

    # -- the decision -----------------------------------------------------------------

    def plan(
        self, backend: str, settings: CompletionSettings, streaming: bool = False
    ) -> LatencyPlan:
        target_s = settings.target_latency_ms / 1000
        ttft, rate = self.estimate(backend)
        max_tokens, multiline = settings.max_tokens, str(settings.multiline)
        if streaming:
            # What the editor waits for is the first words, not the whole suggestion.
            needed = min(FIRST_WORDS_TOKENS, max_tokens)
        else:
            if rate is not None and ttft is not None:
                affordable = int(max(0.0, target_s - ttft) * rate)
                floor = MIN_TOKENS
                if multiline == "auto" and affordable < BLOCK_TOKENS:
                    multiline, floor = "rejoin", REJOIN_TOKENS
                max_tokens = max(min(floor, settings.max_tokens), min(max_tokens, affordable))
            needed = max_tokens
        if settings.debounce_ms != "auto":
            debounce_s = max(0, settings.debounce_ms) / 1000
        else:
            wasting = self._backends.get(backend, _Estimate()).wasting()
            debounce_s = self._debounce(ttft, rate, needed, target_s) if wasting else 0.0
        return LatencyPlan(debounce_s, max_tokens, multiline)

    def answer_within_s(self, settings: CompletionSettings, streaming: bool) -> float | None:
        """How long a request may wait for its first line before it is answered with the
        words so far (streaming clients only: the others need the whole suggestion)."""
        return settings.target_latency_ms / 1000 if streaming else None

    def _debounce(
        self, ttft: float | None, rate: float | None, needed_tokens: int, target_s: float
    ) -> float:
        gap = self.typing_gap_s()
        if ttft is None or gap is None or ttft < gap / 2:
            return 0.0  # no data, or the backend answers well inside a keystroke
        model_s = ttft + (needed_tokens / rate if rate else 0.0)
        slack = target_s - model_s
        # Out of slack only: a backend already slower than the target gets no wait.
        return max(0.0, min(gap * 1.2, MAX_DEBOUNCE_S, slack))
