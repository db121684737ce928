"""Build a fill-in-the-middle prompt within a token budget.

The windows are cut at line boundaries, outward from the cursor: the line the cursor
is on is always kept whole on both sides; whole lines are added until the budget is
spent. The prefix gets most of the budget because it predicts the middle better; the
suffix's unused share goes back to the prefix.

The layout is made for KV caches (the embedded engine, llama-server's `cache_prompt`,
vLLM prefix caching), which reuse the longest common token prefix of consecutive
prompts. Between two keystrokes only the text at the cursor changes, so a prompt keeps
its cache when everything rendered before the cursor is the same as last time:

- neighbour snippets first, in a fixed order (by path, then text), so a re-ranking of
  the same snippets does not move them;
- the prefix window's first line is anchored to a grid of `ANCHOR_LINES` document
  lines: cut from the cursor backwards, the start would move down a line for every
  line's worth of tokens typed and invalidate the whole window each time; snapped
  forward to a grid line it moves once per `ANCHOR_LINES` lines (and always stays
  within the budget);
- the suffix: with a suffix-first (SPM) template it comes before the prefix and stays
  cached while the user types; with a prefix-first (PSM) template it follows the
  cursor and is evaluated again on every keystroke, so it is kept to the nearest lines
  (`psm_suffix_share`), which say most about where the middle ends; when the whole
  prefix fits, what it leaves of the budget goes to the suffix;
- after a jump: the lines next to the cursor are new to the cache whatever the layout,
  and what they cost is what the user waits for. So in a document asked for before
  (`CursorContext.seen_before`), when the prefix does not fit whole and the backend
  measured its prompt speed, the window next to the cursor is kept to what the
  backend reads in `JUMP_PROMPT_S` (`PromptBudget.near_tokens`) and the rest of the
  prefix budget holds the file's first lines, rendered as a context file of its own
  before the neighbour snippets: the head stays in the cache from one jump to the
  next (also when the snippets are chosen again), only the near window (with the
  scope headers) and the suffix are new. The
  first request in a document keeps one window (nothing of it is cached yet, and a
  one-shot request loses no context).
"""

from __future__ import annotations

from dataclasses import dataclass

from lsp_server.context.cursor import CursorContext, Snippet
from lsp_server.prompt.budget import Tokenizer
from lsp_server.prompt.templates import FimTemplate

# The prefix window starts on a document line whose number is a multiple of this.
ANCHOR_LINES = 4
# A head smaller than this is not worth its own file block: one window instead.
MIN_HEAD_TOKENS = 64


@dataclass(frozen=True)
class PromptBudget:
    max_prompt_tokens: int = 1536
    suffix_share: float = 0.25  # suffix-first (SPM) templates: the suffix stays cached
    snippet_share: float = 0.25  # of the whole prompt, when there are snippets
    # Prefix-first (PSM) templates: the suffix is re-evaluated on every keystroke.
    psm_suffix_share: float = 0.07
    anchor_lines: int = ANCHOR_LINES
    # After a jump: the window next to the cursor, in tokens (None: one window).
    near_tokens: int | None = None


@dataclass(frozen=True)
class Prompt:
    text: str  # the rendered prompt for raw-completion endpoints
    prefix: str  # the windowed prefix, for backends with native FIM (/infill, Ollama)
    suffix: str
    template: FimTemplate
    snippets: tuple[Snippet, ...]
    estimated_tokens: int
    # The text ends inside the cursor's line: a backend that can should let the model
    # write the last word again (`backends/token_healing.py`) rather than go on after it.
    heal_last_word: bool = False

    @property
    def stop(self) -> tuple[str, ...]:
        return self.template.stop


def cut_prefix_window(prefix: str, budget: int, tokenizer: Tokenizer, anchor_lines: int = 1) -> str:
    """The longest tail of `prefix` made of whole lines (plus the cursor's partial line)
    that fits `budget` tokens and, when it does not start at the top of the file, starts
    on a line whose number is a multiple of `anchor_lines` (or on the cursor's line).
    Works from the end, so its token counting follows the window, not the file."""
    start = prefix.rfind("\n") + 1
    used = tokenizer.count_tokens(prefix[start:])
    while start > 0:
        line_start = prefix.rfind("\n", 0, start - 1) + 1
        cost = tokenizer.count_tokens(prefix[line_start:start])
        if used + cost > budget:
            break
        used += cost
        start = line_start
    if start > 0 and anchor_lines > 1:
        # Snap forward to the next grid line: the start stays put while typing moves the
        # cursor, instead of creeping down a line at a time.
        for _ in range(-prefix.count("\n", 0, start) % anchor_lines):
            end_of_line = prefix.find("\n", start)
            if end_of_line < 0:
                break
            start = end_of_line + 1
    return prefix[start:]


def cut_suffix_window(suffix: str, budget: int, tokenizer: Tokenizer) -> str:
    """The longest head of `suffix` made of whole lines that fits `budget` tokens; the
    rest of the cursor's line is always kept."""
    end = suffix.find("\n")
    if end < 0:
        return suffix
    end += 1
    used = tokenizer.count_tokens(suffix[:end])
    while end < len(suffix):
        line_end = suffix.find("\n", end)
        line_end = len(suffix) if line_end < 0 else line_end + 1
        cost = tokenizer.count_tokens(suffix[end:line_end])
        if used + cost > budget:
            break
        used += cost
        end = line_end
    return suffix[:end]


def render_snippets(
    snippets: tuple[Snippet, ...], template: FimTemplate, budget: int, tokenizer: Tokenizer
) -> tuple[str, tuple[Snippet, ...]]:
    """Snippets in the template's file format within `budget`: chosen most relevant
    first, rendered in a fixed order (path, then text) so that the same snippets ranked
    differently after a keystroke give the same text, which a KV cache keeps."""
    blocks: list[tuple[Snippet, str]] = []
    used = 0
    for snippet in snippets:
        header = (template.file_header or "# {path}\n").format(path=snippet.path)
        block = header + snippet.text.rstrip("\n") + "\n"
        cost = tokenizer.count_tokens(block)
        if used + cost > budget:
            continue
        blocks.append((snippet, block))
        used += cost
    blocks.sort(key=lambda item: (item[0].path, item[0].text))
    return "".join(block for _, block in blocks), tuple(snippet for snippet, _ in blocks)


def scope_lines(context: CursorContext, window_start: int) -> str:
    """The enclosing scopes' headers that start above the prefix window, one per line."""
    above = [scope.text for scope in context.scopes if scope.start < window_start]
    return "".join(text + "\n" for text in above)


def window_with_scopes(
    context: CursorContext, budget: int, tokenizer: Tokenizer, anchor_lines: int
) -> tuple[str, int]:
    """The prefix window within `budget`, led by the headers of the enclosing scopes
    that start above it; and where the window starts in `context.prefix`."""
    window = cut_prefix_window(context.prefix, budget, tokenizer, anchor_lines)
    headers = scope_lines(context, len(context.prefix) - len(window))
    if headers:
        # Enclosing signatures far above the window go first, as a prefix of the prefix.
        budget_left = budget - tokenizer.count_tokens(headers)
        window = cut_prefix_window(context.prefix, max(budget_left, 0), tokenizer, anchor_lines)
        headers = scope_lines(context, len(context.prefix) - len(window))
    return headers + window, len(context.prefix) - len(window)


def cut_head(prefix: str, budget: int, tokenizer: Tokenizer) -> str:
    """The longest head of `prefix` made of whole lines that fits `budget` tokens."""
    end = 0
    used = 0
    while True:
        line_end = prefix.find("\n", end)
        if line_end < 0:
            return prefix[:end]
        cost = tokenizer.count_tokens(prefix[end : line_end + 1])
        if used + cost > budget:
            return prefix[:end]
        used += cost
        end = line_end + 1


def head_and_near(
    context: CursorContext,
    head_budget: int,
    near_tokens: int,
    tokenizer: Tokenizer,
    anchor_lines: int,
) -> tuple[str, str] | None:
    """After a jump: the file's first lines (the head, the same from one jump to the
    next) and the window next to the cursor within `near_tokens`, with its scope
    headers. None when the head would be too small or the two would meet (then one
    window holds them)."""
    if head_budget < MIN_HEAD_TOKENS:
        return None
    head = cut_head(context.prefix, head_budget, tokenizer)
    near, start = window_with_scopes(context, near_tokens, tokenizer, anchor_lines)
    if not head or start <= len(head):
        return None
    return head, near


def build_prompt(
    context: CursorContext, template: FimTemplate, budget: PromptBudget, tokenizer: Tokenizer
) -> Prompt:
    snippet_budget = int(budget.max_prompt_tokens * budget.snippet_share)
    snippet_text, snippets = render_snippets(context.snippets, template, snippet_budget, tokenizer)
    remaining = budget.max_prompt_tokens - tokenizer.count_tokens(snippet_text)
    share = budget.suffix_share if template.long_suffix else budget.psm_suffix_share
    suffix_budget = int(remaining * share)
    suffix = cut_suffix_window(context.suffix, suffix_budget, tokenizer)
    prefix_budget = remaining - tokenizer.count_tokens(suffix)
    anchor = budget.anchor_lines
    prefix, start = window_with_scopes(context, prefix_budget, tokenizer, anchor)
    head = ""
    if start > 0 and context.seen_before and budget.near_tokens is not None:
        # The head's budget must not follow the suffix's length (it changes with every
        # move): from the suffix's budget, so the head stays the same lines.
        head_budget = remaining - suffix_budget - budget.near_tokens
        split = head_and_near(context, head_budget, budget.near_tokens, tokenizer, anchor)
        if split is not None:
            head, prefix = split
    if len(prefix) == len(context.prefix) and len(suffix) < len(context.suffix):
        # The whole prefix fits (a small file, the cursor near its top): the budget it
        # leaves goes to the suffix. A real 0.5B model shown three lines of the code
        # after the cursor instead of the whole function writes different code
        # (HumanEval/63: `if n == 3:` where the rest of the function says `if n == 0:`)
        # and cannot rejoin it. The window still cannot move while typing mid-file:
        # there the prefix never fits whole.
        spare = prefix_budget - tokenizer.count_tokens(prefix)
        suffix = cut_suffix_window(
            context.suffix, tokenizer.count_tokens(suffix) + spare, tokenizer
        )
    if head:
        # The file's first lines, as a context file of their own, first: they stay
        # cached, also when the neighbour snippets are chosen again.
        header = (template.file_header or "# {path}\n").format(path=context.path)
        snippet_text = header + head + snippet_text
        snippets = (Snippet(context.path, head), *snippets)
    if snippet_text and template.file_header is not None:
        # The current file gets its own header after the others, as in training data.
        snippet_text += template.file_header.format(path=context.path)
    text = template.render(prefix, suffix, snippet_text, context.language_id)
    return Prompt(
        text=text,
        prefix=prefix,
        suffix=suffix,
        template=template,
        snippets=snippets,
        estimated_tokens=tokenizer.count_tokens(text),
    )
