"""Prompt stage: FIM templates as data, windows cut at line boundaries within budget."""

from __future__ import annotations

import pytest

from lsp_server.context.cursor import CursorContext, Snippet
from lsp_server.prompt.budget import EstimatingTokenizer
from lsp_server.prompt.build import (
    PromptBudget,
    build_prompt,
    cut_prefix_window,
    cut_suffix_window,
)
from lsp_server.prompt.templates import TEMPLATES, choose_template, detect_template


class LineTokenizer:
    """One token per line (plus one for a partial line): makes budgets exact to read."""

    def count_tokens(self, text: str) -> int:
        return text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def test_prefix_window_keeps_whole_lines_nearest_the_cursor() -> None:
    prefix = "".join(f"line{i}\n" for i in range(10)) + "    cur"
    assert cut_prefix_window(prefix, 3, LineTokenizer()) == "line8\nline9\n    cur"


def test_suffix_window_keeps_the_rest_of_the_line_and_whole_lines() -> None:
    suffix = "tail\n" + "".join(f"after{i}\n" for i in range(10))
    assert cut_suffix_window(suffix, 3, LineTokenizer()) == "tail\nafter0\nafter1\n"


def test_the_cursor_line_survives_a_zero_budget() -> None:
    assert cut_prefix_window("a\nb\n  partial", 0, LineTokenizer()) == "  partial"
    assert cut_suffix_window("rest\nmore\n", 0, LineTokenizer()) == "rest\n"


def test_the_window_costs_follow_the_window_not_the_file() -> None:
    huge = "x = 1\n" * 200_000 + "y"
    assert cut_prefix_window(huge, 30, EstimatingTokenizer()).count("\n") < 30


@pytest.mark.parametrize(
    ("name", "rendered"),
    [
        ("qwen", "<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>"),
        ("deepseek", "<｜fim▁begin｜>P<｜fim▁hole｜>S<｜fim▁end｜>"),
        ("starcoder", "<fim_prefix><fim_suffix>S<fim_middle>P"),
        ("starcoder-psm", "<fim_prefix>P<fim_suffix>S<fim_middle>"),
        ("codellama", "<PRE> P <SUF>S <MID>"),
        ("codestral", "[SUFFIX]S[PREFIX]P"),
        ("codegemma", "<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>"),
    ],
)
def test_each_family_renders_its_layout(name: str, rendered: str) -> None:
    assert TEMPLATES[name].render("P", "S") == rendered
    assert TEMPLATES[name].stop


@pytest.mark.parametrize(
    ("hint", "family"),
    [
        ("qwen2.5-coder-1.5b", "qwen"),
        ("deepseek-coder-6.7b-base.Q4_K_M.gguf", "deepseek"),
        ("bigcode/starcoder2-3b", "starcoder"),
        ("codellama:7b-code", "codellama"),
        ("codestral-22b", "codestral"),
        ("codegemma-2b", "codegemma"),
        ("<fim_prefix>", "starcoder"),
    ],
)
def test_family_detection_from_names_and_fim_tokens(hint: str, family: str) -> None:
    found = detect_template(hint)
    assert found is not None and found.name == family


def test_setting_beats_detection_and_qwen_is_the_fallback() -> None:
    assert choose_template("starcoder", "qwen2.5-coder").name == "starcoder"
    assert choose_template("auto", "", "deepseek-coder").name == "deepseek"
    assert choose_template("auto", "mystery-model").name == "qwen"


def test_prompt_within_budget_with_snippets_in_the_family_format() -> None:
    context = CursorContext(
        uri="file:///a.py",
        path="/a.py",
        language_id="python",
        version=1,
        prefix="".join(f"p{i}\n" for i in range(50)) + "x = ",
        suffix="\n".join(f"s{i}" for i in range(50)),
        snippets=(Snippet("/b.py", "def helper():\n    pass\n"),),
    )
    budget = PromptBudget(max_prompt_tokens=20, psm_suffix_share=0.25, snippet_share=0.25)
    prompt = build_prompt(context, TEMPLATES["qwen"], budget, LineTokenizer())
    assert prompt.text.startswith("<|file_sep|>/b.py\ndef helper():\n    pass\n<|file_sep|>/a.py\n")
    assert prompt.prefix.endswith("p49\nx = ") and prompt.prefix.startswith("p")
    assert prompt.suffix.startswith("s0\ns1\n")
    assert prompt.estimated_tokens <= 20 + 4  # the template's own markers
    assert prompt.snippets == context.snippets
