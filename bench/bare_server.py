"""A bare completion server, the yardstick of `bench_burst`: pygls, the document's
prefix and suffix as a FIM prompt, nothing else (no context, no cut, no lifecycle).

Each inline completion request streams `/v1/completions` from the backend named in
the initialization options (`{"url": ...}`) and answers with the first line once the
backend has written it (or with what it has when the stream ends). `$/cancelRequest`
cancels the handler's task, which closes the stream. Plain httpx with its default
pool: what a minimal server would use.

    python -m bench.bare_server
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from lsprotocol import types
from pygls.lsp.server import LanguageServer

PREFIX_CHARS = 6000
SUFFIX_CHARS = 2000
MAX_TOKENS = 64

server = LanguageServer("bare", "0")
_state: dict[str, Any] = {}


@server.feature(types.INITIALIZE)
def initialize(ls: LanguageServer, params: types.InitializeParams) -> None:
    options = params.initialization_options or {}
    _state["url"] = str(options.get("url", "http://127.0.0.1:1")).rstrip("/")


def _client() -> httpx.AsyncClient:
    client = _state.get("client")
    if client is None:
        client = _state["client"] = httpx.AsyncClient(timeout=10)
    return client


@server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION)
async def inline(
    ls: LanguageServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList:
    if params.text_document.uri not in ls.workspace.text_documents:
        return types.InlineCompletionList(items=[])
    document = ls.workspace.get_text_document(params.text_document.uri)
    offset = document.offset_at_position(params.position)
    text = document.source
    prompt = (
        f"<|fim_prefix|>{text[max(0, offset - PREFIX_CHARS) : offset]}"
        f"<|fim_suffix|>{text[offset : offset + SUFFIX_CHARS]}<|fim_middle|>"
    )
    body = {"model": "bare", "prompt": prompt, "max_tokens": MAX_TOKENS, "stream": True}
    answer = ""
    async with _client().stream("POST", _state["url"] + "/v1/completions", json=body) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data:") or line.strip() == "data: [DONE]":
                continue
            answer += json.loads(line[5:])["choices"][0].get("text") or ""
            head, newline, _ = answer.partition("\n")
            if newline and head.strip():
                answer = head
                break
    answer = answer.rstrip("\n")
    if not answer.strip():
        return types.InlineCompletionList(items=[])
    return types.InlineCompletionList(items=[types.InlineCompletionItem(insert_text=answer)])


if __name__ == "__main__":
    server.start_io()
