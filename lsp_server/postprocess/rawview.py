"""What of the model's text the cut reads: fixed for the typed word and indentation.

`RawView.apply` runs on the text before the stop sequences' cut on every re-cut (the
cut's own rules then see the text the editor will show): the typed partial word the
model wrote again is dropped, so is the cursor's line the model started over below it
(`prefix_overlap.py`), a first word the model wrote a few characters off the typed
one is mended, and the indentation of a
suggestion on a blank line is the one the syntax needs (`indentation.py`). Both are
decided once, when the text has enough to tell, and then applied the same way to
the growing text, so what is shown only ever grows.
"""

from __future__ import annotations

from lsp_server.postprocess.indentation import Shift, apply_shift, indent_shift
from lsp_server.postprocess.prefix_overlap import (
    mended_word,
    repeats_header,
    restarted_line,
    typed_overlap,
)


class RawView:
    def __init__(self, prefix: str, suffix: str, language: str, column_zero: bool = False) -> None:
        self.prefix, self.suffix, self.language = prefix, suffix, language
        self.column_zero = column_zero  # the prompt saw the typed indentation dropped
        self._overlap: int | None = None
        self._shift: Shift | None = None
        self._repeat: bool | None = None  # the first line is the header above again
        # Then the body it wrote: how much deeper than the cursor's (-1: none to show).
        self._restart: int | None = None
        self._mend: tuple[int, str] | None = None  # the typed word's end, split by a token

    @property
    def dropped(self) -> str | None:
        """Why nothing of the suggestion is shown, whatever the model writes after its
        first line (the indentation rules, the header above written again)."""
        if self._repeat and self._restart == -1:
            return "repeats the header above"
        return "no valid indentation" if self._shift is not None and self._shift.drop else None

    @property
    def dedent(self) -> int:
        """Characters of the typed indentation before the cursor the text removes."""
        return self._shift.dedent if self._shift is not None else 0

    def apply(self, text: str, final: bool) -> str | None:
        """`text` as the cut should read it; None while undecided (and not `final`)."""
        if self._overlap is None:
            self._overlap = typed_overlap(self.prefix, self.suffix, text, final)
            if self._overlap == 0:
                self._overlap = restarted_line(self.prefix, self.suffix, text, final)
            if self._overlap is None:
                return None
        if self._mend is None:
            self._mend = (
                mended_word(self.prefix, self.suffix, text, final) if not self._overlap else (0, "")
            )
            if self._mend is None:
                return None
        strip, insert = self._mend
        text = insert + text[self._overlap + strip :]
        if self._repeat is None:
            self._repeat = repeats_header(self.prefix, self.suffix, text, final)
            if self._repeat is None:
                return None
        if self._repeat:
            again = self._body_again(text, final)
            if again is None or self._restart == -1:
                return None if again is None else ""
            text = again
        if self._shift is None:
            self._shift = indent_shift(
                self.prefix, self.suffix, self.language, text, final, self.column_zero
            )
            if self._shift is None:
                return None
        return apply_shift(text, self._shift)

    def _body_again(self, text: str, final: bool) -> str | None:
        """After the header above written again (`function cheapest(items) {` in its
        own empty body), what the model wrote as its body, moved to the cursor's level:
        the body the user asked for. None until its first line's indentation is known."""
        lines = text.lstrip().partition("\n")[2].split("\n")
        while len(lines) > 1 and not lines[0].strip():
            lines.pop(0)  # blank lines between the header and its body
        if self._restart is None:
            if not lines[0].strip():
                if not final:
                    return None  # the body's first character has not come
                self._restart = -1
                return ""
            typed = len(self.prefix) - self.prefix.rfind("\n") - 1
            lead = len(lines[0]) - len(lines[0].lstrip(" "))
            self._restart = lead - typed if lead > typed else -1
        if self._restart == -1:
            return ""
        deeper = self._restart
        lines = [line[min(deeper, len(line) - len(line.lstrip(" "))) :] for line in lines]
        lines[0] = lines[0].lstrip(" ")  # the cursor's indentation is typed already
        return "\n".join(lines)
