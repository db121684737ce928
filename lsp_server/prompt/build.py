"""Build a fill-in-the-middle prompt within a token budget.

The windows are cut at line boundaries, outward from the cursor: the line the cursor
is on is always kept whole on both sides; whole lines are added until the budget is
spent. The prefix gets most of the budget because it predicts the middle better; the
suffix's unused share goes back to the prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsp_server.context.cursor import CursorContext, Snippet
from lsp_server.prompt.budget import Tokenizer
from lsp_server.prompt.templates import FimTemplate


@dataclass(frozen=True)
class PromptBudget:
    max_prompt_tokens: int = 1536
    suffix_share: float = 0.25
    snippet_share: float = 0.25  # of the whole prompt, when there are snippets


@dataclass(frozen=True)
class Prompt:
    text: str  # the rendered prompt for raw-completion endpoints
    prefix: str  # the windowed prefix, for backends with native FIM (/infill, Ollama)
    suffix: str
    template: FimTemplate
    snippets: tuple[Snippet, ...]
    estimated_tokens: int

    @property
    def stop(self) -> tuple[str, ...]:
        return self.template.stop


def cut_prefix_window(prefix: str, budget: int, tokenizer: Tokenizer) -> str:
    """The longest tail of `prefix` made of whole lines (plus the cursor's partial line)
    that fits `budget` tokens. Works from the end, so its cost follows the window, not
    the file."""
    start = prefix.rfind("\n") + 1
    used = tokenizer.count_tokens(prefix[start:])
    while start > 0:
        line_start = prefix.rfind("\n", 0, start - 1) + 1
        cost = tokenizer.count_tokens(prefix[line_start:start])
        if used + cost > budget:
            break
        used += cost
        start = line_start
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
    """Snippets in the template's file format, most relevant first, within `budget`."""
    parts: list[str] = []
    kept: list[Snippet] = []
    used = 0
    for snippet in snippets:
        header = (template.file_header or "# {path}\n").format(path=snippet.path)
        block = header + snippet.text.rstrip("\n") + "\n"
        cost = tokenizer.count_tokens(block)
        if used + cost > budget:
            continue
        parts.append(block)
        kept.append(snippet)
        used += cost
    return "".join(parts), tuple(kept)


def scope_lines(context: CursorContext, window_start: int) -> str:
    """The enclosing scopes' headers that start above the prefix window, one per line."""
    above = [scope.text for scope in context.scopes if scope.start < window_start]
    return "".join(text + "\n" for text in above)


def build_prompt(
    context: CursorContext, template: FimTemplate, budget: PromptBudget, tokenizer: Tokenizer
) -> Prompt:
    snippet_budget = int(budget.max_prompt_tokens * budget.snippet_share)
    snippet_text, snippets = render_snippets(context.snippets, template, snippet_budget, tokenizer)
    remaining = budget.max_prompt_tokens - tokenizer.count_tokens(snippet_text)
    suffix = cut_suffix_window(context.suffix, int(remaining * budget.suffix_share), tokenizer)
    prefix_budget = remaining - tokenizer.count_tokens(suffix)
    prefix = cut_prefix_window(context.prefix, prefix_budget, tokenizer)
    headers = scope_lines(context, len(context.prefix) - len(prefix))
    if headers:
        # Enclosing signatures far above the window go first, as a prefix of the prefix.
        budget_left = prefix_budget - tokenizer.count_tokens(headers)
        window = cut_prefix_window(context.prefix, max(budget_left, 0), tokenizer)
        prefix = scope_lines(context, len(context.prefix) - len(window)) + window
    if snippet_text and template.file_header is not None:
        # The current file gets its own header after the others, as in training data.
        snippet_text += template.file_header.format(path=context.path)
    text = template.render(prefix, suffix, snippet_text)
    return Prompt(
        text=text,
        prefix=prefix,
        suffix=suffix,
        template=template,
        snippets=snippets,
        estimated_tokens=tokenizer.count_tokens(text),
    )
