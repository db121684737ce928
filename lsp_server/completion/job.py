"""Turn a document snapshot and a cursor into a `CompletionJob` (pure)."""

from __future__ import annotations

import dataclasses

from lsp_server.backends.base import Backend, PromptFacts
from lsp_server.completion.generation import CompletionJob
from lsp_server.completion.latency import LatencyPlan
from lsp_server.context.cursor import CursorContext
from lsp_server.context.hygiene import clean_context, mask_secrets
from lsp_server.postprocess import CutLimits, decide_multiline
from lsp_server.prompt.blank_line import prompted_context, typed_indentation
from lsp_server.prompt.budget import (
    EstimatingTokenizer,
    affordable_near_tokens,
    affordable_prompt_tokens,
)
from lsp_server.prompt.build import PromptBudget, build_prompt
from lsp_server.prompt.templates import FimTemplate, choose_template
from lsp_server.settings import Settings


def template_for(settings: Settings, facts: PromptFacts) -> FimTemplate:
    return choose_template(settings.backend.fim_template, facts.template_hint, facts.model_name)


def build_job(
    context: CursorContext,
    settings: Settings,
    backend: Backend,
    streaming: bool,
    plan: LatencyPlan | None = None,
) -> CompletionJob:
    """`plan` is the latency controller's choice; without one, the settings' own values.
    (The plan's debounce is the lifecycle's to wait out, before the job is built.)"""
    completion = settings.completion
    facts = backend.prompt_facts()
    line_prefix = context.prefix.rsplit("\n", 1)[-1]
    template = template_for(settings, facts).at_cursor(line_prefix, facts.heals_words)
    tokenizer = facts.tokenizer or EstimatingTokenizer()
    # The embedded engine measures how fast it reads prompts: the budget fits a CPU.
    speed = facts.prompt_tokens_per_s
    timeout_s = completion.timeout_ms / 1000
    budget = PromptBudget(
        affordable_prompt_tokens(completion.prompt_tokens, speed, timeout_s),
        near_tokens=affordable_near_tokens(speed),
    )
    prompt = build_prompt(clean_context(prompted_context(context)), template, budget, tokenizer)
    # Keys in the text are masked before the prompt can leave the machine.
    prompt = dataclasses.replace(
        prompt, text=mask_secrets(prompt.text), heal_last_word=template.heals(line_prefix)
    )
    if plan is None:
        plan = LatencyPlan(0.0, completion.max_tokens, completion.multiline)
    rejoin = plan.multiline == "rejoin"  # short answers wanted: `block_fit.py`
    setting = "auto" if rejoin else plan.multiline
    multiline = decide_multiline(context.prefix, context.suffix, setting)
    syntax = context.multiline  # the syntax tree knows (empty block, mid-expression)
    if setting == "auto" and syntax is not None:
        multiline = syntax
        rejoin = rejoin and not syntax  # an empty block needs its body: all of it
    # What the prompt saw of a line holding only indentation (`prompt/blank_line.py`).
    column_zero = bool(typed_indentation(context.prefix, context.suffix, context.language_id))
    return CompletionJob(
        context=context,
        prompt=prompt,
        limits=CutLimits(
            multiline,
            completion.max_lines,
            template.stop,
            context.language_id,
            rejoin,
            column_zero_prompt=column_zero,
        ),
        max_tokens=plan.max_tokens,
        timeout_s=completion.timeout_ms / 1000,
        temperature=completion.temperature,
        streaming=streaming,
    )
