"""Token healing: the answer's first tokens spell again the word the prompt ended in.

An instruct model's chat answer, prefilled with the code before the cursor, ends where
the user stopped typing: inside a word (`ret`), or after a whole one the tokenizer joins
to the space before it (` return` is one token). The model never saw its own text end
between such tokens and goes on badly: in the real-model replay `return` became
`returnd = w.wrap(text)` and `consis` became `consisitute`. Healing takes the prompt's
trailing word back out and lets the model write it again, at each step allowing only the
tokens that agree with what is left of it, so the model picks its own tokenization (the
Code Llama paper's appendix on FIM inside a token; guidance's token healing). What it
writes past the word is the suggestion.

The cursor's line keeps its place in the prompt, so a request mid-line reuses the KV cache
of the one made where the line started (the same chat, the same answer so far).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# The word the prompt ends in, with the one space or tab a BPE tokenizer joins to it.
_WORD_AT_END = re.compile(rb"[ \t]?\w+\Z")
# A long identifier is healed in part: every healed token is a decode step of its own.
MAX_HEALED_TOKENS = 6


class Vocabulary:
    """Each token's bytes, indexed for the question "which tokens agree with these
    bytes": those that are a prefix of them, and those that start with them."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self.pieces = list(pieces)
        self._ids_by_piece: dict[bytes, list[int]] = {}
        for token, piece in enumerate(self.pieces):
            if piece:  # special tokens spell nothing: never part of a word
                self._ids_by_piece.setdefault(piece, []).append(token)
        self._sorted = sorted((piece, token) for token, piece in enumerate(self.pieces) if piece)
        self._sorted_pieces = [piece for piece, _ in self._sorted]

    def agreeing(self, text: bytes) -> list[int]:
        """Tokens whose bytes are a prefix of `text` or start with all of it."""
        ids = [t for size in range(1, len(text)) for t in self._ids_by_piece.get(text[:size], ())]
        start = bisect.bisect_left(self._sorted_pieces, text)
        for piece, token in self._sorted[start:]:
            if not piece.startswith(text):
                break
            ids.append(token)
        return ids


def split_healed(vocabulary: Vocabulary, tokens: list[int]) -> tuple[list[int], bytes]:
    """The prompt's tokens without those of its trailing word, and the bytes they spelled
    (at least the last token; none across a line break)."""
    pieces = vocabulary.pieces
    tail = b"".join(pieces[token] for token in tokens[-MAX_HEALED_TOKENS:])
    word = _WORD_AT_END.search(tail)
    wanted = len(word.group()) if word else 1
    healed, cut = b"", len(tokens)
    while cut > 0 and len(healed) < wanted and len(tokens) - cut < MAX_HEALED_TOKENS:
        piece = pieces[tokens[cut - 1]]
        if not piece or b"\n" in piece:
            break
        healed, cut = piece + healed, cut - 1
    return tokens[:cut], healed


class HealedStart:
    """The state of one answer's healing: a logits mask while the healed bytes are not
    yet written again, and the cut of each token's bytes into healed part and answer."""

    def __init__(self, vocabulary: Vocabulary, healed: bytes) -> None:
        self._vocabulary = vocabulary
        self._left = healed

    @property
    def done(self) -> bool:
        return not self._left

    def mask_logits(
        self, _input_ids: npt.NDArray[np.intc], logits: npt.NDArray[np.single]
    ) -> npt.NDArray[np.single]:
        """A llama-cpp-python logits processor: only agreeing tokens while healing."""
        if not self._left:
            return logits
        masked = np.full_like(logits, -np.inf)
        allowed = self._vocabulary.agreeing(self._left)
        masked[allowed] = logits[allowed]
        return masked

    def take(self, piece: bytes) -> bytes:
        """The part of a sampled token's bytes that is the answer (past the healed word)."""
        healed = min(len(self._left), len(piece))
        self._left = self._left[healed:]
        return piece[healed:]
