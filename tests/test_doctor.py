"""`ghostls doctor` as a user runs it: a real process against a real local server."""

from __future__ import annotations

import subprocess
import sys

from tests.support.fake_llamacpp import FakeLlamaCpp


def doctor(*flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lsp_server", "doctor", *flags],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONIOENCODING": "utf-8"},
    )


def test_doctor_passes_for_a_fim_model() -> None:
    with FakeLlamaCpp() as server:
        result = doctor("--backend", "llamacpp", "--url", server.url, "--model", "qwen")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ FIM" in result.stdout and "all checks passed" in result.stdout


def test_doctor_diagnoses_a_model_without_fim() -> None:
    with FakeLlamaCpp(fim=False) as server:
        result = doctor("--backend", "llamacpp", "--url", server.url, "--model", "chat")
    assert result.returncode == 1
    assert "✗ FIM" in result.stdout
    assert "→ load a coder model with FIM tokens" in result.stdout
