"""A syntax check of the final suggestion (issue #19, item 5).

The cut reads brackets, quotes and indentation, not the grammar: after `n` typed on a
new line, a model that starts a statement of its own gives `nif n % 2 == 1:`, which the
cut keeps whole. `syntax_trim` parses the code around the cursor with tree-sitter
(the grammars `workspace/syntax.py` ships) with and without the suggestion: when the
cursor's line parsed before and the suggestion brings an error of its own making (on
the typed text it is glued to, open into the code after it, or at its unfinished end;
not one the document has anyway, nor one inside whole lines it wrote: a macro the
grammar does not know, issue #18), the suggestion is cut back to its longest run of
whole lines that does not, or dropped. Lines only: half a line is never shown (issue
#19, item 2).

Only a window is parsed: from the last line before the cursor that starts at column 0
(a top-level statement or definition) to the first one after it, at most
`WINDOW_LINES` each way. Errors the window's edges cause are in both parses, in the
same place (one before the cursor known by its start), so they do not count.
Cost: `bench/bench_real_cut.py --microbench`.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from tree_sitter import Node, Parser

from lsp_server.workspace.syntax import grammar_for

WINDOW_LINES = 80
WHOLE_CHARS = 20_000  # ~600 lines: a parse of ~5 ms
_CLOSERS = {"{": "}", "(": ")", "[": "]"}


@lru_cache(maxsize=16)
def _parser(language: str) -> Parser | None:
    grammar = grammar_for(language)
    return Parser(grammar) if grammar is not None else None


Error = tuple[str, int, int]  # node type ("ERROR" or the missing token), start, end byte


def _errors(parser: Parser, source: str) -> tuple[Error, ...]:
    """The ERROR and MISSING nodes of `source`, outermost only."""
    tree = parser.parse(source.encode("utf-8", "surrogatepass"))
    stack: list[Node] = [tree.root_node]
    found: list[Error] = []
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            found.append((node.type, node.start_byte, node.end_byte))
        elif node.has_error:
            stack.extend(node.children)
    return tuple(found)


@lru_cache(maxsize=8)
def _document_errors(language: str, source: str) -> tuple[Error, ...]:
    """`_errors` of the document without the suggestion: the same for every re-cut."""
    parser = _parser(language)
    return _errors(parser, source) if parser is not None else ()


def _where(error: Error, cursor: int, shift: int) -> Error:
    """Where an error is, the same way in the document with and without the suggestion
    (`shift`: the bytes inserted at `cursor`, for the document without it). One that
    starts before the cursor is known by its start: the suggestion may lengthen it (the
    window's first line `else:` without its `try:` takes the lines after it). A missing
    token is known by its kind: the parser puts it after the last token before it (a
    class left open at the end of the document gets its `}` after the suggestion)."""
    kind, start, end = error
    if kind != "ERROR":
        return kind, -1, -1
    if start >= cursor:
        return kind, start + shift, end + shift
    return kind, start, -1


def _new_errors(
    errors: tuple[Error, ...], document: tuple[Error, ...], cursor: int, own: int, text: bytes
) -> bool:
    """Whether the suggestion `text` (at byte `cursor`) brings an error of its own making:
    one the document without it does not have in the same place (and more errors than
    it has), other than an error inside whole lines the suggestion wrote itself (bytes
    `own`.. of it) with more of its line after it (one at a line's end is an unfinished
    line: `this.`, `x = (1,`). Tree-sitter cannot tell a macro it does not know (`int val
    GUARDED_BY(mu);`, `FMT_TRY {`) or a quote it lexes otherwise (bash's `\\'`) from a
    mistake; what a suggestion breaks is the code around it (typed text it is glued to,
    a bracket or string it leaves open into the code after it)."""
    known = Counter(_where(error, cursor, len(text)) for error in document)
    unknown, counted = False, 0
    for kind, start, end in errors:
        if cursor + own <= start and text[end - cursor :].split(b"\n", 1)[0].strip():
            continue  # inside the suggestion's own lines, its line goes on after it
        counted += 1
        where = _where((kind, start, end), cursor, 0)
        if known[where] > 0:
            known[where] -= 1
        else:
            unknown = True
    # Errors that move (the parser recovers elsewhere once the code changes) but are no
    # more than the document had: the same errors, not the suggestion's.
    return unknown and counted > len(document)


def _window(prefix: str, suffix: str, language: str = "python") -> tuple[str, str]:
    """The lines around the cursor that the parse reads: (before, after) the cursor.
    A brace language parsed from the middle of a class gives errors all over, so a
    document up to `WHOLE_CHARS` is read whole there."""
    if language != "python" and len(prefix) + len(suffix) <= WHOLE_CHARS:
        return prefix, suffix
    before_lines = prefix.split("\n")
    start = max(0, len(before_lines) - 1 - WINDOW_LINES)
    for index in range(len(before_lines) - 2, start - 1, -1):
        line = before_lines[index]
        if line.strip() and not line[0].isspace() and not line.startswith(("}", ")", "]")):
            start = index
            break
    after_lines = suffix.split("\n")
    end = min(len(after_lines), WINDOW_LINES + 1)
    for index in range(1, end):
        line = after_lines[index]
        if line.strip() and not line[0].isspace() and not line.startswith(("}", ")", "]")):
            end = index
            break
    return "\n".join(before_lines[start:]), "\n".join(after_lines[:end])


def syntax_trim(text: str, prefix: str, suffix: str, language: str) -> str:
    """`text` as it is unless it breaks the code around it (`_new_errors`); else its
    longest whole-line start that does not; else "". A cursor with code after it on its
    line is left to the cut's rest-of-line rules; a document whose cursor line did not
    parse already gets no verdict."""
    parser = _parser(language)
    rest_of_line = suffix.split("\n", 1)[0]
    if parser is None or not text.strip() or rest_of_line.strip():
        return text
    before, after = _window(prefix, suffix, language)
    document = _document_errors(language, before + after)
    head = before.encode("utf-8", "surrogatepass")
    cursor = len(head)
    line_start, line_end = head.rfind(b"\n") + 1, cursor + len(rest_of_line.encode())
    if any(line_start <= start <= line_end for _, start, _ in document):
        return text  # the line was broken already: the check tells nothing
    lines = text.split("\n")
    # On a line blank so far, a first line that does not parse is the model's own
    # statement, unfinished (a string or member access the model left open), not
    # one glued to what was typed: only the lines after it are checked.
    fresh = not prefix.rsplit("\n", 1)[-1].strip() and bool(lines[0].strip())
    for keep in range(len(lines), 1 if fresh else 0, -1):
        candidate = "\n".join(lines[:keep])
        if not candidate.strip():
            break
        # A block the suggestion opens on its last line may be the next request's to
        # fill: parsed closed too, so only what it wrote counts.
        closer = _CLOSERS.get(candidate.rstrip()[-1:], "")
        for variant in (candidate, f"{candidate}\n{closer}") if closer else (candidate,):
            inserted = variant.encode("utf-8", "surrogatepass")
            # Whole lines the suggestion wrote: all of it on a line blank so far, else
            # from its second line (its first is glued to the typed text).
            own = 0 if fresh else inserted.find(b"\n") + 1 or len(inserted)
            errors = _errors(parser, before + variant + after)
            if not _new_errors(errors, document, cursor, own, inserted):
                return candidate
    return lines[0] if fresh else ""
