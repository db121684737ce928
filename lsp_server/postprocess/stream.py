"""The cut of one generation's growing text (`StreamCut`, `cut_completion`): the stop
search, the split into lines and the block scan resume on each call, so a re-cut
costs the new text only; the mode's end rule, the line limit and the suffix overlap
decide when the text is final."""

from __future__ import annotations

from dataclasses import replace

from lsp_server.postprocess.block import Resume, block_end, leaves_unfinished
from lsp_server.postprocess.block_fit import early_rejoin, fit_block
from lsp_server.postprocess.block_wait import left_block
from lsp_server.postprocess.limits import Cut, CutLimits
from lsp_server.postprocess.overlap import kept_before, suffix_overlap
from lsp_server.postprocess.rawview import RawView
from lsp_server.postprocess.rest_of_line import shape_final
from lsp_server.postprocess.statement import statement_end
from lsp_server.postprocess.stops import cut_at_stop
from lsp_server.postprocess.suffix_repeat import may_repeat_suffix, runs_into_suffix


class StreamCut:
    """The cut of one generation's growing text. `cut(raw)` is `cut_completion(raw, …)`,
    but reads only what arrived since the last call: the stop search, the split into
    lines and the block scan all resume. A suggestion of n lines then costs O(n) over
    its whole stream, not O(n²), which is what a long suggestion at thousands of tokens
    per second needs. A text that does not extend the last one starts over."""

    def __init__(self, prefix: str, suffix: str, limits: CutLimits) -> None:
        self.prefix, self.suffix, self.limits = prefix, suffix, limits
        self._start_over()

    @property
    def _at(self) -> str:
        """The prefix the suggestion goes after: without the typed indentation it
        removes (`Cut.dedent`), so the cut's rules see the line it will be on."""
        dedent = self._view.dedent
        return self.prefix[: len(self.prefix) - dedent] if dedent else self.prefix

    def _start_over(self) -> None:
        self._raw = ""  # the raw text of the last call
        self._searched = 0  # how much of it holds no stop sequence
        self._complete: list[str] = []  # the complete lines before `_line_start`
        self._line_start = 0
        self._resume = Resume()
        self._view = RawView(
            self.prefix, self.suffix, self.limits.language, self.limits.column_zero_prompt
        )
        # The text starts a line: a stop that is a line of its own matches at its start.
        self._line_start_stop = not self.prefix.rsplit("\n", 1)[-1].strip()

    def cut(self, raw: str, ended: bool = False) -> Cut:
        """`ended`: the model has stopped, `raw` is all of it."""
        cut = self._cut(raw, ended)
        dedent = self._view.dedent
        return replace(cut, dedent=dedent) if dedent and cut.text else cut

    def _cut(self, raw: str, ended: bool) -> Cut:
        if not raw.startswith(self._raw):
            self._start_over()
        text, final = cut_at_stop(raw, self.limits.stop, self._searched, self._line_start_stop)
        self._raw, self._searched = raw, len(text) if final else len(raw)
        shown = self._view.apply(text, final or ended)  # the typed word, the indentation
        dropped = self._view.dropped
        if dropped:
            # Final at once: a real model wrote on to its token limit (96 tokens, ~3 s
            # on 2 cores) after a first line no indentation could place.
            return Cut("", True, dropped)
        if shown is None:
            return Cut("", False)
        text = shown
        if len(text) < self._line_start:  # (a guard: the text before a stop only grows)
            self._complete, self._line_start = [], 0
        new = text[self._line_start :].split("\n")
        if len(new) > 1:
            self._complete.extend(new[:-1])
            self._line_start = text.rfind("\n") + 1
        lines = written = [*self._complete, new[-1]]
        overlap = suffix_overlap(text, self._at, self.suffix, ended=final or ended)
        if overlap is not None:  # the rest of the cursor's line, then the suffix again
            kept = kept_before(text, overlap.end, self.suffix)
            if overlap.confirmed and not kept.strip():
                return Cut("", True, "empty after cut")
            return Cut(kept, overlap.confirmed, then_suffix=overlap.confirmed)
        return self._decide(raw, text, final, lines, written)

    def _decide(
        self, raw: str, stopped: str, final: bool, lines: list[str], written: list[str]
    ) -> Cut:
        prefix, suffix, limits = self._at, self.suffix, self.limits
        complete = len(lines) - 1  # the last element is an unfinished line
        if limits.multiline:
            keep, decided = block_end(lines, complete, prefix, suffix, limits, self._resume)
        else:
            keep, decided = statement_end(lines, complete, prefix, suffix, limits)
        if not decided and limits.rejoin and limits.multiline:
            # The model went on with the code after the cursor: decided before the
            # block rules need the whole repeated line (a short answer, sooner).
            keep, decided = early_rejoin(lines, suffix) or (keep, False)
            if not decided:
                left = left_block(lines, prefix[prefix.rfind("\n") + 1 :])
                keep, decided = (left, True) if left is not None else (keep, False)
        if decided:
            lines, complete, final = lines[:keep], keep, True
        elif keep < complete:
            lines, complete = lines[:keep], keep  # held back until the next lines decide
        elif limits.multiline and leaves_unfinished(lines, complete, prefix, suffix, limits):
            lines = [*lines[:complete], ""]  # held back until it is whole and decides
        if complete >= limits.max_lines:
            lines, complete, final = lines[: limits.max_lines], limits.max_lines, True
            if limits.multiline and not decided:
                # The line limit ended a text that loops (a few lines over and over, a
                # rambling model): its first round is shown.
                lines = lines[: _loop_end(lines)]
                complete = len(lines)
        replace = 0
        if final:
            kept = lines[:complete] if complete < len(lines) else lines
            text, replace = shape_final("\n".join(kept), prefix, suffix, limits)
            if limits.rejoin and limits.multiline:
                fitted = fit_block(text, raw, prefix, suffix)
                text, written = fitted, written if fitted == text else []
        else:
            whole = lines is written  # all of it: `stopped` is their join already
            if len(lines) > 1 and may_repeat_suffix(lines[-1], suffix):
                # Shown once it differs from the suffix.
                lines = [*lines[:-1], ""]
                text = stopped[: stopped.rfind("\n") + 1] if whole else "\n".join(lines)
            else:
                text = stopped if whole else "\n".join(lines)
        if final and not text.strip():
            return Cut("", True, "empty after cut" if raw.strip() else "model returned nothing")
        then_suffix = final and runs_into_suffix("\n".join(written[complete:]), suffix)
        return Cut(text, final, replace=replace, then_suffix=then_suffix)


# The one-shot entry point keeps the cuts of the last few generations it saw, so a
# caller that re-cuts a growing text through it (benchmarks, evaluations) resumes too.
_STREAMS: dict[tuple[str, str, CutLimits], StreamCut] = {}


_STREAMS_LIMIT = 16


def cut_completion(
    raw: str, prefix: str, suffix: str, limits: CutLimits, ended: bool = False
) -> Cut:
    """The cut of `raw`, the model's text so far, at the cursor between `prefix` and
    `suffix` (see the module's docstring); `ended`: the model has stopped."""
    key = (prefix, suffix, limits)
    stream = _STREAMS.pop(key, None) or StreamCut(prefix, suffix, limits)  # ours alone
    cut = stream.cut(raw, ended)
    while len(_STREAMS) >= _STREAMS_LIMIT:
        del _STREAMS[next(iter(_STREAMS))]
    _STREAMS[key] = stream
    return cut


_LOOP_PERIOD = 4  # the longest run of lines taken for a loop when it comes three times


def _loop_end(lines: list[str]) -> int:
    """Where the first round of a loop at the end of `lines` ends (its lines three
    times in a row, blanks aside); all of them when they do not loop."""
    at = [index for index, line in enumerate(lines) if line.strip()]
    code = [lines[index].strip() for index in at]
    for period in range(1, _LOOP_PERIOD + 1):
        if len(code) < 3 * period or code[-period:] != code[-2 * period : -period]:
            continue
        if code[-2 * period : -period] != code[-3 * period : -2 * period]:
            continue
        start = len(code) - 3 * period
        while start >= period and code[start - period : start] == code[start : start + period]:
            start -= period
        return at[start + period - 1] + 1
    return len(lines)
