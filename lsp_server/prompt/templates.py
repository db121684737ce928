"""Fill-in-the-middle templates per model family, as data.

A template is the string layout plus the tokens that end a middle. Adding a model
family means adding a row here, never a code branch elsewhere. Snippets from other
files use the family's file separator where it has one (Qwen2.5-Coder's repo-level
format, StarCoder2's `<file_sep>`), else a comment header.

The layout also fixes the order of prefix and suffix, which decides what a KV cache
(llama.cpp, vLLM prefix caching, the embedded engine) can keep between keystrokes:
typing inserts before the cursor, so everything rendered after the prefix is new on
every keystroke. Suffix-prefix-middle (SPM) renders the suffix before the prefix, so a
keystroke only re-evaluates the end of the prefix; prefix-suffix-middle (PSM)
re-evaluates the whole suffix window (the prompt builder keeps that window short).
A template uses SPM only where its models were trained on it:

- StarCoder / StarCoder2 / SantaCoder (BigCode's Megatron-LM FIM, SPM rate 0.5): SPM is
  `<fim_prefix><fim_suffix>{suffix}<fim_middle>{prefix}` (FIM paper's variant 2), prefix
  and suffix tokenized separately as in PSM. `starcoder-psm` keeps their PSM form.
- Codestral: SPM only (`[SUFFIX]{suffix}[PREFIX]{prefix}`).
- Qwen2.5-Coder and DeepSeek-Coder: trained on PSM only. CodeLlama was trained on both,
  but its SPM tokenizes prefix and middle together, so a cursor inside a word needs
  token healing (Code Llama paper, appendix): PSM. CodeGemma: PSM (no published SPM
  string).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FimTemplate:
    name: str
    layout: str  # with {prefix} and {suffix}
    stop: tuple[str, ...]
    # Marks the beginning of a context file: "{path}" is replaced by its name.
    file_header: str | None = None
    # Substrings of a model name or of its GGUF FIM-token text that identify the family.
    markers: tuple[str, ...] = ()

    @property
    def suffix_first(self) -> bool:
        """SPM: the suffix comes before the prefix, so it stays cached while typing."""
        return self.layout.index("{suffix}") < self.layout.index("{prefix}")

    def render(self, prefix: str, suffix: str, context: str = "") -> str:
        return context + self.layout.format(prefix=prefix, suffix=suffix)


TEMPLATES: dict[str, FimTemplate] = {
    template.name: template
    for template in (
        FimTemplate(
            name="qwen",
            layout="<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
            stop=(
                "<|endoftext|>",
                "<|fim_prefix|>",
                "<|fim_suffix|>",
                "<|fim_middle|>",
                "<|fim_pad|>",
                "<|file_sep|>",
                "<|repo_name|>",
                "<|im_end|>",
            ),
            file_header="<|file_sep|>{path}\n",
            markers=("qwen",),
        ),
        FimTemplate(
            name="deepseek",
            layout="<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>",
            stop=(
                "<｜end▁of▁sentence｜>",
                "<｜fim▁begin｜>",
                "<｜fim▁hole｜>",
                "<｜fim▁end｜>",
                "<|EOT|>",
            ),
            markers=("deepseek", "fim▁begin"),
        ),
        FimTemplate(
            name="starcoder",
            layout="<fim_prefix><fim_suffix>{suffix}<fim_middle>{prefix}",
            stop=("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
            file_header="<file_sep>{path}\n",
            markers=("starcoder", "<fim_prefix>"),
        ),
        FimTemplate(
            name="starcoder-psm",  # only by name (`backend.fimTemplate`)
            layout="<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
            stop=("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
            file_header="<file_sep>{path}\n",
        ),
        FimTemplate(
            name="codellama",
            layout="<PRE> {prefix} <SUF>{suffix} <MID>",
            stop=("<EOT>", "</s>", "<PRE>", "<SUF>", "<MID>"),
            markers=("codellama", "code-llama", "<PRE>"),
        ),
        FimTemplate(
            name="codestral",
            layout="[SUFFIX]{suffix}[PREFIX]{prefix}",
            stop=("</s>", "[PREFIX]", "[SUFFIX]", "[MIDDLE]"),
            markers=("codestral", "[PREFIX]"),
        ),
        FimTemplate(
            name="codegemma",
            layout="<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
            stop=(
                "<|file_separator|>",
                "<|fim_prefix|>",
                "<|fim_suffix|>",
                "<|fim_middle|>",
                "<eos>",
            ),
            file_header="<|file_separator|>{path}\n",
            markers=("codegemma",),
        ),
    )
}

DEFAULT_TEMPLATE = "qwen"


def detect_template(hint: str) -> FimTemplate | None:
    """The template whose marker occurs in `hint` (a model name, a GGUF file name, or
    the text of the model's FIM-prefix token), or None when nothing matches."""
    lowered = hint.lower()
    for template in TEMPLATES.values():
        if any(marker.lower() in lowered for marker in template.markers):
            return template
    return None


def choose_template(setting: str, *hints: str) -> FimTemplate:
    """`fimTemplate` when it names one, else the first hint that identifies a family,
    else Qwen's (the default model's)."""
    if setting in TEMPLATES:
        return TEMPLATES[setting]
    for hint in hints:
        found = detect_template(hint) if hint else None
        if found is not None:
            return found
    return TEMPLATES[DEFAULT_TEMPLATE]
