"""What is shown of a real model's text (issue #19): whole lines only, the indentation
the syntax needs, no repeated typed word, no line the suggestion breaks. Pure functions
here; `test_shown_text_rpc.py` drives the same through the real server."""

from __future__ import annotations

import itertools

import pytest

from lsp_server.postprocess import CutLimits, cut_completion, finish_cut
from lsp_server.postprocess.indentation import KEEP, Shift, apply_shift, indent_shift
from lsp_server.postprocess.prefix_overlap import typed_overlap, typed_word
from lsp_server.postprocess.syntax_check import syntax_trim

BODY = 'def f(xs):\n    """Doc."""\n    total = 0\n'
LOOP = "def f(xs):\n    for x in xs:\n"
NESTED = "def f(s):\n    def g(t):\n        v = 0\n"


@pytest.mark.parametrize(
    ("prefix", "suffix", "text", "expected"),
    [
        # column 0 under a header: the model forgot the body's indentation
        ("def add(a, b):\n", "\n\nprint(add(1, 2))\n", "return a + b", Shift(delta=4)),
        (LOOP, "\n    return 1\n", "    y = x", Shift(delta=4)),
        (LOOP, "\n            z = 1\n", "y = x", Shift(delta=12)),  # the body's own level
        # …but a header there has that code as its body: the level in between
        (LOOP, "\n            z = 1\n", "    if x:", Shift(delta=4)),
        # a header shallower than the code after it: its body may be that code
        (
            "def f(s):\n    def g(t):\n        v = 0\n",
            "\n                v += 1\n",
            "        for c in t:",
            KEEP,
        ),
        # column 0 inside a body: its level is right as the model wrote it
        (BODY, "\n    return total\n", "    total += 1", KEEP),
        # too deep for any open block: the nearest level
        (BODY, "\n    return total\n", "        total += 1", Shift(delta=-4)),
        # a top-level definition where the function goes on after the cursor: dropped
        (BODY, "\n    return total\n", "def main():", Shift(drop=True)),
        # at the end of the function a top-level statement is fine
        (BODY, "\n\nprint(f([1]))\n", "print(1)", KEEP),
        # the editor indented the line, the model wrote the indentation again
        (BODY + "    ", "\n    return total\n", "    return total", Shift(strip_first=4)),
        (LOOP + "        ", "\n    return 1\n", "        y = x", Shift(strip_first=8)),
        # already indented, the model's text is deeper on purpose (valid level): kept
        (LOOP + "        y = x\n    ", "\n", "    z = 1", KEEP),
        # no fix: code on the line, inside brackets, tabs, other languages at column 0
        ("def f():\n    x = ", "\n", "  1", KEEP),
        ("x = [\n", "\n]\n", "    1,", KEEP),
        ("def f():\n\tx = 1\n", "\n", "y = 2", KEEP),
        ("function f() {\n", "\n}\n", "return 1;", KEEP),
        # …but a doubled indentation is fixed in any language
        ("function f() {\n    ", "\n}\n", "    return 1;", Shift(strip_first=4)),
    ],
)
def test_indent_shift(prefix: str, suffix: str, text: str, expected: Shift) -> None:
    language = "javascript" if "function" in prefix else "python"
    assert indent_shift(prefix, suffix, language, text + "\n", final=False) == expected


@pytest.mark.parametrize(
    ("prefix", "suffix", "text", "expected"),
    [
        # A Python line holding only the editor's indentation, prompted as empty
        # (`prompt/blank_line.py`): the model's indentation is absolute, the typed part
        # is removed from it…
        (LOOP + "        y = x\n    ", "\n", "    z = 1", Shift(strip_first=4)),
        (LOOP + "        y = x\n    ", "\n", "        z = 1", Shift(strip_first=4)),
        # …as fixed at column 0 (the header's body the model forgot)…
        ("def add(a, b):\n    ", "\n\nprint(add(1, 2))\n", "return a + b", Shift(0, 4, first=0)),
        # …and a line shallower than what is typed (auto-indent went one level too
        # deep) removes the difference from the typed indentation (`dedent`)
        (LOOP + "        y = x\n        ", "\n", "    return y", Shift(first=0, dedent=4)),
        (LOOP + "        y = x\n        ", "\n", "return y", Shift(first=0, dedent=8)),
        (
            "def f(a):\n    if a:\n        x = 1\n        ",
            "\n",
            "    else:",
            Shift(0, 0, first=0, dedent=4),
        ),
        # …unless both are the body of the header above: the editor's level is the body's
        (
            "def f(s):\n    if s:\n        ",
            "\n    return 1\n",
            "      return 0",
            Shift(0, 2, first=0),
        ),
        # inside brackets any indentation is valid: the editor's stands
        ("x = f(\n        ", "\n)\n", "    1,", Shift(strip_first=4)),
        # other languages are prompted as typed (`blank_line.py`)
        ("function f() {\n    ", "\n}\n", "    return 1;", Shift(strip_first=4)),
    ],
)
def test_indent_shift_after_a_column_zero_prompt(
    prefix: str, suffix: str, text: str, expected: Shift
) -> None:
    language = "javascript" if "function" in prefix else "python"
    shift = indent_shift(prefix, suffix, language, text + "\n", final=False, column_zero=True)
    assert shift == expected


def test_indent_shift_waits_for_the_first_character() -> None:
    assert indent_shift("def f():\n", "\n", "python", "   ", final=False) is None
    assert indent_shift("def f():\n", "\n", "python", "   ", final=True) == KEEP


def test_a_line_shallower_than_the_code_after_it_waits_for_its_end() -> None:
    """`    else` may become `    else:` (a header: fine there) or not."""
    prefix = "def f(a):\n    if a:\n        return 1\n"
    suffix = "\n        return 2\n"
    assert indent_shift(prefix, suffix, "python", "    else", final=False) is None
    assert indent_shift(prefix, suffix, "python", "    else:\n", final=False) == KEEP
    assert indent_shift(prefix, suffix, "python", "    x = 1\n", final=False) == Shift(delta=4)


@pytest.mark.parametrize(
    ("text", "shift", "expected"),
    [
        ("return a\nb", Shift(delta=4), "    return a\n    b"),
        ("        x\n        y\n", Shift(delta=-4), "    x\n    y\n"),
        ("    return x\n    y", Shift(strip_first=4), "return x\n    y"),
        ("return a\nb", Shift(delta=4, first=0), "return a\n    b"),
        ("def main():", Shift(drop=True), ""),
        ("x", KEEP, "x"),
    ],
)
def test_apply_shift(text: str, shift: Shift, expected: str) -> None:
    assert apply_shift(text, shift) == expected


def test_apply_shift_grows_with_the_text() -> None:
    text = "        a = 1\n        b = 2\n"
    shown = [apply_shift(text[:n], Shift(delta=-4)) for n in range(len(text) + 1)]
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(shown))


@pytest.mark.parametrize(
    ("prefix", "suffix", "text", "expected"),
    [
        ("class A:\n    def f(self):\n        sel", "\n", "self.x = 1", 3),
        ("class A:\n    def f(self):\n        sel", "\n", "f.x = 1", 0),  # continues it
        ("def f(n):\n    n", "\n    return n\n", "n = 0", 1),
        ("def f():\n    re", "\n", "return 1", 2),  # a keyword
        ("def f(n):\n    n", "\n", "nif n % 2 == 1:", 0),  # not a repeat: the syntax check's
        ("ab = 1\nababc = 2\nab", "\n", "abc = 3", 0),  # the glued word exists: a continuation
        ("x = sel", "f.y\n", "self", 0),  # inside a word: nothing typed to repeat
        ("x = 1\n", "\n", "self.x", 0),  # no typed word
    ],
)
def test_typed_overlap(prefix: str, suffix: str, text: str, expected: int) -> None:
    assert typed_overlap(prefix, suffix, text, final=False) == expected


def test_typed_overlap_waits_for_the_whole_word() -> None:
    prefix = "class A:\n    def f(self):\n        sel"
    assert typed_overlap(prefix, "\n", "se", final=False) is None
    assert typed_overlap(prefix, "\n", "self", final=False) is None
    assert typed_overlap(prefix, "\n", "self", final=True) == 3
    assert typed_word(prefix, "\n") == "sel"


@pytest.mark.parametrize(
    ("prefix", "suffix", "text", "language", "expected"),
    [
        # a statement glued to the typed word: nothing of it parses
        ("def f(n):\n    n", "\n    return n\n", "if n % 2 == 1:", "python", ""),
        # lines after a good one that break the code: cut back to the good one
        (BODY, "\n    return total\n", "    total += 1\n    x = (1,", "python", "    total += 1"),
        # fine as it is
        (BODY, "\n    return total\n", "    for x in xs:\n        total += x", "python", None),
        # a header whose body comes next: not an error
        (BODY, "\n    return total\n", "    for x in xs:", "python", None),
        ("function f() {\n", "\n}\n", "  if (x) {", "javascript", None),
        # a document that did not parse at the cursor already: no verdict
        ("def f(:\n    ", "\n", "x = ", "python", None),
        # no grammar: no check
        ("", "\n", "a b c ((", "plaintext", None),
    ],
)
def test_syntax_trim(
    prefix: str, suffix: str, text: str, language: str, expected: str | None
) -> None:
    assert syntax_trim(text, prefix, suffix, language) == (text if expected is None else expected)


# True code the grammars cannot parse, from projects none of us wrote (issue #18): an
# error inside whole lines the suggestion wrote, that leaves the code around it as it
# was, is no verdict on the suggestion.
LEVELDB_STATE = (  # google/leveldb util/env_test.cc (BSD-3-Clause): a thread annotation
    "struct State {\n",
    "  port::Mutex mu;\n  port::CondVar cvar{&mu};\n\n  int val GUARDED_BY(mu);\n"
    "  int num_running GUARDED_BY(mu);",
    "\n};\n\nstatic void ThreadBody(void* arg) {\n  s->mu.Lock();\n}\n",
)
BATS_ESCAPE = (  # bats-core libexec/bats-core/bats-preprocess (MIT): `\\'` outside quotes
    "encode_name() {\n  local name=\"$1\"\n  local result='test_'\n"
    "  for ((i = 0; i < length; i++)); do\n      ",
    "char=\"${name:$i:1}\"\n      if [[ \"$char\" == ' ' ]]; then\n        result+='_'\n"
    "      else\n        printf -v 'hex_code' -- '-%02x' \\'\"$char\"\n"
    '        result+="$hex_code"\n      fi',
    '\n  done\n  printf -v "$2" \'%s\' "$result"\n}\n',
)


@pytest.mark.parametrize(
    ("prefix", "text", "suffix"), [LEVELDB_STATE, BATS_ESCAPE], ids=["guarded_by", "bash_quote"]
)
def test_true_code_the_grammar_cannot_parse_is_kept(prefix: str, text: str, suffix: str) -> None:
    language = "cpp" if "struct" in prefix else "shellscript"
    assert syntax_trim(text, prefix, suffix, language) == text


@pytest.mark.parametrize(
    ("prefix", "text", "suffix", "language", "expected"),
    [
        # a call the suggestion leaves open into the code after it (the check before
        # kept it: the error started on the suffix's line)
        ("void f() {\n", "  g(1);\n  h(a,", "\n  return;\n}\n", "cpp", "  g(1);"),
        # the window's first line (`else:` without its `try:`) takes the body along: the
        # document's own error, not the suggestion's
        (
            "else:\n\n",
            "    def g(c):\n        return c\n",
            "\ndef h():\n    pass\n",
            "python",
            None,
        ),
    ],
)
def test_what_the_suggestion_breaks_is_judged(
    prefix: str, text: str, suffix: str, language: str, expected: str | None
) -> None:
    assert syntax_trim(text, prefix, suffix, language) == (text if expected is None else expected)


PY_BLOCK = CutLimits(True, 12, (), "python")
PY_LINE = CutLimits(False, 12, (), "python")


@pytest.mark.parametrize(
    ("raw", "limits", "expected"),
    [
        # the token limit cut the model's only line: nothing rather than half of it
        ("    f = [0, 1", PY_LINE, ""),
        ("    f = [0, 1", PY_BLOCK, ""),
        # whole lines before it stay
        ("    f = [0, 1]\n    for e, o in zip(e", PY_BLOCK, "    f = [0, 1]"),
    ],
)
def test_a_line_the_token_limit_cut_is_not_shown(
    raw: str, limits: CutLimits, expected: str
) -> None:
    prefix, suffix = "def fib(n):\n", "\n    return f[n]\n"
    assert finish_cut(raw, prefix, suffix, limits, ran_out=True).text == expected


def test_a_model_that_stopped_by_itself_keeps_its_last_line() -> None:
    prefix, suffix = "def fib(n):\n", "\n    return f[n]\n"
    assert finish_cut("    f = [0, 1]", prefix, suffix, PY_LINE).text == "    f = [0, 1]"


def test_the_streamed_cut_reads_the_fixed_text() -> None:
    """Indentation and the typed word are fixed before the cut's own rules, so a block
    at column 0 under a header is cut at its scope's end like an indented one."""
    prefix, suffix = "def add(a, b):\n", "\n\nprint(add(1, 2))\n"
    raw = "s = a + b\nreturn s\n\nprint(add(1, 2))\n"
    assert finish_cut(raw, prefix, suffix, PY_BLOCK).text == "    s = a + b\n    return s"
    seen = [cut_completion(raw[:n], prefix, suffix, PY_BLOCK).text for n in range(len(raw))]
    assert all(text == "" or text.startswith("    s") for text in seen)


REJOIN = CutLimits(True, 12, (), "python", rejoin=True)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # the model filled one line and went on with the code after the cursor
        ("    n = len(xs)\n    return n * 2\n\nprint(f([1]))\n", "    n = len(xs)"),
        # several lines, then the code after the cursor: the block
        (
            "    n = len(xs)\n    n += 1\n    return n * 2\n\nprint(f([1]))\n# test",
            "    n = len(xs)\n    n += 1",
        ),
        # code of its own that never comes back to the suffix: its first statement
        ("    n = len(xs)\n    m = n + 1\n    print(m)\n    k = 3\n", "    n = len(xs)"),
        # a compound first statement keeps its body
        (
            "    for x in xs:\n        n += x\n    m = 2\n    k = 3\n",
            "    for x in xs:\n        n += x",
        ),
    ],
)
def test_a_rejoin_block_is_shown_only_where_the_model_goes_on_with_the_suffix(
    raw: str, expected: str
) -> None:
    prefix, suffix = "def f(xs):\n    n = 0\n", "\n    return n * 2\n\nprint(f([1]))\n"
    assert finish_cut(raw, prefix, suffix, REJOIN, ran_out=True).text == expected


def test_a_rejoin_block_at_the_end_of_its_scope_is_whole() -> None:
    prefix, suffix = "def f(xs):\n    n = 0\n", "\n\nprint(f([1]))\n"
    raw = "    n = len(xs)\n    return n\n\nprint(f([2]))\nprint(3)\n"
    assert finish_cut(raw, prefix, suffix, REJOIN).text == "    n = len(xs)\n    return n"


def test_a_rejoin_is_decided_when_the_repeated_line_is_whole() -> None:
    prefix, suffix = "def f(xs):\n    n = 0\n", "\n    return n * 2 + total\n"
    cut = cut_completion("    n = len(xs)\n    return n * 2 + tot", prefix, suffix, REJOIN)
    assert not cut.final
    cut = cut_completion("    n = len(xs)\n    return n * 2 + total\n", prefix, suffix, REJOIN)
    assert cut.final and cut.text == "    n = len(xs)"


def test_a_line_that_starts_like_the_suffix_is_no_rejoin() -> None:
    """A real model's `letter_grade.append("A+")` agrees with the suffix's
    `letter_grade.append("A")` for 20 characters (HumanEval/81): decided on 12 of
    them, the block ended one line early."""
    prefix = "def grade(gpa):\n    letter_grade = []\n"
    suffix = '\n            letter_grade.append("A")\n        elif gpa > 3.3:\n'
    text = '    if gpa == 4.0:\n        letter_grade.append("A+")\n'
    for end in range(1, len(text) + 1):  # as it streams
        assert not cut_completion(text[:end], prefix, suffix, REJOIN).final


def test_a_nested_helper_whose_body_follows_is_kept() -> None:
    prefix = 'def f(s):\n    """Doc."""\n\n'
    suffix = "\n        return depth\n\n    return [g(x) for x in s]\n"
    assert indent_shift(prefix, suffix, "python", "    def g(t):\n", final=False) == KEEP
