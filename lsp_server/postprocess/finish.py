"""The cut once the model has stopped (`finish_cut`): by itself, or at its token limit,
where only whole lines count and a block that was not a copy of the suffix keeps its
first statement."""

from __future__ import annotations

from dataclasses import replace

from lsp_server.postprocess.block_fit import fit_block
from lsp_server.postprocess.limits import Cut, CutLimits
from lsp_server.postprocess.overlap import kept_before, ran_into_suffix, suffix_overlap
from lsp_server.postprocess.rawview import RawView
from lsp_server.postprocess.rest_of_line import shape_final
from lsp_server.postprocess.scan import Scan
from lsp_server.postprocess.stops import cut_at_stop
from lsp_server.postprocess.stream import cut_completion
from lsp_server.postprocess.suffix_repeat import may_repeat_suffix


def _first_statement(text: str, language: str) -> str:
    """The lines up to the end of the first statement: brackets and strings closed,
    and the line does not go on (`:`, `,`, `\\`) or open a block."""
    lines = text.split("\n")
    scan = Scan(language)
    started = False
    for index, line in enumerate(lines):
        scan.line(line)
        started = started or bool(line.strip())
        if (
            started
            and scan.depth <= 0
            and not scan.quote
            and not scan.last_line_opened_brace
            and not line.rstrip().endswith((":", ",", "\\"))
        ):
            return "\n".join(lines[: index + 1])
    return text


def _without_truncated_repeat(cut: Cut, suffix: str) -> Cut:
    """The model stopped (or ran out of tokens) in the middle of a line that so far is
    the suffix's next line: it was running on into the code after the cursor."""
    head, newline, last = cut.text.rstrip("\n").rpartition("\n")
    if not newline or not may_repeat_suffix(last.rstrip(), suffix):
        return cut
    if not head.strip():
        return Cut("", True, "empty after cut")
    return replace(cut, text=head)


def _copying_suffix(raw: str, body: str, suffix: str) -> bool:
    """The model ran out of tokens while writing the suffix again after `body`."""
    kept = body.rstrip("\n")
    return bool(kept.strip()) and raw.startswith(kept) and ran_into_suffix(raw[len(kept) :], suffix)


def finish_cut(raw: str, prefix: str, suffix: str, limits: CutLimits, ran_out: bool = False) -> Cut:
    """The cut once the model has stopped: whatever remains is final, and its last
    line is complete (so the suffix and scope rules see it).

    `ran_out`: the model did not stop by itself but at its token limit. In block mode
    where its text ends is then arbitrary (a model rambling on between two
    statements), so only its first statement is kept: a short suggestion that is
    right beats a long one that goes astray — unless what it wrote after the lines
    kept is the suffix again (it ran out while copying the code after the cursor:
    those lines are the whole middle)."""
    # The text as the streamed cut reads it (the typed word, a restarted line dropped,
    # the indentation), after the prefix it goes after (less what it dedents).
    view = RawView(prefix, suffix, limits.language, limits.column_zero_prompt)
    line_start = not prefix.rsplit("\n", 1)[-1].strip()
    viewed = view.apply(cut_at_stop(raw, limits.stop, line_start=line_start)[0], True)
    at = prefix[: len(prefix) - view.dedent]
    overlap = suffix_overlap(viewed or "", at, suffix, ended=True)
    if viewed is not None and overlap is not None and overlap.confirmed:
        kept = kept_before(viewed, overlap.end, suffix)
        if not kept.strip():
            return Cut("", True, "empty after cut")
        return Cut(kept, True, then_suffix=True, dedent=view.dedent)
    full = raw
    if ran_out and not raw.endswith("\n"):
        raw = raw[: raw.rfind("\n") + 1]  # a line the token limit cut is not shown
        if not raw.strip():
            return Cut("", True, "ran out of tokens mid-line")
    whole = raw if raw.endswith("\n") else raw + "\n"
    cut = cut_completion(whole, prefix, suffix, limits, ended=True)
    if not raw.endswith("\n"):
        cut = _without_truncated_repeat(cut, suffix)
    if cut.final:
        return cut
    prefix = prefix[: len(prefix) - cut.dedent]
    body = cut.text
    first = ran_out and limits.multiline and not limits.rejoin
    if first and not _copying_suffix(full, body, suffix):
        body = _first_statement(cut.text, limits.language)
    text, replace = shape_final(body, prefix, suffix, limits)
    if limits.rejoin and limits.multiline:
        text = fit_block(text, full, prefix, suffix, ran_out)
    if not text.strip():
        return Cut("", True, "model returned nothing" if not raw.strip() else "empty after cut")
    return Cut(text, True, replace=replace, dedent=cut.dedent)
