"""Neighbour snippets: code from other open documents and recent edits that the model
should see, ranked by similarity to the code around the cursor (pure functions).

- Definitions first: an identifier used near the cursor (the cursor's line and the few
  lines above; not the word still being typed) that the prefix does not define, but an
  open document does, brings that definition's header and first lines — the signature
  is what a call needs.
- Then windows (`WINDOW_LINES` lines, half-overlapping) of every source, ranked by BM25
  over identifier tokens against the code around the cursor (the last `QUERY_LINES`
  complete lines of the prefix, weighted towards the cursor, and the suffix's first
  lines).
- Stable while a line is typed: the snippets lead the prompt, so changing them costs
  the model's cache of the whole prompt. Mid-line they change only when a completed
  word brings a definition.
- Deduplicated: a window whose lines the prefix already has is dropped, and so is one
  overlapping a window already taken. Budgeted in characters; the prompt builder
  budgets tokens again.

Secret-looking and ignored files are excluded by the caller through `hygiene`
(`gather_sources` takes the filter), and every snippet is cleaned there too.
"""

from __future__ import annotations

import math
import re
import string
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from lsp_server.context.cursor import Snippet

WINDOW_LINES = 8
QUERY_LINES = 12
NEAR_LINES = 3  # identifiers used this close to the cursor get their definitions looked up
DEFINITION_LINES = 10
RECENT_CONTEXT_LINES = 6  # lines kept around a recent edit
DEFAULT_BUDGET_CHARS = 2048

_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_WORD_CHARS = frozenset(string.ascii_letters + string.digits + "_$")  # as in `_IDENTIFIER`
_STOP_WORD_TEXT = (
    "self this return if else elif for while in is not and or def class function func fn "
    "let const var val new public private protected static void int str bool true false "
    "none null nil import from as export package using namespace struct impl pub async "
    "await try catch except finally with end then do begin string float double char "
    "long short final override virtual readonly get set include define type interface"
)
_STOP_WORDS = frozenset(_STOP_WORD_TEXT.split(" "))
_DEFINITION_KEYWORD = (
    r"(?:def|class|function|func|fn|interface|struct|enum|type|trait|module|const|let|var"
    r"|val|record)"
)


@dataclass(frozen=True)
class Source:
    """Text another place offers as context: an open document or a recent edit."""

    path: str
    text: str
    first_line: int = 0  # where `text` starts in its file (for overlap checks)


def identifiers(text: str) -> list[str]:
    """Identifier tokens worth matching on (no keywords, no single letters)."""
    return [
        token
        for token in _IDENTIFIER.findall(text)
        if len(token) > 1 and token.lower() not in _STOP_WORDS
    ]


@dataclass(frozen=True)
class Window:
    path: str
    first_line: int
    text: str

    @cached_property
    def code_lines(self) -> tuple[str, ...]:
        """Its non-blank lines, stripped (computed once: cached windows are checked
        against the prefix on every request)."""
        return tuple(code for line in self.text.splitlines() if (code := line.strip()))

    @cached_property
    def size(self) -> int:
        """Lines, as `_overlaps` counts them."""
        return self.text.count("\n") + 1

    @cached_property
    def shortest_line(self) -> int:
        """`_fit` keeps nothing of this window in less room than this (what it keeps
        has a non-blank line, and that line alone must fit)."""
        lines = self.text.splitlines(keepends=True)
        return min((len(line) for line in lines if line.strip()), default=len(self.text) + 1)


def split_windows(source: Source, lines: int = 0) -> list[Window]:
    """Half-overlapping windows of whole lines (`WINDOW_LINES` by default)."""
    lines = lines or WINDOW_LINES
    all_lines = source.text.splitlines(keepends=True)
    stride = max(lines // 2, 1)
    windows = []
    for start in range(0, max(len(all_lines) - stride, 1), stride):
        text = "".join(all_lines[start : start + lines])
        if text.strip():
            windows.append(Window(source.path, source.first_line + start, text))
    return windows


def bm25_scores(
    query: Counter[str], documents: list[list[str]], k1: float = 1.2, b: float = 0.75
) -> list[float]:
    """Okapi BM25 of each tokenised document against the weighted query terms."""
    if not documents:
        return []
    frequency: Counter[str] = Counter()
    for tokens in documents:
        frequency.update(set(tokens))
    count = len(documents)
    average = sum(len(tokens) for tokens in documents) / count or 1.0
    scores = []
    for tokens in documents:
        terms = Counter(tokens)
        score = 0.0
        for term, weight in query.items():
            tf = terms.get(term, 0)
            if not tf:
                continue
            idf = math.log(1 + (count - frequency[term] + 0.5) / (frequency[term] + 0.5))
            score += weight * idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(tokens) / average))
        scores.append(score)
    return scores


@dataclass(frozen=True)
class _SourceIndex:
    """One source's windows, tokenised once: an inverted index (term → windows that
    have it, with its count there), each window's length in tokens and their sum."""

    windows: tuple[Window, ...]
    lengths: tuple[int, ...]
    total_length: int
    postings: dict[str, tuple[tuple[int, int], ...]]


@lru_cache(maxsize=256)
def _index_source(path: str, first_line: int, text: str) -> _SourceIndex:
    """Cached by content: an unchanged open document is tokenised once, not once per
    keystroke (with 50 open files that was most of a request's time)."""
    windows = tuple(split_windows(Source(path, text, first_line)))
    lengths: list[int] = []
    postings: dict[str, list[tuple[int, int]]] = {}
    for index, window in enumerate(windows):
        tokens = identifiers(window.text)
        lengths.append(len(tokens))
        for term, count in Counter(tokens).items():
            postings.setdefault(term, []).append((index, count))
    frozen = {term: tuple(places) for term, places in postings.items()}
    return _SourceIndex(windows, tuple(lengths), sum(lengths), frozen)


def _ranked_windows(query: Counter[str], sources: list[Source]) -> list[Window]:
    """Windows with a positive BM25 score, best first (ties: source order) — the same
    ranking as `bm25_scores` over every window, computed from the cached indexes
    without flattening them: per request, the work is per query term, not per window."""
    indexes = [_index_source(s.path, s.first_line, s.text) for s in sources]
    count = sum(len(index.windows) for index in indexes)
    if not count:
        return []
    average = sum(index.total_length for index in indexes) / count or 1.0
    offsets, total = [], 0
    for index in indexes:
        offsets.append(total)
        total += len(index.windows)
    scores: dict[int, float] = {}
    k1, b = 1.2, 0.75
    for term, weight in query.items():
        found = [
            (offset, index, places)
            for offset, index in zip(offsets, indexes, strict=True)
            if (places := index.postings.get(term))
        ]
        if not found:
            continue
        df = sum(len(places) for _, _, places in found)
        idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
        for offset, index, places in found:
            for window, tf in places:
                norm = tf + k1 * (1 - b + b * index.lengths[window] / average)
                key = offset + window
                scores[key] = scores.get(key, 0.0) + weight * idf * tf * (k1 + 1) / norm
    ranked = sorted((-score, key) for key, score in scores.items() if score > 0)
    windows = _window_lookup(indexes, offsets)
    return [windows(key) for _, key in ranked]


def _window_lookup(indexes: list[_SourceIndex], offsets: list[int]) -> Callable[[int], Window]:
    def window(key: int) -> Window:
        source = bisect_right(offsets, key) - 1
        return indexes[source].windows[key - offsets[source]]

    return window


def cursor_query(prefix: str, suffix: str) -> Counter[str]:
    """Identifiers around the cursor; the nearer the cursor, the heavier."""
    query: Counter[str] = Counter()
    lines = prefix.splitlines()[-QUERY_LINES:]
    for distance, line in enumerate(reversed(lines)):
        for token in identifiers(line):
            query[token] += 2 if distance < NEAR_LINES else 1
    for line in suffix.splitlines()[:3]:
        for token in identifiers(line):
            query[token] += 1
    return query


# A line that defines a name: `<words> <keyword> NAME`, `<words> <type> NAME(` or
# `NAME =` / `NAME:` (every alternative starts at a line start). As three generic
# expressions for the text before the name and three for the text after it, checked
# at each place the name occurs: no expression compiled per name on a request.
_BEFORE_KEYWORD_NAME = re.compile(
    rf"[ \t]*(?:[\w@<>\[\],.?*&:]+[ \t]+)*{_DEFINITION_KEYWORD}[ \t]+"
)
_BEFORE_TYPED_NAME = re.compile(r"[ \t]*(?:[\w@<>\[\],.?*&:]+[ \t]+)*[\w<>\[\],.?*&]+[ \t]+")
_BEFORE_ASSIGNED_NAME = re.compile(r"[ \t]*")
_WORD_BOUNDARY = re.compile(r"\b")
_CALL_AFTER = re.compile(r"[ \t]*\(")
_ASSIGNMENT_AFTER = re.compile(r"[ \t]*[:=][^=]")
_DEFINED_HERE = re.compile(rf"{_DEFINITION_KEYWORD}\s+([A-Za-z_$][\w$]*)")


def _defines(text: str, start: int, end: int, at: int, name: str) -> bool:
    """Whether the line `text[start:end]` defines `name`, which occurs at `at`."""
    after = at + len(name)
    return bool(
        (_BEFORE_KEYWORD_NAME.fullmatch(text, start, at) and _WORD_BOUNDARY.match(text, after, end))
        or (_BEFORE_TYPED_NAME.fullmatch(text, start, at) and _CALL_AFTER.match(text, after, end))
        or (
            _BEFORE_ASSIGNED_NAME.fullmatch(text, start, at)
            and _ASSIGNMENT_AFTER.match(text, after, end)
        )
    )


def _first_definition(name: str, text: str) -> int | None:
    """Where the first line that defines `name` starts. Only lines that contain `name`
    are tried (searching the whole text backtracked at every line start: most of a
    request's time with 50 open files), at each place it occurs on them."""
    at = text.find(name)
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end < 0 else end + 1  # the newline may be the `[^=]`
        while at >= 0 and at + len(name) <= end:
            if _defines(text, start, end, at, name):
                return start
            at = text.find(name, at + 1)
        at = text.find(name, end)
    return None


@lru_cache(maxsize=256)
def _definitions_found(text: str) -> dict[str, int | None]:
    """Per text (like `_index_source`): where each name asked for is first defined, so
    an unchanged open document is searched once per name, not on every keystroke."""
    return {}


def find_definition(name: str, source: Source) -> Window | None:
    """The first definition of `name` in `source`: its header and first lines."""
    found = _definitions_found(source.text)
    if name not in found:
        found[name] = _first_definition(name, source.text)
    start = found[name]
    if start is None:
        return None
    first_line = source.text.count("\n", 0, start)
    lines = source.text[start:].splitlines(keepends=True)
    header_indent = len(lines[0]) - len(lines[0].lstrip())
    kept = [lines[0]]
    for line in lines[1:DEFINITION_LINES]:
        indent = len(line) - len(line.lstrip())
        if line.strip() and indent <= header_indent:
            if line.strip()[0] in ")]}":
                kept.append(line)  # the closing line of a short body
            break
        kept.append(line)
    return Window(source.path, source.first_line + first_line, "".join(kept))


def _definitions(prefix: str, sources: list[Source]) -> list[Window]:
    near = prefix.splitlines()[-NEAR_LINES:]
    defined_here = set(_DEFINED_HERE.findall(prefix))
    names: list[str] = []
    for line in reversed(near):  # nearest use first
        for token in reversed(identifiers(line)):
            if token not in names and token not in defined_here:
                names.append(token)
    found = []
    for name in names:
        for source in sources:
            window = find_definition(name, source)
            if window is not None:
                found.append(window)
                break
    return found


def _already_in(window: Window, prefix_lines: set[str]) -> bool:
    lines = window.code_lines
    return bool(lines) and sum(map(prefix_lines.__contains__, lines)) >= 0.8 * len(lines)


def _overlaps(window: Window, taken: list[Window]) -> bool:
    size = window.size
    for other in taken:
        if other.path != window.path:
            continue
        other_size = other.size
        low = max(window.first_line, other.first_line)
        high = min(window.first_line + size, other.first_line + other_size)
        if high - low > size // 2:
            return True
    return False


def rank_neighbour_snippets(
    prefix: str,
    suffix: str,
    sources: Iterable[Source],
    budget_chars: int = DEFAULT_BUDGET_CHARS,
    definitions: bool = True,
) -> tuple[Snippet, ...]:
    """Snippets for the prompt, most useful first, within `budget_chars`.

    Ranked once per word typed, not per keystroke: the ranking reads the prefix only
    up to the word still being typed, so the last ranking is reused while the rest of
    its inputs (that prefix, the suffix, the sources, the budget) are the same."""
    sources = [source for source in sources if source.text.strip()]
    if not sources or budget_chars <= 0:
        return ()
    # The snippets lead the prompt: when they change, the model's cache of everything
    # after them is lost, so they should not change on every keystroke. The windows
    # are ranked by the lines before the cursor's line; definitions are looked up for
    # the words before the cursor, but not the word still being typed.
    word_start = len(prefix)
    while word_start and prefix[word_start - 1] in _WORD_CHARS:
        word_start -= 1
    key = (prefix[:word_start], suffix, tuple(sources), budget_chars, definitions)
    if _last_ranking and _last_ranking[0][0] == key:
        return _last_ranking[0][1]
    ranked = _rank(prefix, suffix, sources, budget_chars, definitions, word_start)
    _last_ranking[:] = [(key, ranked)]
    return ranked


# The last ranking and its inputs (one entry: a completion request's document).
_last_ranking: list[tuple[tuple[object, ...], tuple[Snippet, ...]]] = []


def _rank(
    prefix: str,
    suffix: str,
    sources: list[Source],
    budget_chars: int,
    definitions: bool,
    word_start: int,
) -> tuple[Snippet, ...]:
    complete_lines = prefix[: prefix.rfind("\n") + 1]
    prefix_lines = {line.strip() for line in complete_lines.splitlines() if line.strip()}
    candidates = _definitions(prefix[:word_start], sources) if definitions else []
    candidates += _ranked_windows(cursor_query(complete_lines, suffix), sources)
    taken: list[Window] = []
    kept: list[Snippet] = []
    used = 0
    for window in candidates:
        if used >= budget_chars:
            break
        if window.shortest_line > budget_chars - used:
            continue  # `_fit` would keep nothing: skip the checks
        if _already_in(window, prefix_lines) or _overlaps(window, taken):
            continue
        text = _fit(window.text, prefix_lines, budget_chars - used)
        if text:
            taken.append(window)
            kept.append(Snippet(window.path, text))
            used += len(text)
    return tuple(kept)


def _fit(text: str, prefix_lines: set[str], room: int) -> str:
    """The window without the lines the prefix already has (imports, repeated calls),
    cut to whole lines that fit `room` characters."""
    out: list[str] = []
    used = 0
    for line in text.splitlines(keepends=True):
        code = line.strip()
        if len(code) > 3 and code in prefix_lines:
            continue
        if used + len(line) > room:
            break
        out.append(line)
        used += len(line)
    return "".join(out) if any(line.strip() for line in out) else ""


def plain_bm25_snippets(
    prefix: str, sources: Iterable[Source], budget_chars: int
) -> tuple[Snippet, ...]:
    """The baseline: the same windows ranked by plain BM25 against the last
    `QUERY_LINES` of the prefix, taken in order until the budget is spent."""
    windows = [window for source in sources for window in split_windows(source)]
    query = Counter(_IDENTIFIER.findall("\n".join(prefix.splitlines()[-QUERY_LINES:])))
    scores = bm25_scores(query, [_IDENTIFIER.findall(w.text) for w in windows])
    ranked = sorted(zip(scores, range(len(windows)), strict=True), key=lambda x: (-x[0], x[1]))
    kept: list[Snippet] = []
    used = 0
    for _, index in ranked:
        window = windows[index]
        if used + len(window.text) <= budget_chars:
            kept.append(Snippet(window.path, window.text))
            used += len(window.text)
    return tuple(kept)


# -- sources ---------------------------------------------------------------------------


def gather_sources(
    current_uri: str,
    documents: Mapping[str, str],
    recent: Sequence[tuple[str, int, int]],
    path_of: Callable[[str], str],
    allowed: Callable[[str], bool],
    cursor_line: int | None = None,
) -> list[Source]:
    """Other open documents and recently edited regions (of any document: `recent`,
    the places `RecentEdits` kept, newest last), as sources; `allowed(path)` filters
    out secret-looking and ignored files.

    Not the region around `cursor_line` of the current document: that is the edit in
    progress, which the prompt's prefix and suffix hold already; as a snippet it would
    repeat them and change with every keystroke (and with it the whole prompt)."""
    sources: list[Source] = []
    for uri, first, last in reversed(recent):
        text = documents.get(uri)
        path = path_of(uri)
        if text is None or not allowed(path):
            continue
        low, high = max(first - RECENT_CONTEXT_LINES, 0), last + RECENT_CONTEXT_LINES
        if uri == current_uri and cursor_line is not None and low <= cursor_line < high:
            continue
        lines = text.splitlines(keepends=True)
        sources.append(Source(path, "".join(lines[low:high]), low))
    for uri, text in documents.items():
        path = path_of(uri)
        if uri != current_uri and allowed(path):
            sources.append(Source(path, text))
    return sources
