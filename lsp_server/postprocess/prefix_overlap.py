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
