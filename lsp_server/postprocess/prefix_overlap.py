"""A suggestion that repeats the word already typed (issue #19, item 9).

After `sel` the model sometimes writes `self.x = …` (it starts the statement over)
instead of `f.x = …`; shown as is, accepting gives `selself.x`. `typed_overlap`
answers how many characters of the model's text repeat the typed partial word: all
of it when the word the model wrote is a known one (in the document, or a keyword)
and the glued one (`selself`) is not. A model that really continues the word (`f.x`)
does not start with the typed word, and one whose glued word exists (`ab` + `abc` in a
file that has `ababc`) is left alone.
"""

from __future__ import annotations

import keyword
import re
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z_$][\w$]*")
_WORD_TAIL = re.compile(r"[A-Za-z_$][\w$]*$")
_LEADING_WORD = re.compile(r"[\w$]*")
_COMMON_KEYWORDS = frozenset({
    "return", "if", "else", "elif", "for", "while", "do", "switch", "case", "break",
    "continue", "const", "let", "var", "function", "class", "struct", "enum", "interface",
    "type", "public", "private", "protected", "static", "final", "new", "this", "self",
    "true", "false", "null", "nil", "None", "True", "False", "import", "from", "export",
    "def", "fn", "func", "pub", "mut", "impl", "use", "async", "await", "yield", "try",
    "catch", "except", "finally", "throw", "raise", "with", "match", "in", "not", "and",
    "or", "is", "void", "int", "float", "double", "bool", "string", "char", "long",
    "print", "len", "range",
})  # fmt: skip
_DOCUMENT_WINDOW = 20_000  # characters each side of the cursor read for known words


@lru_cache(maxsize=32)
def _known_words(before: str, after: str) -> frozenset[str]:
    return frozenset(_WORD.findall(before[-_DOCUMENT_WINDOW:] + "\n" + after[:_DOCUMENT_WINDOW]))


def typed_word(prefix: str, suffix: str) -> str:
    """The partial word right before the cursor (nothing when the cursor is inside a
    word: the rest of it follows on the line)."""
    if _LEADING_WORD.match(suffix).group():  # type: ignore[union-attr]
        return ""
    match = _WORD_TAIL.search(prefix.rsplit("\n", 1)[-1])
    return match.group() if match else ""


def typed_overlap(prefix: str, suffix: str, text: str, final: bool) -> int | None:
    """Characters at the start of `text` that repeat the typed word (0: none); None
    while the model's first word is not complete yet (unless `final`)."""
    word = typed_word(prefix, suffix)
    if not word:
        return 0
    if not text.startswith(word[: len(text)]):
        return 0
    written = _LEADING_WORD.match(text).group()  # type: ignore[union-attr]
    if len(written) == len(text) and not final:
        return None  # the word may go on
    if not written.startswith(word):
        return 0
    known = _known_words(prefix[: len(prefix) - len(word)], suffix)
    glued = word + written
    if glued in known or keyword.iskeyword(glued):
        return 0
    if written in known or keyword.iskeyword(written) or written in _COMMON_KEYWORDS:
        return len(word)
    return 0


def restarted_line(prefix: str, suffix: str, text: str, final: bool) -> int | None:
    """Characters at the start of `text` that drop the cursor's line the model started
    over below (0: it did not): its first lines are blank, then it writes the whole
    line again at the line's indentation, the typed code included (`public ` ⏎
    `public Kernel Kernel {` shown would give `public public Kernel`). Not a line the
    suffix has next (the model ran on into the code after the cursor). None while the
    first line with code is too short to tell (unless `final`)."""
    line_prefix = prefix.rsplit("\n", 1)[-1]
    typed = line_prefix.strip()
    if not typed or not text[:1].isspace():
        return 0
    blank_end = len(text) - len(text.lstrip())
    start = text.rfind("\n", 0, blank_end) + 1
    if start == 0:
        # No line break before the code: the model went on on the cursor's line.
        return None if blank_end == len(text) and not final else 0
    line = text[start:].partition("\n")[0]
    if blank_end == len(text) or len(line.strip()) <= len(typed):
        if not final and "\n" not in text[start:] and typed.startswith(line.strip()):
            return None  # the line may still become the cursor's line again
        return 0
    if (
        not line.lstrip().startswith(typed)
        or line[: len(line) - len(line.lstrip())]
        != (line_prefix[: len(line_prefix) - len(line_prefix.lstrip())])
    ):
        return 0
    following = next((ln for ln in suffix.split("\n")[1:] if ln.strip()), "").strip()
    if line.strip() == following:
        return 0
    if following.startswith(line.strip()) and "\n" not in text[start:] and not final:
        return None  # it may still be the suffix's line
    dropped = blank_end + len(typed)
    if line_prefix.endswith((" ", "\t")):
        dropped += len(text[dropped:]) - len(text[dropped:].lstrip(" \t"))
    return dropped


def repeats_header(prefix: str, suffix: str, text: str, final: bool) -> bool | None:
    """On a blank line under a block's header, the model writes that header again as
    its first line (a 0.5B model in an empty JavaScript function: `function
    cheapest(items) {` ⏎ `let minPrice = …`, nested in the function it repeats). None
    while its first line is still a start of the header (unless `final`)."""
    if prefix.rsplit("\n", 1)[-1].strip() or suffix.split("\n", 1)[0].strip():
        return False
    above = next((ln for ln in reversed(prefix.split("\n")[:-1]) if ln.strip()), "").strip()
    if not above.endswith(("{", ":")):
        return False
    code = text.lstrip()
    line, newline, _ = code.partition("\n")
    if not newline and not final:
        return None if above.startswith(line.strip()) else False
    return line.strip() == above


_MENDED_LIMIT = 3  # characters of the typed word a model skips or repeats at most


def mended_word(prefix: str, suffix: str, text: str, final: bool) -> tuple[int, str] | None:
    """`(strip, insert)` that mend the model's first word where the typed partial word
    ends inside one of the model's tokens: Qwen2.5-Coder reads `sum(sq` as `(s` +
    `q…` and writes `ares)` (for `squares`: skipped) or `quares` (repeated). When the
    typed word glued to the written one is no word of the document but exactly one
    known word is the typed word and the written one a few characters apart, the
    written word is made to complete it: `insert` goes before `text[strip:]`. (0, "")
    for none; None while the model's first word is not complete (unless `final`)."""
    word = typed_word(prefix, suffix)
    written = _LEADING_WORD.match(text).group()  # type: ignore[union-attr]
    if not word:
        return 0, ""
    if not written:
        return None if not text and not final else (0, "")
    if len(written) == len(text) and not final:
        return None  # the word may go on
    known = _known_words(prefix[: len(prefix) - len(word)], suffix)
    glued = word + written
    if glued in known or keyword.iskeyword(glued):
        return 0, ""
    mends = set()
    for candidate in known:
        if not candidate.startswith(word) or len(candidate) == len(word):
            continue
        gap = len(candidate) - len(glued)
        if 0 < gap <= _MENDED_LIMIT and candidate.endswith(written):
            mends.add((0, candidate[len(word) : len(word) + gap]))  # skipped
        elif -_MENDED_LIMIT <= gap < 0 and candidate[len(word) :] == written[-gap:]:
            mends.add((-gap, ""))  # repeated
    return mends.pop() if len(mends) == 1 else (0, "")
