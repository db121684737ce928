"""Fill-in-the-middle templates per model family, as data.

A template is the string layout plus the tokens that end a middle. Adding a model
family means adding a row here, never a code branch elsewhere. Snippets from other
files use the family's file separator where it has one (Qwen2.5-Coder's repo-level
format, StarCoder2's `<file_sep>`), else a comment header.
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
            layout="<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
            stop=("<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"),
            file_header="<file_sep>{path}\n",
            markers=("starcoder", "<fim_prefix>"),
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
