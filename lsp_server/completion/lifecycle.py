"""The completion lifecycle: the newest keystroke wins, and no token is wasted.

One `Generation` (a live or finished model request) per document. A request either

- is served by the document's generation, when the text typed since it started is
  what the model predicted (typing-through): from memory when it has finished, from
  the live stream when it has not; or
- cancels that generation (closing the backend stream) and starts its own.

Before its first token a generation predicts nothing, but a keystroke that only types
on at the cursor (no delete, no jump, no change elsewhere) does not make it useless:
it is kept, and the next request adopts it (typing-through from the first keystroke,
one backend request for a burst of typing). Its first tokens are then checked against
what was typed since it started: on disagreement it dies at once and its adopter, if
still the newest request, starts its own. It is kept only while younger than a few
times the backend's time to first token (`ADOPTION_TTFTS`).

An edit (`document_changed`) that contradicts the live generation cancels it at once,
without waiting for `$/cancelRequest`. A generation stopped before its first token
tells the latency controller that the backend takes longer than its age. A request
cancelled by the editor aborts its generation unless the document has moved on in
agreement with it, in which case a short grace period lets the next request (which
the editor is about to send) adopt it.

A streaming request is answered once its first line is complete, or, when the latency
budget (`answer_within_s`, from `completion.targetLatencyMs`) runs out first, with the
whole words so far; updates carry the rest. A non-streaming one waits for the end.

After an accepted suggestion the server asks for the next one at once (`accepted`,
`prefetch`), as if the accepted text were typed; the editor's next request finds that
generation live and is served from it, with no new model round trip.

The generation's own task consumes the backend stream and re-cuts the text (its
`StreamCut`) when a chunk completes a line or may complete a stop sequence, or brings
the next line's first word, and otherwise at most every `RECUT_INTERVAL_S`; only those
can make the cut final, so the stream is closed the moment the suggestion ends (the
model stops there). So does the stream's `StreamEnd` when it says how the model ended
(a backend yields it once it has read the model's last event), without waiting for
what the server sends after it.

A re-cut reads only what is new, but the unfinished line whole, so re-cuts are also
spaced to take at most `RECUT_SHARE` of the time: for ordinary lines that spacing is
far below a token, for a line of thousands of characters it bounds the work per token.
Chunks are appended to a list, not to a growing string, and editor updates are
coalesced to one per `UPDATE_INTERVAL_S` per request (the final one goes at once): a
backend at thousands of tokens per second costs per-token work independent of the
text's length.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable

from lsp_server.backends.base import Backend, GenerationRequest, StreamEnd
from lsp_server.completion.generation import (
    CompletionJob,
    Generation,
    StatusEvent,
    StatusSink,
    Suggestion,
    UpdateSink,
    View,
    first_line_ready,
    unfinished_view,
    words_so_far,
)
from lsp_server.completion.latency import LatencyController
from lsp_server.completion.snippet_memory import SnippetMemory
from lsp_server.errors import BackendTimeout, GhostlsError, describe_error
from lsp_server.postprocess import finish_cut

log = logging.getLogger(__name__)

__all__ = ["CompletionEngine", "CompletionJob", "Generation", "StatusEvent", "Suggestion"]

# How long a generation survives its last request's cancellation when the document
# has moved on in agreement with it: long enough for the editor's next request.
ADOPTION_GRACE_S = 0.3
# Before its first token, a generation that the keystrokes only extend is kept for the
# next request while it is younger than this many times the backend's time to first
# token (this long before any measurement; never less than the minimum).
ADOPTION_TTFTS = 3.0
ADOPTION_DEFAULT_AGE_S = 1.0
ADOPTION_MIN_AGE_S = 0.2
RECENT_ADOPTIONS = 10
# Counted as if seen before any: 3 kept requests that agreed, 1 that did not. (A first
# time to first token measured with a connect in it, on a busy machine, is long:
# against an even prior, the first lines would not be kept.)
ADOPTION_PRIOR = (3, 1)
# Generations remembered for `accepted` (an item is accepted soon after it is shown).
RECENT_GENERATIONS = 8
# The early answer (`answer_within_s`) goes this long before the budget ends: the
# reply still has to be written and read, on a busy machine.
ANSWER_MARGIN_S = 0.035
# A screen refresh: updates (and mid-line re-cuts) more often than this show nothing new.
UPDATE_INTERVAL_S = 0.016
RECUT_INTERVAL_S = 0.016
# A re-cut reads the whole text: spend at most this share of the time on it, so a very
# long, very fast stream is cut less often instead of the server falling behind.
RECUT_SHARE = 0.1
# Below this many chunks a re-cut is cheap, so every line boundary is cut at once and
# where the model is stopped does not depend on how busy the machine is.
CHEAP_CUT_CHUNKS = 512


class CompletionEngine:
    def __init__(
        self,
        backend: Backend,
        on_status: StatusSink | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        self._on_status = on_status or (lambda event: None)
        self._clock = clock
        self._live: dict[str, Generation] = {}
        self._recent: dict[int, Generation] = {}  # by id, for `accepted`
        self._tickets: dict[str, int] = {}
        self._ids = itertools.count(1)
        self.started_generations = 0
        # The latest generations kept before their first token while the user typed:
        # whether their first tokens agreed with what was typed (`_adoptable`).
        self._adoptions: deque[bool] = deque(maxlen=RECENT_ADOPTIONS)
        # Measures each backend and the typing rhythm; `server` asks it for a plan.
        self.latency = LatencyController(clock)
        # The neighbour snippets chosen per document, kept while the cursor moves: the
        # prompt's head stays in this backend's cache (`context/sticky.py`).
        self.snippets = SnippetMemory()

    def debug_counts(self) -> dict[str, int]:
        """Sizes of the per-document state (`ghostls/debugInfo`)."""
        return {
            "live": len(self._live),
            "generating": sum(
                1 for g in self._recent.values() if g.task is not None and not g.task.done()
            ),
            "recent": len(self._recent),
            "tickets": len(self._tickets),
            "latencyBackends": len(self.latency._backends),
        }

    # -- requests -------------------------------------------------------------------

    async def complete(
        self,
        job: CompletionJob,
        on_update: UpdateSink | None,
        answer_within_s: float | None = None,
    ) -> Suggestion | None:
        """The suggestion for `job`, None when there is none (superseded, contradicted,
        failed); raises CancelledError when the request itself is cancelled."""
        context = job.context
        return await self.complete_lazily(
            context.uri,
            context.prefix,
            context.suffix,
            job.streaming,
            lambda: job,
            on_update,
            answer_within_s,
        )

    async def complete_lazily(
        self,
        uri: str,
        prefix: str,
        suffix: str,
        streaming: bool,
        make_job: Callable[[], CompletionJob],
        on_update: UpdateSink | None,
        answer_within_s: float | None = None,
        debounce_s: float = 0.0,
    ) -> Suggestion | None:
        """`complete`, building the job (context, prompt) only when no generation can
        serve the request: typing-through answers cost no prompt work at all, and a
        request that a newer one replaces during its `debounce_s` costs none either.

        `answer_within_s` (streaming only; the latency controller's budget): once that
        much time has passed since the request arrived and the first line is still not
        complete, answer with the words so far; updates carry the rest."""
        answer_by = None
        if streaming and answer_within_s is not None:
            answer_by = self._clock() + max(0.0, answer_within_s - ANSWER_MARGIN_S)
        ticket = self._tickets[uri] = self._tickets.get(uri, 0) + 1
        generation = self._live.get(uri)
        if generation is not None:
            typed = generation.typed_for(prefix, suffix)
            if typed is None and self._adoptable(generation):
                typed = generation.extended_by(prefix, suffix)
            if typed is not None:
                generation.note_typed(typed)
                suggestion = await self._serve(generation, typed, streaming, on_update, answer_by)
                if not generation.contradicted or self._tickets[uri] != ticket:
                    return suggestion
                # Its first tokens disagreed with what was typed: this, the newest
                # request, goes out now (it has waited already: no debounce).
                debounce_s = 0.0
            else:
                self.cancel(generation)
        if debounce_s > 0:
            await asyncio.sleep(debounce_s)
            if self._tickets[uri] != ticket:
                return None  # a newer request for this document arrived meanwhile
        return await self._serve(self._start(make_job()), "", streaming, on_update, answer_by)

    async def _serve(
        self,
        generation: Generation,
        typed: str,
        streaming: bool,
        on_update: UpdateSink | None,
        answer_by: float | None = None,
    ) -> Suggestion | None:
        view = View(typed, f"{generation.id}:{len(typed)}", on_update if streaming else None)
        generation.view = view
        try:
            while True:
                text = generation.visible(typed)
                if text is None or generation.failed:
                    return None
                finished = generation.done or generation.cut.final
                late = answer_by is not None and self._clock() >= answer_by
                if late and not finished and not first_line_ready(text):
                    # Out of budget: the words so far now, the rest as updates.
                    text = words_so_far(text)
                if finished or (streaming and (first_line_ready(text) or (late and text))):
                    view.last_sent, view.last_sent_at = text, self._clock()
                    if finished:
                        view.on_update = None  # the answer is the whole suggestion
                        if not text:
                            return None
                    if not finished:
                        text = view.last_sent = unfinished_view(text)
                    replace = generation.cut.replace if finished else 0
                    dedent = generation.cut.dedent
                    return Suggestion(view.item_id, text, finished, replace, dedent)
                if answer_by is not None and not late:
                    await self._wait_changed_until(generation, answer_by)
                else:
                    await generation.wait_changed()
        except asyncio.CancelledError:
            self._request_cancelled(generation, view)
            raise

    async def _wait_changed_until(self, generation: Generation, deadline: float) -> None:
        """Wait for the generation to change, or for `deadline`; then re-cut, so the
        budget's answer shows every chunk that has arrived."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, deadline - self._clock())):
                await generation.wait_changed()
                return
        if generation.task is not None and not generation.done:
            self._recut(generation)

    def _request_cancelled(self, generation: Generation, view: View) -> None:
        if generation.view is not view or generation.done:
            return  # a newer request owns it, or nothing is running
        if generation.agreeing_edits > 0:
            # The user typed what it predicted: the next request will adopt it.
            asyncio.get_running_loop().call_later(
                ADOPTION_GRACE_S, self._cancel_if_unadopted, generation, view
            )
        else:
            self.cancel(generation)

    def _cancel_if_unadopted(self, generation: Generation, view: View) -> None:
        if generation.view is view:
            self.cancel(generation)

    # -- speculation ------------------------------------------------------------------

    def accepted(self, item_id: str) -> tuple[str, str, str] | None:
        """For an accepted item (`"<generationId>:<typedLen>"`): its document and the
        prefix and suffix the document will have once the suggestion is inserted."""
        head, _, _ = item_id.partition(":")
        generation = self._recent.get(int(head)) if head.isdigit() else None
        if generation is None or generation.failed or not generation.cut.text:
            return None
        cut = generation.cut
        prefix = generation.prefix[: len(generation.prefix) - cut.dedent] + cut.text
        return generation.uri, prefix, generation.suffix[cut.replace :]

    def prefetch(self, job: CompletionJob) -> None:
        """Start `job` now, with nobody waiting: the request the editor makes once the
        accepted text is in the document adopts it (typing-through with nothing typed)."""
        live = self._live.get(job.context.uri)
        if live is not None:
            if live.typed_for(job.context.prefix, job.context.suffix) is not None:
                return  # already running for (or ahead of) that text
            self.cancel(live)
        self._start(job)

    # -- documents --------------------------------------------------------------------

    def document_changed(self, uri: str, text: str) -> None:
        """Cancel the document's generation at once if the edit contradicts it."""
        self.latency.edited()
        generation = self._live.get(uri)
        if generation is None:
            return
        inside = (
            len(text) >= len(generation.prefix) + len(generation.suffix)
            and text.startswith(generation.prefix)
            and text.endswith(generation.suffix)
        )
        typed = text[len(generation.prefix) : len(text) - len(generation.suffix)]
        # Before its first token, an edit that only types on at the cursor keeps the
        # generation for the next request to adopt (its tokens are checked then).
        if not inside:
            agrees = False
        elif generation.awaiting_first_token():
            # (A delete of what was typed since is a contradiction too.)
            extended = generation.extended_by(generation.prefix + typed, generation.suffix)
            agrees = extended is not None and self._adoptable(generation)
        else:
            agrees = generation.agrees_with(typed)
        if agrees:
            generation.agreeing_edits += 1
            generation.note_typed(typed)
        else:
            self.cancel(generation)
            del self._live[uri]

    def document_closed(self, uri: str) -> None:
        generation = self._live.pop(uri, None)
        self._tickets.pop(uri, None)
        if generation is not None:
            self.cancel(generation, learn=False)

    def _adoptable(self, generation: Generation) -> bool:
        """Worth keeping before its first token. Not when older than a few times the
        backend's time to first token (it has likely stalled). And not when a new
        request would likely be shown sooner: if the kept one's first tokens disagree
        (share 1 - p, learnt from the last adoptions), its adopter waits the rest of
        its TTFT and then a whole new one; if they agree (p), it gains the kept one's
        age. So keep when p * age >= (1 - p) * (TTFT - age), i.e. age >= (1 - p) TTFT.
        (p counts `ADOPTION_PRIOR` too.)"""
        if not generation.awaiting_first_token():
            return False
        ttft, _ = self.latency.estimate(self.backend.description)
        age = self._clock() - generation.started
        if ttft is None:
            return age <= ADOPTION_DEFAULT_AGE_S
        if age > max(ADOPTION_MIN_AGE_S, ADOPTION_TTFTS * ttft):
            return False
        agreed = (sum(self._adoptions) + ADOPTION_PRIOR[0]) / (
            len(self._adoptions) + sum(ADOPTION_PRIOR)
        )
        return age >= (1 - agreed) * ttft

    def cancel(self, generation: Generation, learn: bool = True) -> None:
        """Stop a generation. One stopped before its first token tells the latency
        controller that the backend's time to first token is longer than its age
        (`learn`: not when the document closed or the server stops)."""
        if generation.task is not None and not generation.task.done():
            if learn and generation.awaiting_first_token():
                self.latency.waited(self.backend.description, self._clock() - generation.started)
            generation.task.cancel()
            # A task cancelled before its first step never runs `_run`'s `finally`:
            # settle its waiters here, or they would wait for an end that never comes.
            generation.failed = True
            generation.notify()

    async def aclose(self) -> None:
        tasks = [g.task for g in self._live.values() if g.task is not None and not g.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._live.clear()

    # -- generations --------------------------------------------------------------------

    def _start(self, job: CompletionJob) -> Generation:
        generation = Generation(
            id=next(self._ids),
            uri=job.context.uri,
            prefix=job.context.prefix,
            suffix=job.context.suffix,
            limits=job.limits,
            started=self._clock(),
        )
        request = GenerationRequest(
            prompt=job.prompt,
            max_tokens=job.max_tokens,
            stop=job.limits.stop,
            temperature=job.temperature,
            timeout_s=job.timeout_s,
        )
        generation.task = asyncio.create_task(self._run(generation, request, job.timeout_s))
        self._live[job.context.uri] = generation
        self._recent[generation.id] = generation
        for old in list(self._recent)[:-RECENT_GENERATIONS]:
            del self._recent[old]
        self.started_generations += 1
        return generation

    async def _run(
        self, generation: Generation, request: GenerationRequest, timeout_s: float
    ) -> None:
        self._on_status(StatusEvent("generating", self.backend.description))
        try:
            async with asyncio.timeout(timeout_s):
                await self._consume(generation, request)
            if generation.contradicted:
                self._on_status(StatusEvent("idle", "contradicted"))
                return
            if not generation.cut.final:
                self._finish(generation, request)
            latency = ((generation.first_chunk_at or self._clock()) - generation.started) * 1000
            self._on_status(StatusEvent("idle", generation.cut.reason, latency))
        except asyncio.CancelledError:
            generation.failed = True
            self._on_status(StatusEvent("idle", "cancelled"))
            raise
        except TimeoutError:
            generation.error = BackendTimeout(
                f"{self.backend.description} took longer than {timeout_s:g} s "
                "(completion.timeoutMs)"
            )
            self._on_status(StatusEvent("error", describe_error(generation.error)))
        except GhostlsError as error:
            generation.error = error
            log.warning("completion failed: %s", error)
            self._on_status(StatusEvent("error", describe_error(error)))
        except Exception as error:
            generation.error = error
            log.exception("completion failed unexpectedly")
            self._on_status(StatusEvent("error", describe_error(error)))
        finally:
            generation.failed = generation.failed or generation.error is not None
            if generation.failed and not generation.cut.final and generation.raw:
                # Stopped mid-line (the timeout on a slow CPU, a failing backend): a
                # streaming editor is left with the whole lines, as at the token limit.
                self._finish(generation, request, ran_out=True)
            generation.done = True
            self._measure(generation)
            generation.notify()
            self._send_update(generation)

    async def _consume(self, generation: Generation, request: GenerationRequest) -> None:
        # Only a completed line (seen with the next line's first word) or a possibly
        # completed stop sequence can make the cut final; any other chunk only grows the
        # visible text, which can wait a frame.
        final_chars = frozenset("\n").union(stop[-1] for stop in generation.limits.stop if stop)
        loop = asyncio.get_running_loop()
        pending: asyncio.TimerHandle | None = None
        line_start = False
        try:
            async with contextlib.aclosing(self.backend.stream(request)) as chunks:
                async for chunk in chunks:
                    if isinstance(chunk, StreamEnd):
                        generation.end = chunk
                        if chunk.ran_out is not None and not generation.cut.final:
                            # The backend has read the model's last event: the answer
                            # need not wait for whatever the server sends after it.
                            self._finish(generation, request)
                            generation.notify()
                            self._send_update(generation)
                    elif chunk:
                        now = generation.last_chunk_at = self._clock()
                        if generation.first_chunk_at is None:
                            generation.first_chunk_at = now
                        generation.chunks += 1
                        generation.append(chunk)
                        if not generation.typed_checked:
                            if not generation.check_typed():
                                # The first tokens disagree with what was typed since
                                # the request: it dies now; its adopter sends the newest.
                                self._adoptions.append(False)
                                self._contradicted(generation)
                                return
                            if generation.typed_checked:
                                self._adoptions.append(True)
                        ends_line = not final_chars.isdisjoint(chunk)
                        since = now - generation.last_cut_at
                        spacing = generation.cut_cost_s * (1 - RECUT_SHARE) / RECUT_SHARE
                        cheap = generation.chunks <= CHEAP_CUT_CHUNKS
                        # The cut looks ahead at the next line's first word to decide:
                        # the blanks before it tell nothing (the indentation may go on).
                        blank = chunk.isspace()
                        looks_ahead = line_start and not blank
                        if since >= max(RECUT_INTERVAL_S, spacing) or (
                            (ends_line or looks_ahead) and (cheap or since >= spacing)
                        ):
                            self._recut(generation)
                        elif pending is None or pending.when() <= loop.time():
                            # A stream that pauses mid-line still shows what it has.
                            pending = loop.call_later(RECUT_INTERVAL_S, self._recut, generation)
                        line_start = ends_line or (line_start and blank)
                    if generation.cut.final:
                        return  # leaving the `async with` closes the stream: the model stops
        finally:
            if pending is not None:
                pending.cancel()

    def _contradicted(self, generation: Generation) -> None:
        generation.contradicted = generation.failed = True
        if self._live.get(generation.uri) is generation:
            del self._live[generation.uri]
        generation.notify()

    def _finish(
        self, generation: Generation, request: GenerationRequest, ran_out: bool | None = None
    ) -> None:
        """The final cut, once the model has stopped."""
        ran_out = generation.end.ran_out if ran_out is None else ran_out
        if ran_out is None:  # the backend did not say: one chunk per token
            ran_out = generation.chunks >= request.max_tokens
        generation.cut = finish_cut(
            generation.raw, generation.prefix, generation.suffix, generation.limits, ran_out
        )

    def _measure(self, generation: Generation) -> None:
        first, last = generation.first_chunk_at, generation.last_chunk_at
        if generation.error is None and first is not None and last is not None:
            self.latency.generated(
                self.backend.description,
                first - generation.started,
                generation.chunks,
                last - first,
            )

    def _recut(self, generation: Generation) -> None:
        if generation.done or generation.cut.final:
            return  # a final cut stays (a timer may still fire before the stream is closed)
        generation.last_cut_at = self._clock()
        began = time.perf_counter()
        cut = generation.cutter.cut(generation.raw)
        generation.cut_cost_s = time.perf_counter() - began
        changed = cut.text != generation.cut.text
        generation.cut = cut
        if changed or cut.final:
            generation.notify()
            self._send_update(generation)

    def _send_update(self, generation: Generation) -> None:
        view = generation.view
        if view is None or view.on_update is None or view.last_sent is None:
            return  # nobody streams, or the request has not been answered yet
        done = generation.done or generation.cut.final
        wait = view.last_sent_at + UPDATE_INTERVAL_S - self._clock()
        if not done and wait > 0:
            if view.timer is None:  # coalesce: one update per frame carries the latest text
                loop = asyncio.get_running_loop()
                view.timer = loop.call_later(wait, self._flush_update, generation, view)
            return
        if view.timer is not None:
            view.timer.cancel()
            view.timer = None
        text = generation.visible(view.typed)
        if text is not None and not done:
            text = unfinished_view(text)
        if text is None or (text == view.last_sent and not done):
            return
        view.last_sent, view.last_sent_at = text, self._clock()
        try:
            view.on_update(
                Suggestion(
                    view.item_id,
                    text,
                    done,
                    generation.cut.replace if done else 0,
                    generation.cut.dedent,
                )
            )
        except Exception:
            log.exception("sending a suggestion update failed")
        if done:
            view.on_update = None

    def _flush_update(self, generation: Generation, view: View) -> None:
        view.timer = None
        if generation.view is view:
            self._send_update(generation)
