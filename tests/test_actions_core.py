"""The pure parts of code actions: listing, targets, prompts, replies, test files,
edits and the change tracking that stops a run — no server, no network."""

from __future__ import annotations

import pytest
from lsprotocol import types

from lsp_server.actions.catalogue import ActionKind, Diagnostic, list_code_actions
from lsp_server.actions.edits import ActionEdit, Span, syntax_problem
from lsp_server.actions.prompts import ActionPrompt, build_messages
from lsp_server.actions.reply import fit_code, parse_reply
from lsp_server.actions.runner import changed_region
from lsp_server.actions.target import block_label, enclosing_block, enclosing_signatures
from lsp_server.actions.testfiles import plan_tests
from lsp_server.context.cursor import Snippet
from lsp_server.edge.action_lsp import code_action, diagnostic, lsp_range, workspace_edit
from lsp_server.workspace.document import Pos


def r(a: int, b: int, c: int, d: int) -> Span:
    return Span(Pos(a, b), Pos(c, d))


def test_fix_is_listed_only_over_a_diagnostic() -> None:
    target = r(3, 0, 4, 16)
    without = list_code_actions("file:///a.py", 1, target, [])
    assert [a.argument["kind"] for a in without] == [
        "explain",
        "document",
        "edit",
        "tests",
    ]
    far = Diagnostic(r(9, 0, 9, 1), "elsewhere")
    assert all(a.kind != "quickfix" for a in list_code_actions("u", 1, target, [far]))
    near = Diagnostic(r(4, 4, 4, 8), "bad op")
    fix = list_code_actions("u", 1, target, [far, near])[0]
    assert fix.kind == "quickfix" and fix.fixes == (1,)
    assert fix.argument["diagnostics"] == [{"message": "bad op", "line": 4, "source": None}]


def test_the_edge_lists_a_fix_with_the_editors_own_diagnostics() -> None:
    far = types.Diagnostic(lsp_range(r(9, 0, 9, 1)), "elsewhere", code="E1")
    near = types.Diagnostic(lsp_range(r(4, 4, 4, 8)), "bad op", code="E2")
    given = [far, near]
    offers = list_code_actions("u", 1, r(3, 0, 4, 16), [diagnostic(d) for d in given])
    fix, explain = (code_action(offer, given) for offer in offers[:2])
    assert fix.kind == types.CodeActionKind.QuickFix and fix.diagnostics == [near]
    assert fix.command is not None and fix.command.arguments == [offers[0].argument]
    assert explain.kind is None and explain.diagnostics is None


def test_only_filters_by_kind_prefix() -> None:
    listed = list_code_actions("u", 1, r(0, 0, 1, 0), [], only=["refactor"])
    assert {a.argument["kind"] for a in listed} == {"document", "edit"}


PY = (
    "class Box:\n    @property\n    def size(self):\n        x = 1\n\n        return x\n\nend = 1\n"
)
JS = "export function add(a, b) {\n  if (a) {\n    return a + b;\n  }\n}\nconst z = 1;\n"


@pytest.mark.parametrize(
    ("text", "language", "at", "expected"),
    [
        (PY, "python", PY.index("x = 1"), PY[PY.index("    @property") : PY.index("\n\nend")]),
        (PY, "python", PY.index("end"), None),
        (JS, "javascript", JS.index("return"), JS[: JS.index("\nconst")]),
        ("fn 日本() {\n    a🎉;\n}\n", "rust", 14, "fn 日本() {\n    a🎉;\n}"),
        # No grammar here: the indentation / brace heuristic.
        ("func add() {\n    x\n}\nlet y = 1\n", "swift", 14, "func add() {\n    x\n}"),
        ("def f():\n    x\n\ny = 2\n", "nim", 12, "def f():\n    x"),
    ],
)
def test_enclosing_block(text: str, language: str, at: int, expected: str | None) -> None:
    block = enclosing_block(text, at, language)
    assert (text[block[0] : block[1]] if block else None) == expected


def test_signatures_and_labels() -> None:
    start = PY.index("    @property")
    assert enclosing_signatures(PY, PY.index("        x = 1")) == (
        "class Box:",
        "    def size(self):",
    )
    assert block_label(PY, start) == "`size`"


def test_prompt_sections_appear_only_when_present() -> None:
    bare = ActionPrompt(ActionKind.EXPLAIN, "python", "/a.py", "x = 1")
    system, user = build_messages(bare)
    assert system.role == "system" and "python" in system.content
    assert "```python\nx = 1\n```" in user.content and "Problems" not in user.content
    full = ActionPrompt(
        ActionKind.FIX,
        "python",
        "/a.py",
        "x = 1",
        signatures=("class A:",),
        neighbours=(Snippet("/b.py", "y = 2"),),
        diagnostics=("line 1: bad {braces}",),
    )
    user = build_messages(full)[1].content
    assert "line 1: bad {braces}" in user and "class A:" in user and "/b.py" in user


@pytest.mark.parametrize(
    ("reply", "code", "prose"),
    [
        ("Sure:\n```python\na = 1\n```\nDone.", "a = 1\n", "Sure:\n\nDone."),
        ("a = 1\n", "a = 1\n", ""),
        ("```ts\nlet 日 = '🎉'\n", "let 日 = '🎉'\n", ""),  # cut short: no closing fence
        ("````md\n```inner```\n````", "```inner```\n", ""),
        ("Nothing to change.", "Nothing to change.\n", ""),
        ("", None, ""),
        ("```", None, ""),  # a small model opened a block and stopped (seen with a 0.5B)
        ("```python", None, ""),
        ("```python\n```", None, ""),
    ],
)
def test_parse_reply(reply: str, code: str | None, prose: str) -> None:
    parsed = parse_reply(reply)
    assert (parsed.code, parsed.prose) == (code, prose)


def test_fit_code_restores_indentation_and_line_ending() -> None:
    original = "    def f(self):\r\n        return 1\r\n"
    assert fit_code("def f(self):\n    return 2\n", original) == (
        "    def f(self):\n        return 2\r\n"
    )
    assert fit_code("\tx\n", "\tx") == "\tx"


def test_test_file_conventions() -> None:
    files = {
        "/p/tests/conftest.py": "",
        "/w/package.json": '{"devDependencies": {"vitest": "1"}}',
        "/r/lib.rs": "fn a() {}\n#[cfg(test)]\nmod tests {}\n",
    }
    read = files.get
    python = plan_tests("/p/pkg/calc.py", "python", read)
    assert (python.path, python.framework, python.existing) == (
        "/p/tests/test_calc.py",
        "pytest",
        None,
    )
    ts = plan_tests("/w/src/add.ts", "typescript", read)
    assert (ts.path, ts.framework) == ("/w/src/add.test.ts", "Vitest")
    assert plan_tests("/x/add.js", "javascript", read).framework == "Jest"
    assert plan_tests("/g/m/add.go", "go", read).path == "/g/m/add_test.go"
    rust = plan_tests("/r/lib.rs", "rust", read)
    assert rust.path == "/r/lib.rs" and "tests_more" in rust.placement
    java = plan_tests("/j/src/main/java/com/x/Calc.java", "java", read)
    assert java.path == "/j/src/test/java/com/x/CalcTest.java" and java.framework == "JUnit 5"
    unittest = plan_tests("/u/calc.py", "python", {"/u/test_calc.py": "import unittest\n"}.get)
    assert unittest.framework == "unittest" and unittest.existing == "import unittest\n"


def test_syntax_problem_only_when_the_edit_broke_it() -> None:
    assert syntax_problem("def f(:\n", "def f(): pass\n", "python") is not None
    assert syntax_problem("def f(:\n", "def g(:\n", "python") is None  # broken before
    assert syntax_problem("fn main() {", "fn main() {}", "rust") is not None
    assert syntax_problem("anything {", "", "cobol") is None


def test_workspace_edits_carry_a_confirmation_annotation() -> None:
    replace = ActionEdit("file:///a.py", 3, r(0, 0, 1, 0), "x", "ghostls: Fix")
    edit = workspace_edit(replace, annotated=True)
    (change,) = edit.document_changes
    assert change.text_document.version == 3
    assert change.edits[0].annotation_id in edit.change_annotations
    plain = workspace_edit(replace, annotated=False)
    assert isinstance(plain.document_changes[0].edits[0], types.TextEdit)
    assert plain.change_annotations is None
    new_file = ActionEdit("file:///t.py", None, r(0, 0, 0, 0), "x", "t", create=True)
    create, fill = workspace_edit(new_file, annotated=False).document_changes
    assert isinstance(create, types.CreateFile) and fill.edits[0].range == lsp_range(r(0, 0, 0, 0))


@pytest.mark.parametrize(
    ("old", "new", "region"),
    [
        ("abcdef", "abXYef", (2, 4, 4)),
        ("aaaa", "aaaaa", (4, 4, 5)),
        ("abc", "abc", (3, 3, 3)),
        ("x🎉y", "xy", (1, 2, 1)),
        ("", "new", (0, 0, 3)),
    ],
)
def test_changed_region(old: str, new: str, region: tuple[int, int, int]) -> None:
    assert changed_region(old, new) == region
    start, old_end, new_end = region
    assert old[:start] + new[start:new_end] + old[old_end:] == new
