"""The run engine: one action from `ghostls.runAction` to its final answer.

A run owns one generation task at a time. Deltas go to the client as they arrive
(`ghostls/actionStream`); work-done progress is created beside the generation, not
before it, so the first delta never waits on a client round trip. Stopping is task
cancellation: cancelling the generation closes the backend stream (HTTP disconnect,
embedded stop flag) at the next token. Three things cancel it:

- the command's own `$/cancelRequest` (pygls cancels the handler task, which cancels
  the generation it awaits; the request answers -32800);
- `window/workDoneProgress/cancel` or a user edit inside the target range (`stop`):
  the run ends with status `cancelled`;
- `ghostls/redirectAction` (`redirect`): the generation is cancelled, the client's
  view is reset (`{actionId, reset: true}`), and a new generation starts with the new
  instruction and the same context.

The target range is tracked as offsets and shifted by edits above it, so the final
edit lands where the code is now, against the document's current version.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

from lsp_server.actions.catalogue import SPECS, ActionKind
from lsp_server.actions.prompts import ActionPrompt, build_messages
from lsp_server.backends.base import ChatBackend, ChatRequest
from lsp_server.errors import BackendTimeout, describe_error

log = logging.getLogger(__name__)

ACTION_STREAM = "ghostls/actionStream"
ACTION_RESULT = "ghostls/actionResult"
PROGRESS_PREFIX = "ghostls/action/"  # + actionId: the work-done progress token
ProgressToken = str | int


@dataclass(frozen=True)
class ProgressStart:
    """Cancellable work-done progress for one run."""

    token: ProgressToken
    title: str
    on_cancel: Callable[[], object]  # the user cancelled it
    create: bool = True  # False: the client gave the token, it exists already


class ActionClient(Protocol):
    """What the runner needs from the protocol edge (`edge.actions.PyglsActionClient`)."""

    def notify(self, method: str, params: dict[str, Any]) -> None: ...

    async def begin_progress(self, start: ProgressStart) -> bool:
        """Begin the progress, after creating its token
        (`window/workDoneProgress/create`) unless `start.create` is False; False if
        unsupported."""
        ...

    def report_progress(self, token: ProgressToken, message: str) -> None: ...

    def end_progress(self, token: ProgressToken, message: str) -> None: ...


Finisher = Callable[["ActionRun", str], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ActionJob:
    """Everything a run needs, snapshotted when the command arrived."""

    action_id: str
    kind: ActionKind
    uri: str
    start: int  # target offsets in the document at `version`
    end: int
    version: int
    prompt: ActionPrompt
    original: str = ""  # the target's text (the prompt's copy has secrets masked)
    max_tokens: int = 1024
    temperature: float = 0.2
    timeout_s: float = 120.0
    # The client's `workDoneToken` of the executeCommand request: progress goes there,
    # and none is created. None: the server creates `PROGRESS_PREFIX + action_id`.
    progress_token: ProgressToken | None = None


@dataclass
class ActionRun:
    job: ActionJob
    prompt: ActionPrompt
    start: int
    end: int
    generation: asyncio.Task[str] | None = None
    redirect_to: str | None = None
    stop_reason: str | None = None
    generating: bool = True
    progress: asyncio.Task[bool] | None = None
    lines_reported: int = 0
    text: list[str] = field(default_factory=list)


class ActionRunner:
    def __init__(self, client: ActionClient) -> None:
        self._client = client
        self._runs: dict[str, ActionRun] = {}
        self._ids = itertools.count(1)

    def new_id(self) -> str:
        return f"a{next(self._ids)}"

    def is_running(self, action_id: str) -> bool:
        return action_id in self._runs

    # -- control from other messages ------------------------------------------------

    def stop(self, action_id: str, reason: str) -> bool:
        run = self._runs.get(action_id)
        if run is None or not run.generating or run.generation is None:
            return False
        run.stop_reason = run.stop_reason or reason
        run.generation.cancel()
        return True

    def stop_by_token(self, token: ProgressToken, reason: str) -> bool:
        """`stop` for the run whose progress goes to a client-given token."""
        for action_id, run in list(self._runs.items()):
            if run.job.progress_token is not None and run.job.progress_token == token:
                return self.stop(action_id, reason)
        return False

    def redirect(self, action_id: str, instruction: str) -> bool:
        """Restart a live generation with a new instruction; False when too late."""
        run = self._runs.get(action_id)
        if run is None or not run.generating or run.stop_reason is not None:
            return False
        run.redirect_to = instruction
        if run.generation is not None:
            run.generation.cancel()
        return True

    def document_changed(self, uri: str, old: str, new: str) -> None:
        """Stop runs whose target the edit touched; shift the others' targets."""
        runs = [run for run in self._runs.values() if run.job.uri == uri]
        if not runs:
            return
        start, old_end, new_end = changed_region(old, new)
        for run in runs:
            if start == old_end:  # an insertion: inside only strictly between the ends
                inside = run.start < start < run.end
            else:
                inside = start < run.end and old_end > run.start
            if inside:
                self.stop(run.job.action_id, "the code changed while the action ran")
            elif old_end <= run.start:
                delta = new_end - old_end
                run.start, run.end = run.start + delta, run.end + delta

    async def aclose(self) -> None:
        for action_id in list(self._runs):
            self.stop(action_id, "the server is shutting down")

    # -- the run ----------------------------------------------------------------------

    async def run(
        self,
        job: ActionJob,
        backend: Callable[[], Awaitable[ChatBackend]],
        finish: Finisher,
    ) -> dict[str, Any]:
        run = ActionRun(job, job.prompt, job.start, job.end)
        self._runs[job.action_id] = run
        token = progress_token(job)
        title = f"{SPECS[job.kind].title}"
        ending = "Done"
        try:
            text = await self._generate_until_settled(run, backend, token, title)
            if text is None:
                ending = f"Stopped: {run.stop_reason}"
                self._send_done(job.action_id, cancelled=True)
                return self._outcome(job, "cancelled", message=run.stop_reason)
            self._send_done(job.action_id)
            outcome = await finish(run, text)
            ending = str(outcome.get("message") or "Done")
            return outcome
        except asyncio.CancelledError:
            ending = "Cancelled"
            self._send_done(job.action_id, cancelled=True)
            raise
        except Exception as error:
            ending = describe_error(error)
            log.warning("action %s failed: %s", job.action_id, ending, exc_info=True)
            self._send_done(job.action_id, error=ending)
            return self._outcome(job, "error", message=ending)
        finally:
            self._runs.pop(job.action_id, None)
            await self._end_progress(run, token, ending)

    async def _generate_until_settled(
        self,
        run: ActionRun,
        backend: Callable[[], Awaitable[ChatBackend]],
        token: ProgressToken,
        title: str,
    ) -> str | None:
        """The final text; None when stopped. Redirects loop here."""
        chat = await backend()
        while True:
            run.text.clear()
            run.generation = asyncio.ensure_future(self._generate(run, chat, token))
            if run.progress is None:
                # Scheduled after the generation, so the model request goes out first.
                run.progress = asyncio.ensure_future(
                    self._client.begin_progress(
                        ProgressStart(
                            token,
                            title,
                            partial(self.stop, run.job.action_id, "cancelled by the user"),
                            create=run.job.progress_token is None,
                        )
                    )
                )
            try:
                text = await run.generation
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # the command itself was cancelled
                text = None
            if run.redirect_to is not None and run.stop_reason is None:
                self._restart(run, token)
                continue
            run.generating = False
            return None if run.stop_reason is not None else text

    def _restart(self, run: ActionRun, token: ProgressToken) -> None:
        instruction, run.redirect_to = run.redirect_to or "", None
        run.prompt = replace(run.prompt, instruction=instruction)
        run.lines_reported = 0
        self._client.notify(
            ACTION_STREAM,
            {"actionId": run.job.action_id, "delta": "", "done": False, "reset": True},
        )
        self._report(run, token, f"Redirected: {instruction}")

    async def _generate(self, run: ActionRun, chat: ChatBackend, token: ProgressToken) -> str:
        job = run.job
        request = ChatRequest(
            build_messages(run.prompt), job.max_tokens, job.temperature, (), job.timeout_s
        )
        try:
            async with asyncio.timeout(job.timeout_s):
                stream = chat.chat(request)
                async with contextlib.aclosing(stream):
                    async for delta in stream:
                        run.text.append(delta)
                        self._client.notify(
                            ACTION_STREAM,
                            {"actionId": job.action_id, "delta": delta, "done": False},
                        )
                        self._report_lines(run, token)
        except TimeoutError:
            raise BackendTimeout(
                f"{chat.description} did not finish the action within {job.timeout_s:g} s"
            ) from None
        return "".join(run.text)

    # -- progress and stream ends -------------------------------------------------------

    def _report_lines(self, run: ActionRun, token: ProgressToken) -> None:
        lines = sum(part.count("\n") for part in run.text) + 1
        if lines != run.lines_reported:
            run.lines_reported = lines
            self._report(run, token, f"{lines} line{'s' if lines != 1 else ''} written")

    def _report(self, run: ActionRun, token: ProgressToken, message: str) -> None:
        if _begun(run.progress):
            self._client.report_progress(token, message)

    async def _end_progress(self, run: ActionRun, token: ProgressToken, message: str) -> None:
        progress = run.progress
        if progress is None:
            return
        if not progress.done():
            # The client has not answered window/workDoneProgress/create yet; it must,
            # before `end` can follow, but a silent client must not hold the answer.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(progress), 5)
        if _begun(progress):
            self._client.end_progress(token, message)

    def _send_done(self, action_id: str, cancelled: bool = False, error: str | None = None) -> None:
        params: dict[str, Any] = {"actionId": action_id, "delta": "", "done": True}
        if cancelled:
            params["cancelled"] = True
        if error is not None:
            params["error"] = error
        self._client.notify(ACTION_STREAM, params)

    @staticmethod
    def _outcome(job: ActionJob, status: str, **extra: Any) -> dict[str, Any]:
        return {"actionId": job.action_id, "kind": job.kind.value, "status": status, **extra}


def progress_token(job: ActionJob) -> ProgressToken:
    """The client's token when it gave one, else the one the server creates."""
    if job.progress_token is not None:
        return job.progress_token
    return f"{PROGRESS_PREFIX}{job.action_id}"


def _begun(progress: asyncio.Task[bool] | None) -> bool:
    """Whether work-done progress was created and begun (so report/end may follow)."""
    if progress is None or not progress.done() or progress.cancelled():
        return False
    return progress.exception() is None and progress.result()


def changed_region(old: str, new: str) -> tuple[int, int, int]:
    """(start, end in `old`, end in `new`) of the one region where two texts differ."""
    limit = min(len(old), len(new))
    lo, hi = 0, limit
    while lo < hi:  # longest common prefix, by halving: slices compare in C
        mid = (lo + hi + 1) // 2
        if old[:mid] == new[:mid]:
            lo = mid
        else:
            hi = mid - 1
    prefix = lo
    lo, hi = 0, limit - prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[len(old) - mid :] == new[len(new) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return prefix, len(old) - lo, len(new) - lo
