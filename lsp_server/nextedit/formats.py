"""Next-edit prompt formats, as data: adding a model family is a row here.

Each format says how the recent edits, the related snippets and the window around the
cursor are laid out, what the model writes back and where that ends:

- `sweep` (Sweep Next-Edit 1.5B, a Qwen2.5-Coder base model): context files as
  `<|file_sep|>path` blocks, each recent change as an `original:`/`updated:` pair of
  its changed lines, then the window around the cursor (10 lines above, 10 below) as it
  was before the recent edits (`original/path`) and as it is now (`current/path`); the
  model writes the window as it should be (`updated/path`) and stops at the next
  `<|file_sep|>`.
- `zeta` (Zed's Zeta, a Qwen2.5-Coder-7B fine-tune): an instruction, the recent edits
  as unified diffs, then an excerpt of the file with an editable region between
  `<|editable_region_start|>` and `<|editable_region_end|>` and the cursor as
  `<|user_cursor_is_here|>`; the model writes the editable region again, rewritten.

Placeholders: `{path}`, `{text}` (a context file), `{before}` / `{after}` (a change's
lines), `{diff}` (a change as a unified diff), and in `layout` `{files}`, `{history}`,
`{original}`, `{current}` (the window), `{above}` / `{below}` (unedited context lines
around it, Zeta only).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NextEditFormat:
    name: str
    layout: str
    file_block: str  # one related snippet; "" = this format shows none
    history_block: str  # one recent change
    window_above: int  # editable lines above the cursor's line
    window_below: int
    stop: tuple[str, ...]
    context_above: int = 0  # read-only lines shown around the window (Zeta's excerpt)
    context_below: int = 0
    cursor_marker: str = ""  # written into the window at the cursor, when the format has one
    answer_start: str = ""  # the answer's window begins after this (when it is there)
    answer_end: str = ""  # ... and ends before this
    markers: tuple[str, ...] = ()  # substrings of a model name that pick this format
    file_start_marker: str = ""  # written before the excerpt when it starts the file


SWEEP = NextEditFormat(
    name="sweep",
    layout=(
        "{files}{history}"
        "<|file_sep|>original/{path}\n{original}\n"
        "<|file_sep|>current/{path}\n{current}\n"
        "<|file_sep|>updated/{path}\n"
    ),
    file_block="<|file_sep|>{path}\n{text}\n",
    history_block="<|file_sep|>{path}.diff\noriginal:\n{before}\nupdated:\n{after}\n",
    window_above=10,
    window_below=10,
    stop=("<|file_sep|>", "<|endoftext|>", "<|im_end|>", "<|fim_pad|>"),
    markers=("sweep", "next-edit", "nextedit"),
)

ZETA_INSTRUCTION = (
    "### Instruction:\n"
    "You are a code completion assistant and your task is to analyze user edits and then "
    "rewrite an excerpt that the user provides, suggesting the appropriate edits within "
    "the excerpt, taking into account the cursor location.\n\n"
)

ZETA = NextEditFormat(
    name="zeta",
    layout=(
        ZETA_INSTRUCTION + "### User Edits:\n\n{history}"
        "### User Excerpt:\n\n```{path}\n{above}<|editable_region_start|>\n{current}\n"
        "<|editable_region_end|>\n{below}```\n\n### Response:\n"
    ),
    file_block="",
    history_block='User edited "{path}":\n```diff\n{diff}\n```\n\n',
    window_above=5,
    window_below=5,
    context_above=10,
    context_below=10,
    stop=("<|editable_region_end|>", "<|endoftext|>", "<|im_end|>"),
    cursor_marker="<|user_cursor_is_here|>",
    answer_start="<|editable_region_start|>\n",
    answer_end="<|editable_region_end|>",
    markers=("zeta",),
    file_start_marker="<|start_of_file|>\n",
)

FORMATS: dict[str, NextEditFormat] = {f.name: f for f in (SWEEP, ZETA)}
DEFAULT_FORMAT = "sweep"


def choose_format(setting: str, model_name: str) -> NextEditFormat:
    """`nextEdit.format` when it names one, else the format the model's name says,
    else Sweep's (a Qwen2.5-Coder layout, the nearest to what a coder model knows)."""
    if setting in FORMATS:
        return FORMATS[setting]
    lowered = model_name.lower()
    for candidate in FORMATS.values():
        if any(marker in lowered for marker in candidate.markers):
            return candidate
    return FORMATS[DEFAULT_FORMAT]
