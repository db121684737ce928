"""Chat prompts per action, as data: a system and a user template each.

Templates use `str.format` fields; every optional part (signatures, neighbours,
diagnostics, instruction) is rendered as a whole section or as nothing, so a template
never shows an empty heading. `build_messages` is the only code here.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsp_server.actions.catalogue import ActionKind
from lsp_server.context.cursor import Snippet
from lsp_server.prompt.messages import ChatMessage

_CODE_ONLY = (
    "Reply with the complete replacement code in one fenced code block and nothing "
    "else: no explanation before or after it."
)

SYSTEM = {
    ActionKind.EXPLAIN: (
        "You are an expert {language} programmer explaining code to a colleague. "
        "Answer in concise Markdown: what the code does, how, and anything surprising."
    ),
    ActionKind.FIX: (
        "You are an expert {language} programmer fixing bugs. Change only what the "
        "problems require and keep the code's style. " + _CODE_ONLY
    ),
    ActionKind.DOCUMENT: (
        "You are an expert {language} programmer writing documentation. Add or improve "
        "the docstrings / doc comments in the idiomatic style for {language}; do not "
        "change behaviour. " + _CODE_ONLY
    ),
    ActionKind.EDIT: (
        "You are an expert {language} programmer editing code as instructed. Keep "
        "everything the instruction does not ask to change. " + _CODE_ONLY
    ),
    ActionKind.TESTS: (
        "You are an expert {language} programmer writing unit tests with {framework}. "
        "Cover normal cases and edge cases. {placement} Reply with the test code in one "
        "fenced code block and nothing else."
    ),
}

USER = {
    ActionKind.EXPLAIN: "Explain this code from `{path}`:{signatures}\n\n{code}{neighbours}{extra}",
    ActionKind.FIX: "Fix this code from `{path}`.{diagnostics}{signatures}\n\n{code}{neighbours}"
    "{extra}",
    ActionKind.DOCUMENT: "Document this code from `{path}`:{signatures}\n\n{code}{neighbours}"
    "{extra}",
    ActionKind.EDIT: "Instruction: {instruction}\n\nCode from `{path}`:{signatures}\n\n{code}"
    "{neighbours}",
    ActionKind.TESTS: "Write tests for this code from `{path}` (tests go in `{test_path}`):"
    "{signatures}\n\n{code}{existing}{neighbours}{extra}",
}


@dataclass(frozen=True)
class ActionPrompt:
    """Everything a prompt may carry, snapshotted when the action starts."""

    kind: ActionKind
    language: str
    path: str
    code: str
    signatures: tuple[str, ...] = ()
    neighbours: tuple[Snippet, ...] = ()
    diagnostics: tuple[str, ...] = ()
    instruction: str = ""
    framework: str = ""
    test_path: str = ""
    test_placement: str = ""
    existing_tests: str = ""


def fence(text: str, language: str) -> str:
    ticks = "````" if "```" in text else "```"
    return f"{ticks}{language}\n{text.rstrip()}\n{ticks}"


def _section(title: str, body: str) -> str:
    return f"\n\n{title}\n{body}" if body else ""


def build_messages(prompt: ActionPrompt) -> tuple[ChatMessage, ...]:
    language = prompt.language or "the same language"
    fields = {
        "language": language,
        "framework": prompt.framework or "the usual test framework",
        "placement": prompt.test_placement,
        "path": prompt.path,
        "code": fence(prompt.code, prompt.language),
        "instruction": prompt.instruction,
        "test_path": prompt.test_path,
        "signatures": _section(
            "It is inside:", "\n".join(f"    {s.strip()}" for s in prompt.signatures)
        ),
        "diagnostics": _section(
            "Problems reported:", "\n".join(f"- {d}" for d in prompt.diagnostics)
        ),
        "existing": _section(
            "The test file already has (extend it, do not repeat it):",
            fence(prompt.existing_tests, prompt.language) if prompt.existing_tests else "",
        ),
        "extra": _section("Also:", prompt.instruction),
        "neighbours": "".join(
            _section(f"Related code from `{s.path}`:", fence(s.text, prompt.language))
            for s in prompt.neighbours
        ),
    }
    return (
        ChatMessage("system", SYSTEM[prompt.kind].format(**fields)),
        ChatMessage("user", USER[prompt.kind].format(**fields)),
    )
