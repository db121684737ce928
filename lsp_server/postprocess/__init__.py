"""The cut: raw model text (so far) + context → the suggestion to show.

`cut_completion` is pure and is called again as the raw text grows, so it can run while
tokens stream. It answers the text to show now and whether that text is *final* — no
later token can change it — which is when the lifecycle closes the model stream, so no
token is generated past the cut. No call parses the document; `StreamCut`, the same cut
for one generation's growing text, reads only the text that is new on each call, so
re-running it per chunk stays cheap at any length.

Two modes, chosen before generation (`decide_multiline`, from syntax when a grammar is
available):

- **statement** (`multiline=False`, `statement.py`): the rest of the statement. It ends
  at the first line break where the completion's brackets are balanced (a multi-line
  call goes on while its parenthesis is open), or right after a line that opens a block
  with `{` (a header), or the `{` line that follows a header in Allman style.
- **block** (`multiline=True`, `block.py`): several lines, which end before the first
  line that leaves the enclosing block (indented less than both the cursor's line and
  the code after the cursor), before a line that repeats the suffix's next non-blank
  line (the model ran on into code that exists, `suffix_repeat.py`), or when lines
  start repeating themselves.

Then, in both modes: stop sequences end the suggestion (a partial one at the end is
held back, `stops.py`); at most `max_lines` lines; the tail that the rest of the
cursor's line already has (closing brackets, quotes) is dropped when the completion
closed them itself (`rest_of_line.py`); a completion inserted at column 0 in front of
existing text ends with a line break. An empty or whitespace-only result is "no
suggestion", with the reason. `finish_cut` (`finish.py`) is the cut once the model has
stopped, by itself or at its token limit.

The modules, by what they decide: `limits.py` (the mode and the limits), `scan.py`
(brackets and strings), `stops.py`, `statement.py` and `open_scopes.py` (the statement
end, and what the document around the cursor leaves open), `scope.py` (the block a
completion opens, the definition it is in), `block.py`, `suffix_repeat.py`,
`rest_of_line.py`, `stream.py` (one generation's growing text), `finish.py`; and the
views of the raw text the cut reads (`rawview.py`: `prefix_overlap.py`,
`indentation.py`), the suffix overlap (`overlap.py`), the block fit (`block_fit.py`)
and the syntax check (`syntax_check.py`).
"""

from lsp_server.postprocess.finish import finish_cut
from lsp_server.postprocess.limits import Cut, CutLimits, decide_multiline
from lsp_server.postprocess.stream import StreamCut, cut_completion

__all__ = ["Cut", "CutLimits", "StreamCut", "cut_completion", "decide_multiline", "finish_cut"]
