"""Context: scope headers, syntax-based multi-line, neighbour ranking, hygiene."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lsp_server.context.assemble import assemble_context
from lsp_server.context.cursor import CursorContext, ScopeHeader
from lsp_server.context.neighbours import (
    Source,
    find_definition,
    gather_sources,
    plain_bm25_snippets,
    rank_neighbour_snippets,
)
from lsp_server.context.scope import multiline_from_syntax, scope_headers
from lsp_server.prompt.budget import EstimatingTokenizer
from lsp_server.prompt.build import PromptBudget, build_prompt
from lsp_server.prompt.templates import TEMPLATES
from lsp_server.settings import Settings
from lsp_server.workspace.document import TextDocument
from lsp_server.workspace.ignore import IgnoreRules
from lsp_server.workspace.recent_edits import RecentEdits, edited_region
from lsp_server.workspace.store import WorkspaceStore
from lsp_server.workspace.syntax import encode, parse_text

FILLER = "".join(f"        value_{i} = compute({i})  # 計算 😀\n" for i in range(200))

SCOPES = {
    "python": (
        f"class Store(Base):\n    def load(self, key: str,\n             default=None):\n{FILLER}"
        "        return ",
        ["class Store(Base):", "    def load(self, key: str,\n             default=None):"],
    ),
    "java": (
        f"public class Store {{\n  public int load(String key)\n  {{\n{FILLER}    return ",
        ["public class Store {", "  public int load(String key)\n  {"],
    ),
    "go": (
        f"func (s *Store) Load(key string) int {{\n{FILLER}\treturn ",
        ["func (s *Store) Load(key string) int {"],
    ),
    "rust": (
        f"impl Store {{\n    fn load(&self, key: &str) -> i32 {{\n{FILLER}        ",
        ["impl Store {", "    fn load(&self, key: &str) -> i32 {"],
    ),
    "typescript": (
        f"class Store {{\n  load(key: string): number {{\n{FILLER}    return ",
        ["class Store {", "  load(key: string): number {"],
    ),
    "csharp": (
        f"namespace App {{\n class Store {{\n  int Load(string key) {{\n{FILLER}    return ",
        ["namespace App {", " class Store {", "  int Load(string key) {"],
    ),
    "ruby": (f"class Store\n  def load(key)\n{FILLER}    ", ["class Store", "  def load(key)"]),
    "lua": (f"function Store.load(key)\n{FILLER}  return ", ["function Store.load(key)"]),
}


@pytest.mark.parametrize("language", sorted(SCOPES))
def test_scope_headers_of_the_enclosing_definitions(language: str) -> None:
    prefix, expected = SCOPES[language]
    suffix = "\n    }\n}\n" if language not in ("python", "ruby", "lua") else "\n"
    text = prefix + suffix
    tree = parse_text(text, language)
    assert tree is not None
    headers = scope_headers(tree, encode(text), len(encode(prefix)))
    assert [header.text for header in headers] == expected
    for header in headers:  # offsets are code points into the document
        assert text[header.start :].startswith(header.text.split("\n")[0])


def test_headers_are_kept_above_a_small_prefix_window() -> None:
    prefix, _ = SCOPES["python"]
    context = CursorContext(
        "file:///s.py",
        "/s.py",
        "python",
        1,
        prefix,
        "\n",
        scopes=(
            ScopeHeader(0, "class Store(Base):"),
            ScopeHeader(19, "    def load(self, key: str,\n             default=None):"),
        ),
    )
    prompt = build_prompt(context, TEMPLATES["qwen"], PromptBudget(200), EstimatingTokenizer())
    assert prompt.prefix.startswith("class Store(Base):\n    def load(self, key: str,\n")
    assert prompt.prefix.endswith("        return ")
    assert prompt.estimated_tokens <= 200 + 10
    # A window that already holds the headers does not repeat them.
    whole = build_prompt(context, TEMPLATES["qwen"], PromptBudget(100_000), EstimatingTokenizer())
    assert whole.prefix == prefix


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("python", "x = foo(\n    a,\n    |\n)\n", False),  # inside an open call
        ("python", "total = |\n", False),  # code before the cursor on its line
        ("javascript", "function f() {\n  |\n}\n", True),  # an empty block body
        ("python", "def f():\n    a = 1\n    |\n", None),  # the tree can't tell
    ],
)
def test_multiline_from_syntax(language: str, text: str, expected: bool | None) -> None:
    cursor = text.index("|")
    text = text.replace("|", "")
    tree = parse_text(text, language)
    assert tree is not None
    assert multiline_from_syntax(tree, encode(text), len(encode(text[:cursor]))) is expected


# -- neighbours ---------------------------------------------------------------------------

MODELS = """\
class Invoice:
    def __init__(self, number, lines):
        self.number = number
        self.lines = lines

def total_with_tax(invoice, rate):
    return sum(line.amount for line in invoice.lines) * (1 + rate)
"""
UNRELATED = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(40))


def test_definition_of_an_identifier_used_near_the_cursor_comes_first() -> None:
    prefix = "from models import total_with_tax\n\ndef report(invoice):\n    due = total_with_tax("
    sources = [Source("/repo/util.py", UNRELATED), Source("/repo/models.py", MODELS)]
    snippets = rank_neighbour_snippets(prefix, ")\n", sources, 400)
    assert snippets[0].path == "/repo/models.py"
    assert snippets[0].text.startswith("def total_with_tax(invoice, rate):")
    assert sum(len(s.text) for s in snippets) <= 400


def test_windows_ranked_by_identifier_similarity() -> None:
    other = UNRELATED + "def shipping_cost(parcel_weight, parcel_zone):\n    return 3\n" + UNRELATED
    prefix = "weight = parcel_weight(order)\nzone = parcel_zone(order)\ncost = "
    snippets = rank_neighbour_snippets(prefix, "", [Source("/b.py", other)], 200, False)
    assert "shipping_cost(parcel_weight, parcel_zone)" in snippets[0].text


def test_windows_the_prefix_already_has_are_dropped() -> None:
    prefix = MODELS + "\ninv = Invoice(1, [])\nx = total_with_tax(inv, "
    snippets = rank_neighbour_snippets(prefix, "", [Source("/copy.py", MODELS)], 2000)
    assert snippets == ()


def test_snippets_change_mid_line_only_when_a_word_is_complete() -> None:
    """The snippets lead the prompt, so a change costs the model's cache of all of it.
    While a line is typed they change only on the keystroke that completes a word that
    an open document defines; the definition still comes (what a call needs)."""
    sources = [Source("/repo/util.py", UNRELATED), Source("/repo/models.py", MODELS)]
    head = "from models import Invoice\n\ndef report(invoice):\n    "
    line = "due = helper_7(invoice.number) + total_with_tax(invoice, 0.2)"
    ranked = [
        rank_neighbour_snippets(head + line[:n], "\n", sources, 400) for n in range(len(line))
    ]
    changed_at = [n for n in range(1, len(line)) if ranked[n] != ranked[n - 1]]
    assert changed_at
    for n in changed_at:  # `line[n - 1]` is the keystroke; a word ends right before it
        assert not (line[n - 1].isalnum() or line[n - 1] == "_"), line[:n]
        assert line[n - 2].isalnum() or line[n - 2] == "_", line[:n]
    assert any(s.text.startswith("def helper_7(x):") for s in ranked[-1])
    assert any(s.text.startswith("def total_with_tax(") for s in ranked[-1])


def test_plain_bm25_baseline_fills_the_budget_in_score_order() -> None:
    snippets = plain_bm25_snippets("x = helper_3(", [Source("/u.py", UNRELATED)], 300)
    assert "helper_3" in snippets[0].text
    assert sum(len(s.text) for s in snippets) <= 300


@pytest.mark.parametrize(
    ("name", "source", "first_line"),
    [
        ("parse", "import x\n\nfunction parse(text) {\n  return 1;\n}\n", "function parse(text) {"),
        ("Parser", "package p;\npublic class Parser {\n  int x;\n}\n", "public class Parser {"),
        (
            "load",
            "class A {\n  public static int load(String k) {\n    return 1;\n  }\n}\n",
            "  public static int load(String k) {",
        ),
        ("LIMIT", "LIMIT = 10\n", "LIMIT = 10"),
        ("Point", "type Point struct {\n\tX int\n}\n", "type Point struct {"),
    ],
)
def test_find_definition_across_languages(name: str, source: str, first_line: str) -> None:
    window = find_definition(name, Source("/f", source))
    assert window is not None
    assert window.text.split("\n")[0] == first_line


def test_edited_region_and_recent_edits() -> None:
    before = "a\nb\nc\nd\n"
    assert edited_region(before, "a\nb😀\nc\nd\n") == (1, 2)
    assert edited_region(before, before) is None
    recent = RecentEdits.empty()
    recent.record("u", before, "a\nbX\nc\nd\n")
    recent.record("u", "a\nbX\nc\nd\n", "a\nbXY\nc\nd\n")  # the same place again: merged
    recent.record("v", "1\n", "12\n")
    assert list(recent.places) == [("u", 1, 2), ("v", 0, 1)]
    recent.forget("u")
    assert list(recent.places) == [("v", 0, 1)]


def test_the_edit_in_progress_is_no_snippet_but_edits_elsewhere_are() -> None:
    """The region around the cursor is the prompt's prefix and suffix already; as a
    snippet it would repeat them and change with every keystroke."""
    far = "".join(f"value_{i} = compute({i})\n" for i in range(40))
    before = far + "def report(invoice):\n    \n"
    recent = RecentEdits.empty()
    recent.record("file:///w/a.py", far, far.replace("value_3 =", "value_3: int ="))
    after = before + "    due = total"
    recent.record("file:///w/a.py", before, after)  # typing at the end
    documents = {"file:///w/a.py": after}
    cursor_line = after.count("\n")

    def sources(line: int | None) -> list[int]:
        places = tuple(recent.places)
        found = gather_sources("file:///w/a.py", documents, places, str, lambda _: True, line)
        return [source.first_line for source in found]

    assert sources(None) == [36, 0]  # newest first: the cursor's place, then line 3's
    assert sources(cursor_line) == [0]  # the edit in progress is left out
    assert sources(3) == [36]  # (the other way round, with the cursor up there)


# -- hygiene and assembly -----------------------------------------------------------------

SECRET = 'DATABASE_URL=postgres://total_with_tax\nAPI_KEY="sk-abcdefghijklmnopqrstuvwx"\n'


def _documents(root: str) -> dict[str, TextDocument]:
    files = {
        f"{root}/main.py": (
            "python",
            "import models\n\ndef report(inv):\n    return total_with_tax(",
        ),
        f"{root}/models.py": ("python", MODELS + 'token = "ghp_' + "a" * 36 + '"\n'),
        f"{root}/.env": ("dotenv", SECRET),
        f"{root}/build/generated.py": ("python", "def total_with_tax(a, b):\n    return 0\n"),
    }
    return {
        "file://" + path: TextDocument("file://" + path, text, 1, language)
        for path, (language, text) in files.items()
    }


def test_assembled_context_excludes_secret_and_ignored_files_and_masks_keys() -> None:
    root = "/work/repo"
    documents = _documents(root)
    store = WorkspaceStore()
    for uri, document in documents.items():
        store.open(uri, document.text, document.version, document.language_id)
    current = store.documents[f"file://{root}/main.py"]
    snapshot = store.snapshot(current, len(current.text), root, Settings(), False)
    # (the rules a `.gitignore` at the root would give; the store reads it from disk)
    context = assemble_context(replace(snapshot, ignore=IgnoreRules.parse("build/\n")))
    paths = {snippet.path for snippet in context.snippets}
    assert paths == {f"{root}/models.py"}
    text = "".join(snippet.text for snippet in context.snippets)
    assert "def total_with_tax(invoice, rate):" in text
    assert "ghp_" not in text and "sk-abc" not in text
    assert [scope.text for scope in context.scopes] == ["def report(inv):"]
    assert context.multiline is False


def test_a_clean_tree_names_scopes_that_indentation_cannot() -> None:
    text = "class Store {\nint load(String key) {\nint y = 1;\n\nreturn y;\n}\n}\n"
    cursor = text.index("\n\n") + 1
    tree = parse_text(text, "java")
    assert tree is not None
    headers = scope_headers(tree, encode(text), len(encode(text[:cursor])))
    assert [h.text for h in headers] == ["class Store {", "int load(String key) {"]


def test_the_ranking_is_reused_while_a_word_is_typed_and_redone_when_an_input_changes() -> None:
    sources = [Source("/repo/util.py", UNRELATED), Source("/repo/models.py", MODELS)]
    head = "from models import Invoice\n\ndef report(invoice):\n    due = total_wi"
    first = rank_neighbour_snippets(head, "\n", sources, 400)
    assert rank_neighbour_snippets(head + "th", "\n", sources, 400) is first  # no rework
    changed = [Source("/repo/util.py", UNRELATED), Source("/repo/models.py", MODELS + "\n")]
    again = rank_neighbour_snippets(head + "th", "\n", changed, 400)
    assert again is not first and again[0].text.endswith("\n\n")  # from the new text
    completed = rank_neighbour_snippets(head + "th_tax(", "\n", changed, 400)
    assert completed[0].text.startswith("def total_with_tax(")


def test_definitions_are_found_as_the_per_name_expression_found_them() -> None:
    """The definition finder checks generic expressions around each place a name
    occurs (none compiled per name on a request); it must find exactly the lines the
    per-name expression it replaces found."""
    import random
    import re

    from lsp_server.context.neighbours import _DEFINITION_KEYWORD, _first_definition

    def per_name(name: str) -> re.Pattern[str]:
        return re.compile(
            rf"^[ \t]*(?:[\w@<>\[\],.?*&:]+[ \t]+)*(?:{_DEFINITION_KEYWORD}[ \t]+"
            rf"{re.escape(name)}\b|[\w<>\[\],.?*&]+[ \t]+{re.escape(name)}[ \t]*\()"
            rf"|^[ \t]*{re.escape(name)}[ \t]*[:=][^=]",
            re.MULTILINE,
        )

    def expected(name: str, text: str) -> int | None:
        found = per_name(name).search(text)
        return None if found is None else found.start()

    draw = random.Random(7)
    pieces = [
        *("def", "class", "const", "let", "fn", "public", "static", "int", "@dec", "x$"),
        *("foo", "foobar", "$foo", "foo$", "bar", "Foo", "List<T>", "a.b", "*", "&"),
        *(" ", " ", "\t", "(", ")", "=", "==", ":", "::", ",", "\n", "\n", "  "),
    ]
    names = ("foo", "$foo", "foo$", "Foo", "x$")
    tails = ("(", " (", " = 1", ":", "==", "", "x", "$", "\n")
    for trial in range(4000):
        text = "".join(draw.choice(pieces) for _ in range(draw.randint(1, 14)))
        if trial % 2:  # near a definition: words, then a name, then what may follow
            words = " ".join(draw.choice(pieces[:20]) for _ in range(draw.randint(0, 3)))
            text += f"{draw.choice(['', ' ', chr(9)])}{words} {draw.choice(names)}"
            text += draw.choice(tails)
        for name in names:
            assert _first_definition(name, text) == expected(name, text), (name, text)
