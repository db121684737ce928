"""The rest of the cursor's line (the suffix's first line) against the completion's
end: the closing punctuation the model typed again is dropped, or replaced where the
completion typed it all again with more between; and the final shaping of the text."""

from __future__ import annotations

from lsp_server.postprocess.limits import CutLimits
from lsp_server.postprocess.scan import bracket_state, next_nonblank_line
from lsp_server.postprocess.syntax_check import syntax_trim

WHOLE_REST = 3  # a repeated rest of line this long is dropped even when it is not punctuation


_TAIL_CHARS = frozenset("\"'`)]}>;, ")


_TAG_TAIL = frozenset("/>;,")  # no bracket or quote the scan tracks: nothing to balance


def rest_in_line(line: str, rest: str) -> int:
    """Where in the model's line the rest of the cursor's line starts again (-1: it is
    not in it): where it ends the line, as it does in the suffix (`v[1].split('p=')[1]`
    before `[1]`), else its first occurrence (` get; set; } = "";` went on after it)."""
    code = line.rstrip()
    if code.endswith(rest) and code[: len(code) - len(rest)].strip():
        return len(code) - len(rest)
    return line.find(rest)


def _drop_rest_of_line_overlap(text: str, prefix: str, suffix: str, language: str) -> str:
    """`foo(bar)` typed before `)`: drop the completion's tail that the rest of the line
    already has, when that makes the line's brackets and quotes balance better (the
    completion closed them itself). Only closing punctuation counts: repeating an
    identifier may be intended."""
    rest = suffix.split("\n", 1)[0].strip()
    if not rest:
        return text
    if "\n" not in text and len(rest) >= WHOLE_REST and text.rstrip().endswith(rest):
        kept = text.rstrip()[: len(text.rstrip()) - len(rest)]
        if kept.strip():  # the model wrote the rest of the line again, whole
            return kept.rstrip(" \t") if suffix[:1] in " \t" else kept
    if set(rest) <= _TAG_TAIL and text.rstrip().endswith(rest):
        return text.rstrip()[: len(text.rstrip()) - len(rest)]  # `/>` of a tag, typed again
    line_prefix = prefix.rsplit("\n", 1)[-1]
    if len(rest) >= WHOLE_REST and line_prefix.strip():
        # The model wrote the rest of the line, whole, and went on after it (`string
        # Name { get; set; } = "";` before ` get; set; }`): it reached the code after the
        # cursor there. What it wrote before is the completion; the rest is already there.
        # The model's first line: after the cursor, or on the next line when it broke it.
        head, _, tail = text.partition("\n")
        lead, first = ("", head) if head.strip() else (head + "\n", tail.partition("\n")[0])
        at = rest_in_line(first, rest)
        if at > 0 and first[:at].strip():
            kept = lead + first[:at]
            return kept.rstrip(" \t") if suffix[:1] in " \t" else kept
    target, _ = bracket_state(line_prefix + rest, language)
    depth, quoted = bracket_state(line_prefix + text + rest, language)
    for size in range(min(len(rest), len(text)), 0, -1):
        head = rest[:size]
        if not text.endswith(head) or not set(head) <= _TAIL_CHARS:
            continue
        kept = text[: len(text) - size]
        new_depth, new_quoted = bracket_state(line_prefix + kept + rest, language)
        if (abs(new_depth - target), new_quoted) < (abs(depth - target), quoted):
            return kept
        if set(head) <= frozenset(";, ") and abs(new_depth - target) <= abs(depth - target):
            return kept
    return text


_REPLACEABLE = frozenset("\"'`)]}>;,/ \t")


def _replaced_rest(text: str, prefix: str, suffix: str, language: str) -> int:
    """Characters of the rest of the cursor's line that `text` replaces: the rest is
    closing punctuation the editor typed ahead (`)`, `")`, `})`), the completion typed
    all of it again in order with more text in between or after (`value, max), min);`
    before `))`), and the brackets and quotes balance with the completion alone as they
    did with the rest, while keeping both would close too much. 0 when it does not."""
    rest = suffix.split("\n", 1)[0].rstrip()
    if not rest.strip() or not set(rest) <= _REPLACEABLE:
        return 0
    position = 0
    for char in rest.strip():  # a subsequence of the completion
        position = text.find(char, position) + 1
        if position == 0:
            return 0
    line_prefix = prefix.rsplit("\n", 1)[-1]
    target = bracket_state(line_prefix + rest, language)
    if bracket_state(line_prefix + text, language) != target:
        return 0
    return len(rest) if bracket_state(line_prefix + text + rest, language) != target else 0


def shape_final(text: str, prefix: str, suffix: str, limits: CutLimits) -> tuple[str, int]:
    text = syntax_trim(text, prefix, suffix, limits.language)  # no line that breaks the code
    lines = text.split("\n")
    anchor = next_nonblank_line(suffix)
    while len(lines) > 1 and (
        not lines[-1].strip() or (anchor.strip() and lines[-1].rstrip() == anchor.rstrip())
    ):
        # Blank tails, and a last line the suffix's next line repeats exactly (at another
        # indentation it is another statement: `return False` of an inner `if`).
        lines.pop()
    text = "\n".join(lines)
    if not text.strip():
        return "", 0
    line_prefix = prefix.rsplit("\n", 1)[-1]
    rest_of_line = suffix.split("\n", 1)[0]
    in_front = line_prefix == "" and bool(rest_of_line.strip())
    replace = 0
    if not in_front:
        # (Whole lines in front of the line's text, below, leave none of it after the
        # completion's last line, which may end like it: Lua's `… then return src end`
        # before the function's `end`.)
        dropped = _drop_rest_of_line_overlap(text, prefix, suffix, limits.language)
        replace = 0 if dropped != text else _replaced_rest(text, prefix, suffix, limits.language)
        text = dropped
    if line_prefix.strip() and line_prefix.endswith(" ") and text.startswith(" "):
        text = text[1:]  # `return ` + ` this`: one space, not two
    if rest_of_line and not rest_of_line.strip():
        # The line's trailing blanks are after the cursor already: the model's copy of
        # them would double them (`"${1?}"` + ` ` + ` `).
        text = text.rstrip(" \t")
    if in_front and text.strip():
        text += "\n"  # whole lines inserted in front of existing text
    return text, replace
