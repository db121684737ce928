"""A block only where the model's text says the hole is one (issue #19, item 3).

On a blank line inside a body that goes on after the cursor, nothing in the document
tells whether one line or several are missing, and a real model at its token limit
never says so by stopping. What it writes does: a model that filled the hole goes on
with the code after the cursor (the cut stops there: `then_suffix`), or, at the end of
a scope the suffix does not continue, leaves that scope as the suffix does. Its lines
up to there are the block. A model that did neither wrote code of its own in place of
the code that follows (a second implementation, test code): only its first statement
(a compound statement with its body, comments above it included) is shown.

`fit_block` applies that to a final block cut (`CutLimits.rejoin`, chosen by
`build_job` when the latency controller wants the short answer, plan `rejoin`).
"""

from __future__ import annotations

import re

_BLANKS = re.compile(r"\s+")
_CONFIRM_CHARS = 12
_OPENERS = "([{"
_CLOSERS = ")]}"


def _width(line: str) -> int:
    return len(line) - len(line.lstrip())


def rejoined(text: str, raw: str, suffix: str, ran_out: bool = True) -> bool:
    """What the model wrote after `text` is, blanks aside, the start of the suffix
    (long enough not to agree by chance, or all of it; any of it when the model stopped
    by itself there)."""
    kept, written = _BLANKS.sub("", text), _BLANKS.sub("", raw)
    if not written.startswith(kept):
        return False
    rest, after = written[len(kept) :], _BLANKS.sub("", suffix[:4096])
    need = min(_CONFIRM_CHARS, len(after)) if ran_out else 1
    return bool(after) and len(rest) >= need and after.startswith(rest[: len(after)])


def early_rejoin(lines: list[str], suffix: str) -> tuple[int, bool] | None:
    """(k, True) when the model's lines after its first k (the last one may still be
    unfinished) are, blanks aside, the start of the suffix, `_CONFIRM_CHARS` of it or
    all of it: the block is those k lines, known before the repeated line is whole."""
    after = _BLANKS.sub("", suffix[:4096])
    if not after:
        return None
    # The whole of the suffix's first line: `letter_grade.append("A+")` agrees with
    # `letter_grade.append("A")` for 20 characters (HumanEval/81, a real model).
    anchor = next((line for line in suffix.split("\n") if line.strip()), "")
    need = min(max(_CONFIRM_CHARS, len(_BLANKS.sub("", anchor)) + 1), len(after))
    rest = ""
    for k in range(len(lines) - 1, 0, -1):
        rest = _BLANKS.sub("", lines[k]) + rest
        agrees = len(rest) >= need and after.startswith(rest[: len(after)])
        if agrees and any(line.strip() for line in lines[:k]):
            return k, True
    return None


def scope_ends(text: str, suffix: str, line_prefix: str) -> bool:
    """The suffix has no more code in the block the suggestion starts in (it is empty,
    or goes on less indented): a block that ends by leaving it ends where it should."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    level = _width(line_prefix + first) if not text.startswith("\n") else _width(first)
    after = next(
        (ln for ln in suffix.split("\n")[1:] if ln.strip() and not ln.lstrip().startswith("#")),
        "",
    )
    return not after.strip() or _width(after) < level


def first_unit(text: str, line_prefix: str) -> str:
    """The first statement of `text`, with the comment lines before it: its lines up to
    where its brackets close and the line does not go on; a block header (`:`) with the
    lines of its body (indented deeper)."""
    lines = text.split("\n")
    depth = 0
    header: int | None = None
    for index, line in enumerate(lines):
        full = line_prefix + line if index == 0 else line
        code = full.split("#", 1)[0].rstrip() if "'" not in full and '"' not in full else full
        if header is not None:
            if line.strip() and _width(full) <= header and depth <= 0:
                return "\n".join(lines[:index]).rstrip()
            depth += sum(code.count(c) for c in _OPENERS) - sum(code.count(c) for c in _CLOSERS)
            continue
        if not code.strip() or code.lstrip().startswith("#"):
            continue  # blank or comment: the statement is still to come
        depth += sum(code.count(c) for c in _OPENERS) - sum(code.count(c) for c in _CLOSERS)
        if depth > 0 or code.endswith(("\\", ",")):
            continue
        if code.endswith(":"):
            header = _width(full)
            continue
        return "\n".join(lines[: index + 1])
    return text


def fit_block(text: str, raw: str, prefix: str, suffix: str, ran_out: bool = False) -> str:
    """`text` (a final block cut) when the model went on with the suffix after it, or
    left the scope where the suffix does (not when it ran out of tokens inside it);
    else its first statement."""
    if "\n" not in text.strip("\n") or rejoined(text, raw, suffix, ran_out):
        return text
    line_prefix = prefix.rsplit("\n", 1)[-1]
    if not ran_out and scope_ends(text, suffix, line_prefix):
        return within_scope(text, line_prefix)
    return first_unit(text, line_prefix)


def within_scope(text: str, line_prefix: str) -> str:
    """`text` up to its first line less indented than its first (the model left the
    block it was writing in: test code, the next function)."""
    lines = text.split("\n")
    level: int | None = None
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        width = _width(line_prefix + line if index == 0 else line)
        if level is None:
            level = width
        elif width < level:
            return "\n".join(lines[:index]).rstrip()
    return text
