"""When a `rejoin` block is decided without reading on (issue #19, item 7).

On a slow backend the block plan (`block_fit.py`) shows several lines only where the
model goes on with the code after the cursor; else its first statement. The generic
block rules read on past the model leaving the block it writes in (up to 16 lines, in
case it comes back), which is right for a block shown whole and wasted here: a real
0.5B model on 2 cores wrote ~50 tokens to show ~14 on single-line holes, most of them
test code at column 0 after the function. Once the model's line starts less indented
than its first line, what it wrote before is all `fit_block` will look at (a rejoin
would have been the suffix's code, at the suffix's level), so the cut is final there.
"""

from __future__ import annotations


def _width(line: str) -> int:
    return len(line) - len(line.lstrip())


def left_block(lines: list[str], line_prefix: str) -> int | None:
    """k when the model's line k has started (a character past its indentation) less
    indented than its first non-blank line: lines[:k] are all the block can be."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None
    level = _width(line_prefix + lines[0]) if first == 0 else _width(lines[first])
    for k in range(first + 1, len(lines)):
        if lines[k].strip() and _width(lines[k]) < level:
            return k
    return None
