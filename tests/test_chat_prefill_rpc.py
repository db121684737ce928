"""An instruct Qwen model over `/v1/completions` (issue #19): the server prompts it with
its chat, the answer begun with the code before the cursor (`qwen-chat`), and ends the
suggestion where the model closes its code fence. Real JSON-RPC, the scripted HTTP
model."""

from __future__ import annotations

from pathlib import Path

from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.lsp import openai_options, running_server

URI = "file:///work/area.py"
SOURCE = 'def area(r):\n    """The area of a circle of radius r."""\n\n    return result\n'


async def test_an_instruct_qwen_model_gets_its_chat_and_its_fence_ends_the_suggestion(
    tmp_path: Path,
) -> None:
    answer = "    result = 3.14159 * r * r\n```\n\nThis computes the area of the circle.\n"
    with FakeBackend(Script([Reply(text=answer)])) as backend:
        options = openai_options(backend.url)
        options["backend"]["model"] = "Qwen2.5-Coder-7B-Instruct"
        async with running_server(tmp_path, options) as session:
            session.open(URI, SOURCE)
            result = await session.inline(URI, 2, 0)
            prompt = backend.completion_requests()[0].prompt
    assert [item.insert_text for item in result.items] == ["    result = 3.14159 * r * r"]
    user, begun = prompt.split("<|im_start|>assistant\n")
    assert begun == '```python\ndef area(r):\n    """The area of a circle of radius r."""\n'
    assert "The code after the part you write is:\n```python\n\n    return result\n```" in user


async def test_mid_line_the_instruct_model_gets_the_fim_prompt(tmp_path: Path) -> None:
    """A chat answer never breaks inside a word, and a model prefilled with `ret` goes on
    with `d = …` or `= 0`; FIM training splits anywhere. An HTTP backend cannot heal the
    word (`backends/token_healing.py`): mid-line is FIM's."""
    with FakeBackend(Script([Reply(text="urn result\n")])) as backend:
        options = openai_options(backend.url)
        options["backend"]["model"] = "Qwen2.5-Coder-7B-Instruct"
        async with running_server(tmp_path, options) as session:
            session.open(URI, SOURCE.replace('"""\n\n', '"""\n    ret\n'))
            result = await session.inline(URI, 2, 7)
            prompt = backend.completion_requests()[0].prompt
    assert prompt.startswith("<|fim_prefix|>def area(r):") and "<|im_start|>" not in prompt
    assert [item.insert_text for item in result.items] == ["urn result"]


async def test_a_base_qwen_model_keeps_the_fim_prompt(tmp_path: Path) -> None:
    with FakeBackend(Script([Reply(text="    result = 3.14159 * r * r\n")])) as backend:
        options = openai_options(backend.url)
        options["backend"]["model"] = "Qwen2.5-Coder-7B"
        async with running_server(tmp_path, options) as session:
            session.open(URI, SOURCE)
            await session.inline(URI, 2, 0)
            prompt = backend.completion_requests()[0].prompt
    assert prompt.startswith("<|fim_prefix|>def area(r):") and "<|im_start|>" not in prompt
