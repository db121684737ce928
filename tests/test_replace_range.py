"""Replace ranges over real JSON-RPC: when the model types the closing `")` that the
editor already put after the cursor (with more text in between), the item's range runs
from the cursor to the end of those characters, in the negotiated position encoding."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.lsp import capabilities, openai_options, running_server

URI = "file:///work/print.ts"
# An emoji before the cursor: 2 UTF-16 code units, 4 UTF-8 bytes, 1 UTF-32 unit.
LINE = '  console.log("😀 Obj: '
SOURCE = "function print(obj: any) {\n" + LINE + '")\n}\n'
RAW = '", obj);\n}\n'


@pytest.mark.parametrize(
    ("encoding", "column"),
    [("utf-16", len(LINE) + 1), ("utf-8", len(LINE.encode())), ("utf-32", len(LINE))],
)
async def test_the_item_replaces_the_closing_characters_it_typed_again(
    tmp_path: Path, encoding: str, column: int
) -> None:
    with FakeBackend(Script([Reply(text=RAW)])) as backend:
        caps = capabilities(encodings=[encoding])
        async with running_server(tmp_path, openai_options(backend.url), caps) as session:
            session.open(URI, SOURCE, "typescript")
            result = await session.inline(URI, 1, column)
            item = result.items[0]
            assert item.insert_text == '", obj);'
            start = types.Position(1, column)
            assert item.range == types.Range(start, types.Position(1, column + 2))


async def test_an_insert_only_suggestion_keeps_an_empty_range(tmp_path: Path) -> None:
    source = "function add(a, b) {\n  return \n}\n"
    with FakeBackend(Script([Reply(text="a + b;\n}\n")])) as backend:
        async with running_server(tmp_path, openai_options(backend.url)) as session:
            session.open("file:///work/add.js", source, "javascript")
            result = await session.inline("file:///work/add.js", 1, 9)
            item = result.items[0]
            assert item.insert_text == "a + b;"
            assert item.range == types.Range(types.Position(1, 9), types.Position(1, 9))
