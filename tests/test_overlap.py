"""The cut's fixed cases from the multi-language set (issue 18): the rest of the
cursor's line typed again by a model that runs on into the suffix, block ends in
brace and `end` languages, and the token-limit rule."""

from __future__ import annotations

import pytest

from lsp_server.postprocess import CutLimits, cut_completion, finish_cut
from lsp_server.postprocess.overlap import Overlap, ran_into_suffix, suffix_overlap


def statement(language: str) -> CutLimits:
    return CutLimits(False, 12, (), language)


def block(language: str) -> CutLimits:
    return CutLimits(True, 12, (), language)


# (language, prefix, middle, suffix): the model writes middle + suffix and goes on.
RUN_ON = [
    pytest.param(
        "cpp",
        "int f(int s, int k) {\n    if(",
        "s>=k-1",
        "){\n        ans = max(ans, s);\n    }\n    return ans;\n}\n",
        id="cpp-condition-paren-brace",
    ),
    pytest.param(
        "c",
        "void g(void) {\n    if (",
        "patches != NULL",
        ")\n    {\n        current_patch = patches->child;\n    }\n}\n",
        id="c-condition-allman",
    ),
    pytest.param(
        "java",
        "    void run() {\n        for (",
        "Class cls : interfaces",
        ") {\n            add(cls);\n        }\n    }\n",
        id="java-for-header",
    ),
    pytest.param(
        "go",
        "func f() {\n\tif user, found := users[token]; ",
        "found",
        ' {\n\t\tlog.Printf("user %s", user)\n\t}\n}\n',
        id="go-condition-brace",
    ),
    pytest.param(
        "python",
        "def f(obj):\n    if ",
        "isinstance(obj, type)",
        ":\n        return repr(obj.__qualname__)\n    return repr(obj)\n",
        id="python-condition-colon",
    ),
    pytest.param(
        "javascript",
        "function f(a) {\n  const total = compute(",
        "a.items, a.rate",
        ");\n  return total * 2;\n}\n",
        id="js-arguments-paren-semicolon",
    ),
    pytest.param(
        "python",
        "def f(items, i):\n    value = items[",
        "i + 1",
        "]\n    return value * 3\n",
        id="python-index-bracket",
    ),
    pytest.param(
        "typescript",
        "function f(xs: number[]) {\n  xs.forEach((x) => { total += ",
        "x * rate",
        " })\n  return total\n}\n",
        id="ts-brace-paren",
    ),
    pytest.param(
        "csharp",
        "        return provider\n            .Aggregate(",
        "(Handler) Next,\n                (next, p) => (t) => p.Handle(request, next, t)",
        ")();\n    }\n\n    public void Other()\n    {\n    }\n}\n",
        id="csharp-arguments-over-two-lines",
    ),
]


@pytest.mark.parametrize(("language", "prefix", "middle", "suffix"), RUN_ON)
def test_a_model_running_on_into_the_rest_of_the_line_shows_the_middle(
    language: str, prefix: str, middle: str, suffix: str
) -> None:
    raw = middle + suffix + "\nmore();\n"
    finished = finish_cut(raw, prefix, suffix, statement(language))
    assert finished.text == middle
    # While streaming, the cut is final once the copy is confirmed, before the text ends.
    text, final = "", None
    for char in raw:
        text += char
        cut = cut_completion(text, prefix, suffix, statement(language))
        if cut.final:
            final = cut
            break
    assert final is not None and final.text == middle
    assert final.then_suffix


def test_the_rest_of_the_line_is_held_back_until_the_suffix_confirms_it() -> None:
    prefix, suffix = "    if (", ") {\n        run(first, second);\n    }\n"
    assert suffix_overlap("a > b)", prefix, suffix) == Overlap(5, False)
    assert suffix_overlap("a > b) {\n        ru", prefix, suffix) == Overlap(5, False)
    assert suffix_overlap("a > b) {\n        run(first, s", prefix, suffix) == Overlap(5, True)
    # The model's own `)` goes on otherwise: no overlap there.
    assert suffix_overlap("f(a) > b && c", prefix, suffix) is None
    # A model that stopped: too short an agreement decides nothing.
    assert suffix_overlap("a > b) {\n", prefix, suffix, ended=True) is None


@pytest.mark.parametrize(
    ("language", "prefix", "raw", "suffix", "shown"),
    [
        pytest.param(
            "rust",
            "fn fibonacci(",
            "n: u32) -> u32 {\n    if n == 0 {\n        0\n    } else {\n        1\n    }\n}",
            ")\n",
            "n: u32) -> u32 {",
            id="short-suffix-then-own-code",  # Tabby's fibonacci: the signature goes on
        ),
        pytest.param(
            "python",
            "x = foo(",
            "bar(1), 2)\n",
            ")\n",
            "bar(1), 2",
            id="paren-inside-the-middle",
        ),
    ],
)
def test_a_short_suffix_is_no_copy_when_the_model_writes_past_it(
    language: str, prefix: str, raw: str, suffix: str, shown: str
) -> None:
    cut = finish_cut(raw, prefix, suffix, statement(language))
    assert cut.text.startswith(shown)


def test_a_body_that_ran_out_while_copying_the_suffix_is_whole() -> None:
    prefix = "def f(x):\n"
    suffix = "    return y\n\n\nprint(f(1))\n"
    body = "    y = x + 1\n    y *= 2\n"
    raw = body + "    return y\n\n\nprint(f"  # the token limit, mid-copy
    cut = finish_cut(raw, prefix, suffix, block("python"), ran_out=True)
    assert cut.text.rstrip("\n") == body.rstrip("\n")
    # Ran out in its own code: where it ends is arbitrary, the first statement stays.
    rambling = body + "    z = y ** 2\n    for k in ran"
    cut = finish_cut(rambling, prefix, suffix, block("python"), ran_out=True)
    assert cut.text.rstrip("\n") == "    y = x + 1"


def test_a_shared_word_start_is_no_copy_of_the_suffix() -> None:
    assert not ran_into_suffix("\n        AccUtils.", "\n        AccUtils.home();\n    }\n")
    assert ran_into_suffix("\n        AccUtils.home();\n", "\n        AccUtils.home();\n    }\n")
    assert not ran_into_suffix("\n    ", "\n")  # blanks after the body: nothing copied


@pytest.mark.parametrize(
    ("language", "prefix", "body", "suffix"),
    [
        pytest.param(
            "ruby",
            "module Rack\n",
            "  class Config\n    def initialize(app)\n      @app = app\n    end\n\n"
            "    def call(env)\n      @app.call(env)\n    end\n  end\n",
            "end\n",
            id="ruby-end-at-another-indentation",
        ),
        pytest.param(
            "ruby",
            "class A\n  def stat(path)\n",
            "    ::File.stat(path)\n  rescue Errno::ENOENT\n    nil\n",
            "  end\nend\n",
            id="ruby-rescue-at-the-method-level",
        ),
        pytest.param(
            "lua",
            "function dir.path(...)\n",
            "   local t = { ... }\n   for i, c in ipairs(t) do\n      t[i] = unquote(c)\n"
            '   end\n   return dir.normalize(table.concat(t, "/"))\n',
            "end\n\nreturn dir\n",
            id="lua-short-rest-of-file-is-no-copy",
        ),
        pytest.param(
            "c",
            "static void a(void)\n{\n",
            "    char *m = malloc(8);\n    TEST_ASSERT_NOT_NULL(m);\n    free(m);\n",
            "}\n\nstatic void b(void)\n{\n"
            "    char *m = malloc(8);\n    TEST_ASSERT_NOT_NULL(m);\n}\n",
            id="c-same-lines-in-the-next-function",
        ),
    ],
)
def test_block_ends(language: str, prefix: str, body: str, suffix: str) -> None:
    cut = finish_cut(body + suffix, prefix, suffix, block(language))
    assert cut.text.rstrip("\n") == body.rstrip("\n")


def test_a_loop_cut_by_the_line_limit_shows_its_first_round() -> None:
    prefix = "    void run() {\n        start();\n\n"
    suffix = "        home();\n    }\n}\n"
    loop = "        back();\n        sleep(2000);\n\n" * 8
    cut = cut_completion(loop, prefix, suffix, CutLimits(True, 12, (), "java"))
    assert cut.final
    assert cut.text.rstrip("\n") == "        back();\n        sleep(2000);"
    # Lines that do not loop stay, up to the limit.
    lines = "".join(f"        step{i}();\n" for i in range(14))
    cut = cut_completion(lines, prefix, suffix, CutLimits(True, 12, (), "java"))
    assert cut.final and cut.text.rstrip("\n").count("\n") == 11
