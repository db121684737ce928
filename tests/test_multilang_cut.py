"""The cut in every language the server ships, through the real server.

Holes in real code none of us wrote (`tests/data/multilang/`, see its SOURCES.md; the
Python file comes from the interpreter's standard library): a block body, a condition
in a control header, an expression mid-line, a call's arguments, a one-line statement.
The scripted model writes the right middle and runs on into the code after it, up to
`maxTokens`, as FIM models do; the real server (default settings) must show exactly the
middle. The full set is `bench/multilang.py` (`python -m bench.multilang`).
"""

from __future__ import annotations

import sysconfig
from collections import Counter
from pathlib import Path

from bench.multilang import (
    Hole,
    extract_holes,
    first_line_cutter,
    reference_answer,
    suffix_line_cutter,
)
from bench.through_lsp import Case, exact, replay

DATA = Path(__file__).parent / "data" / "multilang"
FILES = {
    "c": "speedups.c",
    "cpp": "complex.hpp",
    "java": "JPypeProxy.java",
    "csharp": "SequenceWrapper.cs",
    "go": "stack.go",
    "rust": "itoa.rs",
    "ruby": "color.rb",
    "php": "RouteCollector.php",
    "lua": "inspect.lua",
    "shellscript": "shunit2.sh",
    "typescript": "cheerio-css.ts",
    "javascript": "css-select-compile.js",
}


def holes() -> list[Hole]:
    found: list[Hole] = []
    for language, name in FILES.items():
        text = (DATA / name).read_text(encoding="utf-8")
        found.extend(extract_holes(text, language, f"{language}/{name}", per_kind=2))
    stdlib = Path(sysconfig.get_paths()["stdlib"]) / "textwrap.py"
    found.extend(extract_holes(stdlib.read_text(encoding="utf-8"), "python", "textwrap.py", 2))
    return found


def test_the_set_covers_every_language_and_hole_kind() -> None:
    kinds = Counter((hole.language, hole.kind) for hole in holes())
    assert {language for language, _ in kinds} == {*FILES, "python"}
    for language in (*FILES, "python"):
        # Shell has no call arguments in parentheses; every other kind is there.
        expected = 4 if language == "shellscript" else 5
        assert sum(1 for lang, _ in kinds if lang == language) >= expected - 1, language


async def test_the_server_shows_exactly_the_middle_in_every_language(tmp_path: Path) -> None:
    cases = holes()
    answers = await replay([hole.case() for hole in cases], tmp_path)
    misses: dict[str, list[str]] = {}
    per_language: Counter[str] = Counter()
    for hole, answer in zip(cases, answers, strict=True):
        per_language[hole.language] += 1
        if not exact(answer, hole.case(), hole.truth):
            misses.setdefault(hole.language, []).append(
                f"{hole.kind}: {hole.truth!r} → {answer.text!r}"
            )
    total = len(cases)
    missed = sum(len(rows) for rows in misses.values())
    assert total >= 100
    assert missed <= total // 50, misses  # ≥ 98 % exact overall
    for language, rows in misses.items():
        assert len(rows) <= max(1, per_language[language] // 10), (language, rows)


def test_reference_cutters_miss_what_the_server_gets() -> None:
    """The set discriminates: plain cutters fall well short of exact on it."""
    cases = holes()
    for cutter in (first_line_cutter, suffix_line_cutter):
        hits = sum(exact(reference_answer(cutter, h), h.case(), h.truth) for h in cases)
        assert hits < 0.9 * len(cases)


def test_a_case_is_the_truth_then_the_code_after_it() -> None:
    hole = next(h for h in holes() if h.kind == "condition" and h.language == "c")
    case = hole.case()
    assert isinstance(case, Case)
    assert case.raw.startswith(hole.truth + hole.suffix[:20])
    assert (hole.prefix + hole.truth + hole.suffix) == (DATA / FILES["c"]).read_text()
