"""Render a next-edit prompt from a document snapshot, its recent changes and related
snippets, in one of the `formats` (pure).

The window is whole lines around the cursor's line. Its text in the prompt has no
final line break; the answer is compared with exactly that text (`answer.py`), and
the edits are placed through `window_start` (a code-point offset in the document).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lsp_server.nextedit.formats import NextEditFormat
from lsp_server.nextedit.history import LineChange, changed_lines
from lsp_server.workspace.document import line_starts

HISTORY_BUDGET_CHARS = 6000
SNIPPET_BUDGET_CHARS = 4000


@dataclass(frozen=True)
class NextEditPrompt:
    text: str
    format: NextEditFormat
    window_start: int  # offset of the window's first character in the document
    window: str  # the window as the prompt shows it (no final line break)
    cursor: int  # the cursor's offset in the document


@dataclass(frozen=True)
class Related:
    path: str
    text: str


def line_window(text: str, line: int, above: int, below: int) -> tuple[int, int]:
    """Lines [first, end) around `line`, clipped to the document."""
    count = text.count("\n") + 1
    return max(line - above, 0), min(line + below + 1, count)


def _span(text: str, starts: list[int], first: int, end: int) -> tuple[int, int]:
    """Offsets of lines [first, end): from the first's start to the last's end (before
    its line break)."""
    start = starts[first]
    stop = starts[end] - 1 if end < len(starts) else len(text)
    return start, max(stop, start)


def original_window(baseline: str, current: str, line: int, above: int, below: int) -> str:
    """The window as it was before the recent changes: the cursor's line mapped back
    over the changed lines (a line after them moves by the change in line count)."""
    region = changed_lines(baseline, current)
    if region is None:
        mapped = line
    else:
        first, old_end, new_end = region
        if line < first:
            mapped = line
        elif line >= new_end:
            mapped = line - (new_end - old_end)
        else:
            mapped = first
    lines = baseline.split("\n")
    low, high = line_window(baseline, max(min(mapped, len(lines) - 1), 0), above, below)
    return "\n".join(lines[low:high])


def build_next_edit_prompt(
    fmt: NextEditFormat,
    path: str,
    text: str,
    cursor: int,
    changes: Sequence[LineChange],
    path_of: dict[str, str],
    baseline: str | None,
    related: Sequence[Related] = (),
) -> NextEditPrompt:
    """`changes` oldest first; `path_of` names each change's document."""
    starts = line_starts(text)
    line = text.count("\n", 0, cursor)
    first, end = line_window(text, line, fmt.window_above, fmt.window_below)
    window_start, window_end = _span(text, starts, first, end)
    window = text[window_start:window_end]
    current = window
    if fmt.cursor_marker:
        at = cursor - window_start
        current = window[:at] + fmt.cursor_marker + window[at:]
    original = original_window(
        baseline if baseline is not None else text, text, line, fmt.window_above, fmt.window_below
    )
    above = below = ""
    if fmt.context_above or fmt.context_below:
        top = max(first - fmt.context_above, 0)
        bottom = min(end + fmt.context_below, len(starts))
        above = text[starts[top] : window_start]
        below = text[window_end + 1 : _span(text, starts, top, bottom)[1]]
        below = below + "\n" if below else ""
        if top == 0:
            above = fmt.file_start_marker + above
    rendered = fmt.layout.format(
        files=_files(fmt, related),
        history=_history(fmt, changes, path_of),
        path=path,
        original=original,
        current=current,
        above=above,
        below=below,
    )
    return NextEditPrompt(rendered, fmt, window_start, window, cursor)


def _history(fmt: NextEditFormat, changes: Sequence[LineChange], path_of: dict[str, str]) -> str:
    """The newest changes that fit the budget, oldest first."""
    blocks: list[str] = []
    used = 0
    for change in reversed(changes):
        block = fmt.history_block.format(
            path=path_of.get(change.uri, change.uri),
            before="\n".join(change.old),
            after="\n".join(change.new),
            diff=change.unified_diff(),
        )
        if used + len(block) > HISTORY_BUDGET_CHARS:
            break
        blocks.append(block)
        used += len(block)
    return "".join(reversed(blocks))


def _files(fmt: NextEditFormat, related: Sequence[Related]) -> str:
    if not fmt.file_block:
        return ""
    blocks: list[str] = []
    used = 0
    for snippet in related:
        block = fmt.file_block.format(path=snippet.path, text=snippet.text.rstrip("\n"))
        if used + len(block) > SNIPPET_BUDGET_CHARS:
            continue
        blocks.append(block)
        used += len(block)
    return "".join(blocks)
