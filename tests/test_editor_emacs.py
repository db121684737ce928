"""Emacs with eglot, headless (`emacs --batch`), against the real server and the fake
backend on 127.0.0.1: the setup of docs/editors.md starts ghostls, and the suggestion
comes back through `completion-at-point` (eglot has no inline completion; the server
offers its completion-item fallback to such editors). Debian 12's Emacs 28.2 needs
`elpa-eglot` (scripts/setup-emacs.sh); without Emacs and eglot this skips."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fake_backend import FakeBackend, Reply, Script
from tests.support.lsp import REPO, server_env

EMACS = shutil.which("emacs")

# The docs/editors.md setup, pointed at the fake backend; then complete at the end of
# line 2 and write the candidates out.
SCRIPT = """
(require 'eglot)
(setq eglot-sync-connect 30)
(add-to-list 'eglot-server-programs
             (cons '(python-mode python-ts-mode)
                   (list (getenv "GHOSTLS_PYTHON") "-m" "lsp_server" "serve"
                         :initializationOptions
                         (list :backend (list :kind "openai" :url (getenv "FAKE_URL")
                                              :model "fake")))))
(find-file (getenv "SOURCE"))
(goto-char (point-min))
(forward-line 1)
(end-of-line)
(apply #'eglot (eglot--guess-contact))
(let* ((capf (eglot-completion-at-point))
       (typed (buffer-substring (nth 0 capf) (nth 1 capf)))
       (candidates (all-completions typed (nth 2 capf))))
  (with-temp-file (getenv "OUT")
    (insert (mapconcat #'substring-no-properties candidates "\\n"))))
(kill-emacs 0)
"""


def eglot_loads() -> bool:
    if EMACS is None:
        return False
    probe = subprocess.run(
        [EMACS, "--batch", "--eval", "(require 'eglot)"], capture_output=True, timeout=60
    )
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not eglot_loads(), reason="Emacs with eglot is not installed (scripts/setup-emacs.sh)"
)


def test_eglot_gets_the_suggestion_as_a_completion(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    source = project / "main.py"
    source.write_text("def add(a, b):\n    re\n", encoding="utf-8")
    (tmp_path / "setup.el").write_text(SCRIPT, encoding="utf-8")
    out = tmp_path / "candidates.txt"
    with FakeBackend(Script([Reply(text="turn a + b")])) as backend:
        env = server_env(
            tmp_path,
            {
                "GHOSTLS_PYTHON": sys.executable,
                "FAKE_URL": backend.url,
                "SOURCE": str(source),
                "OUT": str(out),
                "HOME": str(tmp_path),
            },
        )
        assert EMACS is not None
        run = subprocess.run(
            [EMACS, "--batch", "-l", str(tmp_path / "setup.el")],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        assert "Server `ghostls' now managing" in run.stderr
        assert out.read_text(encoding="utf-8").splitlines() == ["return a + b"]
        prompts = [r.prompt for r in backend.completion_requests()]
        assert prompts and "def add(a, b):" in prompts[0]
