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

An instruct model is another matter (`qwen-chat`, chosen for a Qwen model whose name
says `instruct`): Qwen2.5-Coder-0.5B-Instruct fills a FIM hole like a weak base model,
but goes on with code it is shown as the start of its own chat answer much better. The
real-model bench (issue #19, HumanEval holes through the server, default settings):
multi-line 24 % → 37 % (held out 40 % → 47 %), single-line 60 % → 66 % (held out
58 % → 68 %), where a bare FIM prompt with a first-line cut passes 26 % and 59 %. So the
user's message shows the code after the cursor, and the assistant's answer starts with
a code fence and the code before it: the model writes the middle as it would write the
rest of a file, and what it writes after the middle is the suffix again, which the cut
finds as it does after a FIM middle. Mid-line the prompt ends inside a word, where no
chat answer ever stops: a backend that can heal it (the embedded engine,
`backends/token_healing.py`) lets the model write that word again; any other gets the
family's FIM template, which goes on inside a word.
The code after the cursor comes first, so while the user types it stays cached, as in
SPM.
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

    @property
    def long_suffix(self) -> bool:
        """The suffix window may be long: nothing re-reads it while the user types."""
        return self.suffix_first

    @property
    def needs_words(self) -> tuple[str, ...]:
        """Words a hint must also contain to identify this template (none for FIM)."""
        return ()

    def at_cursor(self, line_prefix: str, heals_words: bool = False) -> FimTemplate:
        """The template for a cursor after `line_prefix` on its line (this one), for a
        backend that can (`heals_words`) or cannot heal the prompt's last word."""
        return self

    def heals(self, line_prefix: str) -> bool:
        """Whether a prompt ending after `line_prefix` wants its last word healed."""
        return False

    def render(self, prefix: str, suffix: str, context: str = "", language_id: str = "") -> str:
        return context + self.layout.format(prefix=prefix, suffix=suffix)


@dataclass(frozen=True)
class ChatPrefillTemplate(FimTemplate):
    """An instruct model's chat, its answer begun: `layout` has `{request}` (the user's
    message: other files, then the code after the cursor) and `{prefix}` (the code
    before it, after the answer's opening fence). `stop` ends the middle at the
    closing fence or the end of the turn. With text before the cursor on its line, the
    last word is healed (`backends/token_healing.py`) where the backend can, else
    `mid_line` (its family's FIM template) is used."""

    mid_line: str = "qwen"

    def at_cursor(self, line_prefix: str, heals_words: bool = False) -> FimTemplate:
        # FIM training splits text at any character, so a FIM model goes on inside a
        # word or token; a chat answer never stops there, and the model does not: in
        # the real-model replay (`return` typed, then a pause) it wrote `d = w.wrap(…)`,
        # after `def ` a second space. Healed, it writes the word again as it would
        # have. The FIM template instead is a different prompt: switching evicts the
        # whole KV cache (the replay's pauses went from 0.4 to 3.8 s).
        return TEMPLATES[self.mid_line] if line_prefix.strip() and not heals_words else self

    def heals(self, line_prefix: str) -> bool:
        return bool(line_prefix.strip())

    @property
    def suffix_first(self) -> bool:
        return True  # the code after the cursor is in the user's message, before the answer

    @property
    def long_suffix(self) -> bool:
        # After a jump the suffix is read again with the lines before the cursor (it
        # follows the other files and the file's head in the user's message): kept as
        # short as a prefix-first template keeps it, so a jump costs what it did.
        return False

    @property
    def needs_words(self) -> tuple[str, ...]:
        return ("instruct",)

    def render(self, prefix: str, suffix: str, context: str = "", language_id: str = "") -> str:
        fence = "```" + _FENCE_TAGS.get(language_id, language_id)
        # The language by name: the 0.5B model wrote different code for "Complete the
        # code." than for "Complete the Python code." (two of 30 HumanEval holes worse).
        name = _LANGUAGE_NAMES.get(language_id, language_id)
        ask = f"Complete the {name} code." if name else "Complete the code."
        parts = []
        if context:
            parts.append(f"Code from this project:\n```\n{context.rstrip()}\n```\n")
        if suffix.strip():
            code = suffix if suffix.endswith("\n") else suffix + "\n"
            parts.append(f"{ask} The code after the part you write is:\n{fence}\n{code}```")
        else:
            parts.append(ask)
        return self.layout.format(request="\n".join(parts), fence=fence, prefix=prefix)


# LSP language ids whose markdown fence tag or name differs from the id itself.
_FENCE_TAGS = {"javascriptreact": "jsx", "typescriptreact": "tsx", "shellscript": "bash"}
_LANGUAGE_NAMES = {
    "python": "Python",
    "javascript": "JavaScript",
    "javascriptreact": "JavaScript (React)",
    "typescript": "TypeScript",
    "typescriptreact": "TypeScript (React)",
    "java": "Java",
    "csharp": "C#",
    "cpp": "C++",
    "c": "C",
    "go": "Go",
    "rust": "Rust",
    "ruby": "Ruby",
    "php": "PHP",
    "lua": "Lua",
    "kotlin": "Kotlin",
    "swift": "Swift",
    "scala": "Scala",
    "shellscript": "shell",
    "plaintext": "",
}


TEMPLATES: dict[str, FimTemplate] = {
    template.name: template
    for template in (
        ChatPrefillTemplate(
            name="qwen-chat",
            layout=(
                "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
                "assistant.<|im_end|>\n<|im_start|>user\n{request}<|im_end|>\n"
                "<|im_start|>assistant\n{fence}\n{prefix}"
            ),
            stop=(
                "\n```",
                "<|im_end|>",
                "<|endoftext|>",
                "<|im_start|>",
                "<|fim_prefix|>",
                "<|fim_suffix|>",
                "<|fim_middle|>",
                "<|file_sep|>",
            ),
            markers=("qwen",),
        ),
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
        if any(marker.lower() in lowered for marker in template.markers) and all(
            word in lowered for word in template.needs_words
        ):
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
