"""What a Neovim user sees with a real model: headless Neovim 0.11 (pynvim), the ghostls
plugin (clients/neovim) with the README's keymaps, the embedded engine with a local
GGUF (default: the bench model), small files typed into at human speed.

Each case opens a file, puts the cursor somewhere, enters Insert mode as a user would
(`o`, `A`), types a few keys 120 ms apart, then waits for the ghost text and for the
stream to end (the server's `done` update, or the ghost unchanged for `--settle` s),
records what was drawn, presses <Tab> and records the line(s) it gave. The buffer is
reloaded from disk between cases. Not in CI (the model is not there); on 2 shared
cores the times are noisy and only say what order of wait a user has.

    python -m bench.nvim_real_model [--model PATH] [--only fib_ret,...] [--json out.jsonl]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pynvim

from tests.neovim.conftest import GHOST_TEXT, PLUGIN, REPO, nvim_binary

DEFAULT_MODEL = Path.home() / ".cache/ghostls-bench/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
KEY_INTERVAL_S = 0.12

FILES = {
    "fib.py": "def fib(n):\n    if n <= 1:\n        return n\n",
    "stats.py": (
        "import math\n\n\n"
        "def mean(values):\n    return sum(values) / len(values)\n\n\n"
        "def stdev(values):\n    m = mean(values)\n"
        "    squares = [(v - m) ** 2 for v in values]\n"
        "    return math.sqrt(sum(squares) / len(values))\n\n\n"
        "class Counter:\n    def __init__(self):\n        self.counts = {}\n\n"
        "    def add(self, word):\n        self.counts[word] = self.counts.get(word, 0) + 1\n\n"
        "    def most_common(self):\n        return max(self.counts, key=self.counts.get)\n"
    ),
    "cart.js": (
        "function total(items) {\n  let sum = 0;\n  for (const item of items) {\n"
        "    sum += item.price * item.quantity;\n  }\n  return sum;\n}\n\n"
        "function cheapest(items) {\n}\n\nmodule.exports = { total, cheapest };\n"
    ),
}


@dataclass
class Case:
    name: str
    file: str
    line: int  # 1-based line the cursor goes to (Normal mode)
    keys: str  # pressed there: an Insert command, then text typed at human speed
    what: str
    through: str = ""  # typed once the first ghost text shows (typing through it)


CASES = [
    Case("fib_ret", "fib.py", 3, "oret", "new line after the base case, `ret` typed"),
    Case("fib_newline", "fib.py", 3, "o", "new line after the base case, nothing typed"),
    Case("fib_through", "fib.py", 3, "o", "the same, `ret` typed once a ghost shows", "ret"),
    Case("stats_body", "stats.py", 9, "o", "new line in a body (after `m = mean(values)`)"),
    Case("stats_partial", "stats.py", 10, "ovariance = sum(sq", "mid-line, after a partial word"),
    Case("stats_header", "stats.py", 22, "odef reset(self):<CR>", "after a header just typed"),
    Case("stats_eof", "stats.py", 22, "o<C-u><CR><CR>if __name__", "end of the file, top level"),
    Case("cart_header", "cart.js", 9, "o", "empty body after `function cheapest(items) {`"),
    Case("cart_body", "cart.js", 4, "o", "new line inside the loop body"),
    Case("cart_partial", "cart.js", 2, "oconst count = ite", "mid-line, after a partial word"),
]


class Editor:
    def __init__(self, nvim: Any, project: Path) -> None:
        self.nvim, self.project = nvim, project

    def lua(self, code: str, *args: Any) -> Any:
        return self.nvim.exec_lua(code, *args)

    def ghost(self) -> str | None:
        return self.lua(GHOST_TEXT)  # type: ignore[no-any-return]

    def updates(self) -> list[dict[str, Any]]:
        return self.lua("return _G.ghostls_updates")  # type: ignore[no-any-return]

    def statuses(self) -> list[dict[str, Any]]:
        return self.lua("return _G.ghostls_statuses")  # type: ignore[no-any-return]

    def clock(self) -> float:
        return self.lua("return vim.uv.hrtime() / 1e9")  # type: ignore[no-any-return]


def start(binary: Path, tmp: Path, model: Path, settings: dict[str, Any]) -> Editor:
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        (tmp / "xdg" / name.lower()).mkdir(parents=True, exist_ok=True)
        os.environ[f"XDG_{name}_HOME"] = str(tmp / "xdg" / name.lower())
    os.environ["GHOSTLS_CACHE_DIR"] = str(tmp / "ghostls-cache")
    os.environ["PYTHONPATH"] = str(REPO)
    project = tmp / "project"
    (project / ".git").mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (project / name).write_text(text, encoding="utf-8")
    argv = [str(binary), "--embed", "--headless", "-u", "NONE", "-i", "NONE", "-n"]
    argv += ["--cmd", f"set rtp^={PLUGIN}", "--cmd", "set columns=160 lines=50"]
    nvim = pynvim.attach("child", argv=argv)
    nvim.command("filetype plugin indent on")
    nvim.command("set expandtab shiftwidth=4 softtabstop=4")
    nvim.command("autocmd FileType javascript,typescript setlocal shiftwidth=2 softtabstop=2")
    nvim.command("runtime plugin/ghostls.lua")
    # Every ghostls/inlineCompletionUpdate, recorded before the plugin's own handler.
    nvim.exec_lua(
        """
        _G.ghostls_updates = {}
        local ghost = require('ghostls.ghost')
        local handler = ghost.on_update
        ghost.on_update = function(err, params, ctx)
          local t = vim.uv.hrtime() / 1e9
          table.insert(_G.ghostls_updates, { t = t, text = params.text, done = params.done })
          return handler(err, params, ctx)
        end
        _G.ghostls_statuses = {}
        local notice = require('ghostls.notice')
        local on_status = notice.on_status
        notice.on_status = function(id, params)
          local t = vim.uv.hrtime() / 1e9
          table.insert(_G.ghostls_statuses, { t = t, status = vim.deepcopy(params) })
          return on_status(id, params)
        end
        """
    )
    backend = {"kind": "embedded", "modelPath": str(model), "contextTokens": 2048}
    options = {
        "cmd": [sys.executable, "-m", "lsp_server", "serve"],
        "settings": {"backend": backend, **settings},
        # The README's keymaps.
        "keymaps": {
            "accept": "<Tab>",
            "accept_word": "<C-Right>",
            "accept_line": "<C-Down>",
            "dismiss": "<C-]>",
        },
    }
    nvim.exec_lua("require('ghostls').setup(...)", options)
    return Editor(nvim, project)


def wait_ready(editor: Editor, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready = editor.lua(
            "local c = vim.lsp.get_clients({ bufnr = 0, name = 'ghostls' })[1]"
            " return c ~= nil and c.initialized"
        )
        if ready:
            return
        time.sleep(0.1)
    raise SystemExit("the ghostls client did not start")


def type_keys(editor: Editor, keys: str) -> None:
    """The Insert command at once, then one key (a character or a `<...>` name) every
    KEY_INTERVAL_S."""
    tokens = re.findall(r"<[^<>]+>|.", keys)
    editor.nvim.input(tokens[0])
    for key in tokens[1:]:
        time.sleep(KEY_INTERVAL_S)
        editor.nvim.input(key)


def run_case(editor: Editor, case: Case, settle: float, limit: float) -> dict[str, Any]:
    nvim = editor.nvim
    nvim.command(f"edit! {editor.project / case.file}")
    time.sleep(0.5)  # a user's pause before typing (the didOpen, the first prefetch)
    nvim.command(f"call cursor({case.line}, 1) | normal! $")
    editor.lua("_G.ghostls_updates = {} _G.ghostls_statuses = {}")
    type_keys(editor, case.keys)
    typed_at = time.monotonic()
    typed_clock = editor.clock()
    first_at: float | None = None
    first = last = None
    changed_at = typed_at
    while time.monotonic() - typed_at < limit:
        ghost = editor.ghost()
        now = time.monotonic()
        if ghost and first_at is None:
            first_at, first = now, ghost
            if case.through:
                type_keys(editor, case.through)
                # The first ghost's stream is done: wait for the one after the typing.
                editor.lua("_G.ghostls_updates = {}")
                last, changed_at = ghost, time.monotonic()
                continue
        if ghost != last:
            last, changed_at = ghost, now
        done = any(u.get("done") for u in editor.updates())
        if first_at is not None and (done or now - changed_at > settle):
            break
        time.sleep(0.02)
    before = list(nvim.current.buffer[:])
    row = nvim.current.window.cursor[0]
    nvim.input("<Tab>")
    time.sleep(0.3)
    after = list(nvim.current.buffer[:])
    nvim.input("<Esc>")
    time.sleep(0.1)
    record: dict[str, Any] = {
        "case": case.name,
        "what": case.what,
        "line": before[row - 1],
        "first_s": None if first_at is None else round(first_at - typed_at, 2),
        "first": first,
        "shown": last,
        "updates": [
            (round(u["t"] - typed_clock, 2), u["text"], u.get("done")) for u in editor.updates()
        ],
        "statuses": [
            (round(u["t"] - typed_clock, 2), {k: v for k, v in u["status"].items() if k != "uri"})
            for u in editor.statuses()
        ],
        "accepted": after[row - 1 : row - 1 + max(1, len(after) - len(before) + 1)],
        "parses": parses(case.file, "\n".join(after)),
    }
    return record


def parses(name: str, text: str) -> bool | None:
    if name.endswith(".py"):
        try:
            ast.parse(text)
        except SyntaxError:
            return False
        return True
    if name.endswith(".js") and shutil.which("node"):
        with tempfile.NamedTemporaryFile("w", suffix=".js", delete=False) as handle:
            handle.write(text)
        result = subprocess.run(["node", "--check", handle.name], capture_output=True)
        os.unlink(handle.name)
        return result.returncode == 0
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--settle", type=float, default=3.0, help="s unchanged = the end")
    parser.add_argument("--limit", type=float, default=20.0, help="s to wait for a ghost")
    parser.add_argument("--settings", default="{}", help="more ghostls settings (JSON)")
    parser.add_argument("--json", type=Path, help="append one JSON line per case here")
    args = parser.parse_args()
    binary = nvim_binary("0.11")
    if binary is None:
        raise SystemExit("Neovim 0.11 is not installed: run scripts/setup-neovim.sh")
    cases = [c for c in CASES if not args.only or c.name in args.only.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        editor = start(binary, Path(tmp), args.model, json.loads(args.settings))
        try:
            editor.nvim.command(f"edit {editor.project / cases[0].file}")
            wait_ready(editor)
            for case in cases:
                record = run_case(editor, case, args.settle, args.limit)
                print(json.dumps(record), flush=True)
                if args.json:
                    with args.json.open("a", encoding="utf-8") as out:
                        out.write(json.dumps(record) + "\n")
        finally:
            with contextlib.suppress(Exception):  # the editor exits while answering
                editor.nvim.command("qa!")


if __name__ == "__main__":
    main()
