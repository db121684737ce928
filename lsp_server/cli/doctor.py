"""`ghostls doctor`: probe the configured backend and print each check with ✓/✗ and
what to do. Exit status 0 when every check passes, 1 otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

from lsp_server.backends.probe import probe_backend
from lsp_server.settings import load_settings


async def run_doctor(wire: Mapping[str, Any], out: TextIO) -> int:
    settings, problems = load_settings(wire)
    for problem in problems:
        out.write(f"✗ settings: {problem}\n")
    report = await probe_backend(settings)
    backend = settings.backend
    out.write(f"ghostls doctor — {report.backend} (model '{backend.model}')\n")
    for check in report.checks:
        out.write(check.line() + "\n")
    ok = report.ok and not problems
    out.write("all checks passed\n" if ok else "some checks failed: see → for the fix\n")
    return 0 if ok else 1
