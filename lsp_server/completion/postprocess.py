"""Post-processing: raw model text (so far) + context → the suggestion to show.

`cut_completion` is pure and is called again as the raw text grows, so it can run while
tokens stream. It answers the text to show now and whether that text is *final* — no
later token can change it — which is when the lifecycle closes the model stream, so no
token is generated past the cut.

Rules, in order:
1. a stop sequence ends the suggestion (a partial one at the end is held back);
2. single-line mode ends at the first line break after some content;
3. at most `max_lines` lines;
4. a completed line that repeats the suffix's next non-blank line ends the
   suggestion before it (the model ran on into code that already exists);
5. on a single line, text that the rest of the line already has (closing brackets,
   quotes) is dropped from the end.
An empty or whitespace-only result is "no suggestion", with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CutLimits:
    multiline: bool
    max_lines: int
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cut:
    text: str
    final: bool
    reason: str = ""  # why `text` is empty, when it is


def decide_multiline(prefix: str, suffix: str, setting: str) -> bool:
    """`always`/`never` as configured; `auto`: multi-line when nothing but whitespace
    follows the cursor on its line (a new statement or block can start there)."""
    if setting in ("always", "never"):
        return setting == "always"
    rest_of_line = suffix.split("\n", 1)[0]
    return not rest_of_line.strip()


def _cut_at_stop(raw: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Text before the first stop sequence (final), or with a partial stop held back."""
    first = min((index for s in stop if (index := raw.find(s)) >= 0), default=-1)
    if first >= 0:
        return raw[:first], True
    held = 0
    for sequence in stop:
        for size in range(min(len(sequence) - 1, len(raw)), held, -1):
            if raw.endswith(sequence[:size]):
                held = size
                break
    return raw[: len(raw) - held], False


def _next_nonblank_line(suffix: str) -> str:
    for line in suffix.split("\n"):
        if line.strip():
            return line.strip()
    return ""


_CLOSING = frozenset("\"')]}>;,` ")


def _drop_rest_of_line_overlap(text: str, suffix: str) -> str:
    """`foo(bar)` typed before `)`: drop the suggestion's tail that the line already
    has. Only closing punctuation counts: repeating an identifier may be intended."""
    rest = suffix.split("\n", 1)[0].rstrip()
    for size in range(min(len(rest), len(text)), 0, -1):
        head = rest[:size]
        if text.endswith(head) and set(head) <= _CLOSING:
            return text[: len(text) - size]
    return text


def cut_completion(raw: str, prefix: str, suffix: str, limits: CutLimits) -> Cut:
    text, final = _cut_at_stop(raw, limits.stop)
    lines = text.split("\n")
    complete = len(lines) - 1  # the last element is an unfinished line
    if not limits.multiline and complete > 0:
        lines, complete, final = lines[:1], 1, True
    if complete >= limits.max_lines:
        lines, complete, final = lines[: limits.max_lines], limits.max_lines, True
    anchor = _next_nonblank_line(suffix)
    if anchor:
        for index, line in enumerate(lines[:complete]):
            if index > 0 and line.strip() == anchor:
                lines, complete, final = lines[:index], index, True
                break
    if final:
        # Trailing line breaks would add empty lines before the suffix.
        text = "\n".join(lines[:complete] if complete < len(lines) else lines).rstrip()
        if not limits.multiline or "\n" not in text:
            text = _drop_rest_of_line_overlap(text, suffix)
    else:
        text = "\n".join(lines)
    if final and not text.strip():
        return Cut("", True, "empty after cut" if raw.strip() else "model returned nothing")
    return Cut(text, final)


def finish_cut(raw: str, prefix: str, suffix: str, limits: CutLimits) -> Cut:
    """The cut once the model has stopped: whatever remains is final."""
    cut = cut_completion(raw, prefix, suffix, limits)
    if cut.final:
        return cut
    text = cut.text.rstrip()
    if "\n" not in text:
        text = _drop_rest_of_line_overlap(text, suffix)
    if not text.strip():
        return Cut("", True, "model returned nothing" if not raw.strip() else "empty after cut")
    return Cut(text, True)
