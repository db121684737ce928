"""Prompt stage: FIM templates as data, windows cut at line boundaries within budget."""

from __future__ import annotations

import itertools

import pytest

from lsp_server.context.cursor import CursorContext, Snippet
from lsp_server.prompt.budget import EstimatingTokenizer
from lsp_server.prompt.build import (
    ANCHOR_LINES,
    PromptBudget,
    build_prompt,
    cut_prefix_window,
    cut_suffix_window,
)
from lsp_server.prompt.templates import TEMPLATES, choose_template, detect_template
from lsp_server.workspace.document import common_prefix_length


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
        ("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "qwen-chat"),
        ("Qwen/Qwen2.5-Coder-7B-Instruct", "qwen-chat"),
    ],
)
def test_family_detection_from_names_and_fim_tokens(hint: str, family: str) -> None:
    found = detect_template(hint)
    assert found is not None and found.name == family


def test_setting_beats_detection_and_qwen_is_the_fallback() -> None:
    assert choose_template("starcoder", "qwen2.5-coder").name == "starcoder"
    assert choose_template("auto", "", "deepseek-coder").name == "deepseek"
    assert choose_template("auto", "mystery-model").name == "qwen"
    # The embedded engine's first hint is its FIM-prefix token, which names no family.
    instruct = choose_template("auto", "<|fim_prefix|>", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    assert instruct.name == "qwen-chat"
    assert choose_template("qwen", "qwen2.5-coder-0.5b-instruct").name == "qwen"


def test_an_instruct_qwen_goes_on_with_its_own_answer_begun_with_the_code_before_the_cursor() -> (
    None
):
    """The code after the cursor is in the user's message, the code before it starts the
    assistant's answer after a fence: the model writes the middle as the rest of a file,
    and the fence it closes its answer with is a stop."""
    context = CursorContext(
        uri="file:///a.py",
        path="/a.py",
        language_id="python",
        version=1,
        prefix="def area(r):\n    ",
        suffix="\n    return result\n",
        snippets=(Snippet("/b.py", "PI = 3.14159\n"),),
    )
    template = TEMPLATES["qwen-chat"]
    prompt = build_prompt(context, template, PromptBudget(), EstimatingTokenizer())
    user, answer = prompt.text.split("<|im_start|>assistant\n")
    assert answer == "```python\ndef area(r):\n    "
    assert user.startswith("<|im_start|>system\n") and user.endswith("<|im_end|>\n")
    # Other files first (they stay cached), then the code after the cursor, fenced.
    assert user.index("PI = 3.14159") < user.index("Complete the Python code.")
    assert "```python\n\n    return result\n```<|im_end|>" in user
    assert "\n```" in template.stop and "<|im_end|>" in template.stop
    assert template.suffix_first  # typing inserts after everything the suffix is part of
    assert not template.long_suffix  # but a jump reads it again: kept short
    # Where the cursor starts a line, the chat; mid-line, where the backend can heal the
    # last word the chat still (that word healed), else the family's FIM template.
    assert template.at_cursor("    ") is template and template.at_cursor("") is template
    assert not template.heals("    ") and template.heals("    ret")
    assert template.at_cursor("    ret", heals_words=True) is template
    assert template.at_cursor("    ret").name == "qwen"
    assert TEMPLATES["qwen"].at_cursor("    ret").name == "qwen"
    assert not TEMPLATES["qwen"].heals("    ret")
    at_end = template.render("x = 1\n", "", "", "typescriptreact")
    assert at_end.endswith(
        "Complete the TypeScript (React) code.<|im_end|>\n<|im_start|>assistant\n```tsx\nx = 1\n"
    )


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


# --- Layout for KV caches: consecutive keystrokes share the start of the prompt ---

SOURCE = "".join(
    f"def function_{i}(value: int) -> int:\n    total = value * {i} + len(str(value))\n"
    f"    return total - {i}\n\n"
    for i in range(120)
)


def keystroke_prompts(template: str, typed: str, line: int) -> list[str]:
    """The rendered prompt after each character of `typed`, inserted at the start of
    document line `line` (the cursor stays at the end of what was typed)."""
    lines = SOURCE.splitlines(keepends=True)
    before, after = "".join(lines[:line]), "".join(lines[line:])
    prompts = []
    for end in range(1, len(typed) + 1):
        context = CursorContext("file:///a.py", "/a.py", "python", end, before + typed[:end], after)
        prompt = build_prompt(context, TEMPLATES[template], PromptBudget(), EstimatingTokenizer())
        assert prompt.estimated_tokens <= PromptBudget().max_prompt_tokens + 8
        prompts.append(prompt.text)
    return prompts


def shared_shares(prompts: list[str]) -> list[float]:
    """For each keystroke, the share of the prompt (in estimated tokens) that is the
    same text as the previous keystroke's prompt: what a prefix cache keeps."""
    count = EstimatingTokenizer().count_tokens
    return [
        count(new[: common_prefix_length(old, new)]) / count(new)
        for old, new in itertools.pairwise(prompts)
    ]


TYPED = (
    "    result = function_3(total) + function_4(total) * 2\n"
    "    if result > 10:\n"
    "        result -= function_5(result)\n"
    "    elif result < 0:\n"
    "        result = function_6(-result) + 1\n"
    "    return result\n"
)


@pytest.mark.parametrize(("template", "floor"), [("qwen", 0.88), ("starcoder", 0.97)])
def test_consecutive_keystrokes_share_almost_the_whole_prompt(template: str, floor: float) -> None:
    shares = shared_shares(keystroke_prompts(template, TYPED, line=300))
    # Deep in the file the window is full: without anchoring its first line would drop
    # out every few keystrokes and nothing after it would be shared.
    assert sum(shares) / len(shares) >= floor
    # The anchored start crosses a grid line once per ANCHOR_LINES lines typed (cut from
    # the cursor, it would move once per line).
    crossings = TYPED.count("\n") // ANCHOR_LINES + 1
    assert sum(share < 0.5 for share in shares) <= crossings < TYPED.count("\n")


def test_a_prefix_first_template_keeps_its_suffix_short_and_a_suffix_first_one_does_not() -> None:
    context = CursorContext("file:///a.py", "/a.py", "python", 1, SOURCE[:9000], SOURCE[9000:])
    tokens = EstimatingTokenizer().count_tokens
    psm = build_prompt(context, TEMPLATES["qwen"], PromptBudget(), EstimatingTokenizer())
    spm = build_prompt(context, TEMPLATES["starcoder"], PromptBudget(), EstimatingTokenizer())
    assert tokens(psm.suffix) <= 0.07 * 1536 < tokens(spm.suffix) <= 0.25 * 1536
    assert spm.text.index(spm.suffix) < spm.text.index(spm.prefix)
    assert psm.text.index(psm.prefix) < psm.text.index(psm.suffix)


def test_a_prefix_that_fits_whole_leaves_its_budget_to_the_suffix() -> None:
    """A small file (a real model shown three lines of the code after the cursor
    instead of the whole function wrote different code, issue #19)."""
    context = CursorContext(
        "file:///a.py", "/a.py", "python", 1, "p0\np1\n", "".join(f"s{i}\n" for i in range(50))
    )
    budget = PromptBudget(max_prompt_tokens=40)
    prompt = build_prompt(context, TEMPLATES["qwen"], budget, LineTokenizer())
    assert prompt.prefix == "p0\np1\n"
    assert prompt.suffix == "".join(f"s{i}\n" for i in range(38))
    # Where the prefix does not fit (mid-file) the suffix keeps its short window.
    context = CursorContext("file:///a.py", "/a.py", "python", 1, context.suffix, context.suffix)
    prompt = build_prompt(context, TEMPLATES["qwen"], budget, LineTokenizer())
    assert prompt.suffix == "s0\ns1\n"


def test_the_prefix_window_starts_on_a_grid_line_and_stays_there_while_typing() -> None:
    prefix = "".join(f"line{i:03}\n" for i in range(100))  # 100 lines, one token each
    starts = set()
    for partial in ("", "x", "xy\n", "xy\nz", "xy\nz\nw\n", "xy\nz\nw\nv"):
        window = cut_prefix_window(prefix + partial, 40, LineTokenizer(), anchor_lines=8)
        assert LineTokenizer().count_tokens(window) <= 40
        starts.add(window.split("\n", 1)[0])
    # The ideal start moves down with each line typed; the anchored one does not.
    assert starts == {"line064"}
    assert cut_prefix_window(prefix + "x", 40, LineTokenizer()).startswith("line061")


def test_a_window_that_reaches_the_top_of_the_file_is_not_snapped() -> None:
    assert cut_prefix_window("a\nb\nc", 10, LineTokenizer(), anchor_lines=8) == "a\nb\nc"


def test_snippets_render_the_same_whatever_their_ranking() -> None:
    first, second = Snippet("/b.py", "def b():\n    pass\n"), Snippet("/c.py", "def c():\n")
    texts = {
        build_prompt(
            CursorContext("file:///a.py", "/a.py", "python", 1, "x = ", "", ranked),
            TEMPLATES["qwen"],
            PromptBudget(),
            EstimatingTokenizer(),
        ).text
        for ranked in ((first, second), (second, first))
    }
    assert len(texts) == 1


@pytest.mark.parametrize(
    ("name", "suffix_first"),
    [("qwen", False), ("deepseek", False), ("starcoder", True), ("starcoder-psm", False),
     ("codellama", False), ("codestral", True), ("codegemma", False)],
)  # fmt: skip
def test_which_families_put_the_suffix_first(name: str, suffix_first: bool) -> None:
    assert TEMPLATES[name].suffix_first is suffix_first


def _far_down(line: int, seen_before: bool) -> CursorContext:
    lines = [f"line{i}\n" for i in range(200)]
    return CursorContext(
        uri="file:///w/a.py",
        path="/w/a.py",
        language_id="python",
        version=1,
        prefix="".join(lines[:line]) + "    cur",
        suffix="\n" + "".join(lines[line + 1 :]),
        seen_before=seen_before,
    )


def test_after_a_jump_the_prompt_keeps_a_stable_head_and_a_short_window() -> None:
    """In a document asked for before, a jump costs only the window next to the cursor
    (`near_tokens`): the file's first lines lead, the same from one jump to the next."""
    budget = PromptBudget(max_prompt_tokens=100, near_tokens=10)
    here, there = (
        build_prompt(_far_down(line, True), TEMPLATES["qwen"], budget, LineTokenizer())
        for line in (150, 190)
    )
    for prompt in (here, there):
        assert prompt.prefix.endswith("line149\n    cur" if prompt is here else "    cur")
        assert LineTokenizer().count_tokens(prompt.prefix) <= 10
        assert prompt.text.startswith("<|file_sep|>/w/a.py\nline0\nline1\n")
        assert prompt.snippets[0].text.startswith("line0\n")
    head = here.text[: here.text.index("<|fim_prefix|>")]
    assert there.text.startswith(head)
    assert "line80\n" in head and LineTokenizer().count_tokens(here.text) <= 100 + 2


def test_the_first_request_in_a_document_keeps_one_window() -> None:
    budget = PromptBudget(max_prompt_tokens=100, near_tokens=10)
    prompt = build_prompt(_far_down(150, False), TEMPLATES["qwen"], budget, LineTokenizer())
    assert "line0\n" not in prompt.text and not prompt.snippets
    assert LineTokenizer().count_tokens(prompt.prefix) > 80
    # And a backend that did not measure its speed (no `near_tokens`) as well.
    unmeasured = build_prompt(
        _far_down(150, True), TEMPLATES["qwen"], PromptBudget(100), LineTokenizer()
    )
    assert unmeasured.text == prompt.text
