"""Typing-through is decided in three places: the server (`Generation.typed_for` and
`visible`, which the lifecycle uses to serve a request from the live generation),
ghost.lua in Neovim (tests/neovim/test_typing_through.py) and StreamCache in VS Code.
All read the one case table, tests/data/typing_through_cases.json; this is the
server's side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lsp_server.completion.generation import Generation
from lsp_server.postprocess import Cut, CutLimits

CASES_FILE = Path(__file__).parent / "data" / "typing_through_cases.json"
CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]
PREFIX, SUFFIX = "def f(a):\n    ", "\n"


def expected(case: dict[str, Any], implementation: str) -> str | None:
    exception = (case.get("exceptions") or {}).get(implementation)
    return exception["remaining"] if exception else case["remaining"]  # type: ignore[no-any-return]


def server_remaining(suggestion: str, typed: str) -> str | None:
    """What the server shows for `typed` from a finished generation of `suggestion`:
    None when it would not serve the request from that generation (a new one starts)
    or would serve nothing."""
    generation = Generation(1, "file:///f.py", PREFIX, SUFFIX, CutLimits(True, 8), 0.0)
    generation.append(suggestion)
    generation.cut = Cut(suggestion, final=True)
    generation.done = True
    if generation.typed_for(PREFIX + typed, SUFFIX) is None:
        return None
    return generation.visible(typed) or None


def test_the_table_is_well_formed() -> None:
    assert len(CASES) >= 10
    names = [case["name"] for case in CASES]
    assert len(set(names)) == len(names)
    for case in CASES:
        remaining = case["remaining"]
        if remaining is not None:  # the rest is what is left after what was typed
            assert case["suggestion"] == case["typed"] + remaining, case["name"]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_the_server_agrees_with_the_table(case: dict[str, Any]) -> None:
    assert server_remaining(case["suggestion"], case["typed"]) == expected(case, "server")
