"""A suggestion less indented than the line the editor auto-indented (issue #19, item 4),
over real JSON-RPC: the real server, a real LSP client, the scripted HTTP model.

After a loop's body auto-indent leaves the cursor in the loop; the model writes
`return n` one level out. The item replaces the line's whitespace: its range starts at
the line's start, its text carries the model's indentation (Copilot's shape; VS Code
draws the text after the indentation as ghost text and applies the whole edit)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.support.fake_backend import FakeBackend, Reply, Script, split_tokens
from tests.support.lsp import capabilities, openai_options, running_server, server_env

URI = "file:///work/loop.py"
LOOP = "def f(xs):\n    n = 0\n    for x in xs:\n        n += x\n        \n"
CURSOR = (4, 8)
BACKEND = ("--backend", "openai", "--url")  # the line auto-indent left in the loop's body


def script(text: str, interval_ms: float = 0, **reply: Any) -> Script:
    return Script([Reply(text=text, **reply)], token_interval_ms=interval_ms)


def at(line: int, character: int) -> types.Position:
    return types.Position(line, character)


def applied(source: str, item: types.InlineCompletionItem) -> str:
    lines = source.split("\n")
    assert item.range is not None and item.range.start.line == item.range.end.line
    line = lines[item.range.start.line]
    start, end = item.range.start.character, item.range.end.character
    assert isinstance(item.insert_text, str)
    lines[item.range.start.line] = line[:start] + item.insert_text + line[end:]
    return "\n".join(lines)


async def test_a_line_shallower_than_the_typed_indentation_replaces_it(tmp_path: Path) -> None:
    """Shown (it used to be withheld: an insertion cannot dedent), the stream closed at
    the test code the model goes on with, and applied as the editor applies it: valid
    code."""
    tests = "".join(f"print(f([{k}]))\n" for k in range(40))
    with FakeBackend(script(f"    return n\n\n{tests}", interval_ms=20)) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(URI, LOOP)
            (item,) = (await session.inline(URI, *CURSOR)).items
            sent = backend.completion_requests()[0].tokens_sent
    assert item.insert_text == "    return n"
    assert item.range == types.Range(at(4, 0), at(*CURSOR))
    program = applied(LOOP, item)
    assert "        n += x\n    return n\n" in program
    compile(program, "loop.py", "exec")
    # Up to the first line of the test code (block mode: a complete line that leaves
    # the block ends it), and a few pieces in flight when the cut saw it (the stream
    # is closed from another task).
    assert sent <= len(split_tokens("    return n\n\nprint(f([0]))\n")) + 8, sent


async def test_typing_through_keeps_the_range_from_the_line_start(tmp_path: Path) -> None:
    """`r` typed after the editor's indentation: the finished suggestion serves the
    next request; its item replaces the line so far, `r` included."""
    with FakeBackend(script("    return n\n")) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(URI, LOOP)
            await session.inline(URI, *CURSOR)
            session.type_text(URI, 4, 8, "r")
            (item,) = (await session.inline(URI, 4, 9)).items
            assert len(backend.completion_requests()) == 1
    assert item.insert_text == "    return n"
    assert item.range == types.Range(at(4, 0), at(4, 9))


async def test_streamed_updates_carry_the_items_range(tmp_path: Path) -> None:
    """`else:` one level out of the `if` body the editor indented into, and its body:
    the answer at the first line, then updates, every one over the same range with
    the text from the line's start."""
    source = "def f(x):\n    if x > 0:\n        y = 1\n        \n    return y\n"
    reply = "    else:\n        y = -1\n        y = y * 2\n"
    with FakeBackend(script(reply, interval_ms=40)) as backend:
        options = openai_options(backend.url, streaming=True, multiline="always")
        async with running_server(tmp_path, options) as session:
            session.open(URI, source)
            (item,) = (await session.inline(URI, 3, 8)).items
            await session.wait_until(lambda: any(u["done"] for u in session.updates))
            updates = list(session.updates)
    whole = "line 3, from its start to the cursor"
    assert item.range == types.Range(at(3, 0), at(3, 8)), whole
    assert isinstance(item.insert_text, str) and item.insert_text.startswith("    else:")
    line_start = {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 8}}
    assert updates and all(u["range"] == line_start for u in updates), whole
    assert all(u["text"].startswith("    else:") for u in updates)
    assert updates[-1]["text"] == "    else:\n        y = -1\n        y = y * 2"
    assert updates[-1]["itemId"] == item.command.arguments[0]


async def test_the_completion_fallback_replaces_the_lines_whitespace(tmp_path: Path) -> None:
    with FakeBackend(script("    return n\n")) as backend:
        caps = capabilities(inline=False, editor="neovim")
        async with running_server(tmp_path, openai_options(backend.url), caps=caps) as session:
            session.open(URI, LOOP)
            result = await session.client.text_document_completion_async(
                types.CompletionParams(types.TextDocumentIdentifier(URI), at(*CURSOR))
            )
    (item,) = result.items
    assert item.text_edit.new_text == "    return n"
    assert item.text_edit.range == types.Range(at(4, 0), at(*CURSOR))
    # VS Code skips the leading whitespace of what it filters on.
    assert item.filter_text == "return n"


async def test_the_prefetch_after_an_accept_sees_the_dedented_line(tmp_path: Path) -> None:
    after = Reply(text="\nprint(f([1]))", when="    return n<|fim_suffix|>")
    script_ = Script([after, Reply(text="    return n\n")], token_interval_ms=1)
    with FakeBackend(script_) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open(URI, LOOP)
            (item,) = (await session.inline(URI, *CURSOR)).items
            assert item.command is not None and item.command.arguments
            await session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(item.command.command, item.command.arguments)
            )
            await session.wait_until(lambda: len(backend.completion_requests()) >= 2)
            prefetched = backend.completion_requests()[1].body["prompt"]
    assert "        n += x\n    return n<|fim_suffix|>" in prefetched


def test_ghostls_complete_prints_the_line_as_the_editor_leaves_it(tmp_path: Path) -> None:
    source = tmp_path / "loop.py"
    source.write_text(LOOP)
    with FakeBackend(script("    return n\n\nprint(f([1]))\n")) as backend:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "lsp_server",
                "complete",
                f"{source}:5:9",
                *BACKEND,
                backend.url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=server_env(tmp_path),
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert "        n += x\n    return n\n" in result.stdout


async def test_a_dedented_block_at_the_end_of_a_nested_function_is_shown_whole(
    tmp_path: Path,
) -> None:
    """HumanEval/59 with the real model: after a nested helper's `return True`, auto-indent
    leaves eight spaces; the model writes the outer function's rest at four. At column 0
    the whole block was shown; on the indented line only its first line was (the block
    rules kept the helper's scope, as for a cursor inside the indentation)."""
    head = (
        "def largest_prime_factor(n: int):\n    def is_prime(k):\n        if k < 2:\n"
        "            return False\n        return True\n"
    )
    block = (
        "    largest = 1\n    for i in range(2, n + 1):\n"
        "        if n % i == 0 and is_prime(i):\n            largest = i\n    return largest"
    )
    items = []
    for typed in (0, 8):
        with FakeBackend(script(block)) as backend:
            async with running_server(tmp_path, openai_options(backend.url)) as session:
                session.open(URI, head + " " * typed + "\n")
                items += (await session.inline(URI, 5, typed)).items
    at_column_zero, indented = items
    assert at_column_zero.insert_text == indented.insert_text == block
    assert indented.range == types.Range(at(5, 0), at(5, 8))
    compile(applied(head + " " * 8 + "\n", indented), "p.py", "exec")
