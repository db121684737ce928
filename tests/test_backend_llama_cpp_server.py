"""The OpenAI path end to end against the real `python -m llama_cpp.server` serving
the tiny GGUF on 127.0.0.1: `ghostls complete` and an editor's inline completion.

The tiny model's text is gibberish but deterministic (greedy decoding, and it never
ends before `max_tokens`), so the checks are: a suggestion arrives through each path,
the server saw streamed /v1/completions requests carrying our FIM prompt, and both
paths agree on the text.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.lsp import running_server, server_env
from tests.support.tiny_gguf import build_tiny_gguf

pytest.importorskip("uvicorn", reason="needs llama-cpp-python[server] (the test extra)")

TEXT = "def add(a, b):\n    \n"
MODEL = "tiny"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The real server on a free port; yields its URL and its log file."""
    folder = tmp_path_factory.mktemp("llama_server")
    model = build_tiny_gguf(folder / "tiny.gguf")
    port = free_port()
    log = folder / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    command += ["--model_alias", MODEL, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--n_ctx", "2048", "--n_threads", "1"]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=1.0) as client:
            for _ in range(600):  # ≤ 60 s: imports fastapi, loads the model
                try:
                    if client.get(f"{url}/v1/models").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                try:  # waits 0.1 s for the server to exit, which fails the test
                    process.wait(0.1)
                    pytest.fail(f"llama_cpp.server exited:\n{log.read_text()[-2000:]}")
                except subprocess.TimeoutExpired:
                    pass
            else:
                pytest.fail(f"llama_cpp.server did not answer:\n{log.read_text()[-2000:]}")
        yield url, log
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def completions_posts(log: Path) -> int:
    return log.read_text().count('"POST /v1/completions HTTP/1.1" 200')


def complete(tmp_path: Path, url: str) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "add.py"
    source.write_text(TEXT)
    command = [sys.executable, "-m", "lsp_server", "complete", f"{source}:2:5"]
    command += ["--backend", "openai", "--url", url, "--model", MODEL, "--max-tokens", "8"]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=server_env(tmp_path, None)
    )


def test_complete_against_llama_cpp_server(tmp_path: Path, llama_server: tuple[str, Path]) -> None:
    url, log = llama_server
    before = completions_posts(log)
    result = complete(tmp_path, url)
    assert result.returncode == 0, result.stderr
    # The tiny model's gibberish (greedy, fixed weights) has no line break: its 8 tokens
    # end mid-line, and a line the token limit cut is never shown (issue #19). The server
    # was asked once, and the file comes back as it was, with the reason.
    assert result.stdout == TEXT + "\n"  # the file, and the line the CLI ends with
    assert "no suggestion" in result.stderr
    assert completions_posts(log) == before + 1


async def test_inline_completion_against_llama_cpp_server(
    tmp_path: Path, llama_server: tuple[str, Path]
) -> None:
    url, log = llama_server
    before = completions_posts(log)
    options = {
        "backend": {"kind": "openai", "url": url, "model": MODEL},
        "completion": {"maxTokens": 8},
    }
    async with running_server(tmp_path, options) as session:
        session.open("file:///work/add.py", TEXT)
        result = await session.inline("file:///work/add.py", 1, 4)
        # Gibberish cut mid-line by the token limit (see above): nothing is shown, and
        # the status says why.
        assert not result.items
        await session.wait_until(
            lambda: any(s["detail"] == "ran out of tokens mid-line" for s in session.statuses)
        )
    assert completions_posts(log) >= before + 1
    cli = complete(tmp_path, url)
    assert cli.returncode == 0, cli.stderr
    # Greedy decoding of the same prompt: the editor and the terminal agree (nothing).
    assert cli.stdout == TEXT + "\n" and "no suggestion" in cli.stderr
