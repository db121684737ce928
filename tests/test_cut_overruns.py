"""The cut's fixes of issue #18, each on the case that showed it (these fail on the cut
before the fix). The whole measurement is `bench/through_lsp.py`."""

from __future__ import annotations

import pytest

from lsp_server.postprocess import CutLimits, StreamCut, finish_cut


def streamed(raw: str, prefix: str, suffix: str, limits: CutLimits) -> str:
    """The text shown once the cut is final, re-cut per character as tokens stream."""
    stream = StreamCut(prefix, suffix, limits)
    for end in range(1, len(raw) + 1):
        cut = stream.cut(raw[:end])
        if cut.final:
            return cut.text
    return finish_cut(raw, prefix, suffix, limits).text


# Statement mode, each case streamed per character and finished whole.
# - A model that breaks the line first and writes the cursor's line again below, typed
#   code included: shown as is, `public ` + `⏎ public Kernel Kernel {` (granite).
# - The rest of the cursor's line inside the middle too: `[1]` after `plural = `, the
#   model's `v[1].split('plural=')[1]`: the middle ends where the rest ends the line, as
#   in the suffix, not at its first occurrence (`v`), nor before the line is whole.
# - Ruby's `end` closes the block the statement opened (`map do |a|`) in `return(`.
STATEMENTS = [
    pytest.param(
        "class A\n{\n    public Info Info { get; protected set; }\n\n    public ",
        " get; private set; }\n\n    public List<Module> Modules => GetModules();\n}\n",
        "\n    \n    public Kernel Kernel { get; private set; }\n\n    public Scratch X;\n",
        "csharp",
        "Kernel Kernel {",
        id="csharp-property-started-over",
    ),
    pytest.param(
        "def f(m):\n    undo.",
        "\n    return m\n",
        "\n    undo.undo(m)\n    return m\n",
        "python",
        "undo(m)",
        id="python-call-started-over",
    ),
    pytest.param(  # the line the suffix has next is the model running on: nothing
        "class Q\n{\n    public ",
        "\n    public Data data;\n    private static Q instance;\n}\n",
        "\n    public Data data;\n    private static Q instance;\n}\n",
        "csharp",
        "",
        id="suffix-line-again",
    ),
    pytest.param(
        "def f(v):\n    if k:\n        v = v.split(';')\n        plural = ",
        "[1]\n        self.plural = c2py(plural)\n",
        "v[1].split('plural=')[1]\n        self.plural = c2py(plural)\n        return v\n",
        "python",
        "v[1].split('plural=')",
        id="python-rest-of-line-inside-the-middle",
    ),
    pytest.param(
        "def port\n  if forwarded\n    return(",
        ")\n  end\nend\n",
        "forwarded.map do |authority|\n      split(authority)[2]\n    end.compact)\n  end\nend\n",
        "ruby",
        "forwarded.map do |authority|\n      split(authority)[2]\n    end.compact",
        id="ruby-end-of-a-block-argument",
    ),
]


@pytest.mark.parametrize(("prefix", "suffix", "raw", "language", "shown"), STATEMENTS)
def test_a_statement_shows_only_the_middle(
    prefix: str, suffix: str, raw: str, language: str, shown: str
) -> None:
    limits = CutLimits(False, 12, (), language)
    assert streamed(raw, prefix, suffix, limits) == shown
    assert finish_cut(raw, prefix, suffix, limits).text == shown


def test_a_signature_split_after_its_modifiers_is_one_header() -> None:
    """C#'s `public void` ⏎ `Name(` ⏎ `args)` ⏎ `{` above a body the suffix has: the
    header is the completion, up to its `{` (the name's line starts no statement)."""
    prefix = "class T\n{\n    [Theory]\n    [MemberData(nameof("
    suffix = "\n        int code = Random();\n    }\n}\n"
    raw = (
        "Invalid))]\n    public void\n        ShouldThrow(\n            Exception e)\n    {\n"
        "        int code = Random();\n    }\n}\n"
    )
    shown = "Invalid))]\n    public void\n        ShouldThrow(\n            Exception e)\n    {"
    limits = CutLimits(False, 12, (), "csharp")
    assert streamed(raw, prefix, suffix, limits) == shown


def test_a_preprocessor_line_at_column_0_stays_in_the_function() -> None:
    """C/C++: `#if` … `#endif` at column 0 inside a body is no scope exit."""
    prefix = "TEST(x, compile_time_string) {\n"
    suffix = "}\nTEST(x, format_to) {\n  auto buf = 1;\n}\n"
    body = '  EXPECT_EQ(f(L"{}"), 42);\n#if defined(FMT_USE)\n  EXPECT_EQ(g(L"{}"), 42);\n#endif\n'
    limits = CutLimits(True, 12, (), "cpp")
    assert streamed(body + suffix, prefix, suffix, limits) == body


def test_a_body_under_a_header_over_several_lines_keeps_the_model_indentation() -> None:
    """Python, a blank line prompted at column 0 under `def f(a,` ⏎ `      b):`: the
    body's level comes from the header's first line, not its continuation line."""
    prefix = (
        "class Filter(Base):\n    def __init__(self, inclusive, pattern,\n"
        "                 lineno=None, domain=None):\n        "
    )
    suffix = "\n        self.lineno = lineno\n"
    raw = "        super().__init__(inclusive)\n        self.lineno = lineno\n"
    limits = CutLimits(False, 12, (), "python", column_zero_prompt=True)
    assert streamed(raw, prefix, suffix, limits) == "super().__init__(inclusive)"


def test_nested_blocks_closing_one_level_each_are_no_loop() -> None:
    """C, three `}` in a row at three indentations end three blocks: the "same line
    three times is a loop" rule counted them as one line repeated and cut the body
    before its last two closers (sds.c's `sdsmapchars`, held out)."""
    prefix = "sds sdsmapchars(sds s, const char *from, size_t setlen) {\n"
    suffix = "}\n\nsds sdsjoin(char **argv, int argc) {\n    sds join = sdsempty();\n"
    body = (
        "    size_t j, i, l = sdslen(s);\n\n    for (j = 0; j < l; j++) {\n"
        "        for (i = 0; i < setlen; i++) {\n            if (s[j] == from[i]) {\n"
        "                s[j] = to[i];\n                break;\n            }\n"
        "        }\n    }\n    return s;\n"
    )
    limits = CutLimits(True, 32, (), "c")
    assert streamed(body + suffix, prefix, suffix, limits) == body
    # A line looping at one indentation still ends the text after two of it.
    loop = "    x = 1;\n" + "    free(p);\n" * 4
    assert streamed(loop + suffix, prefix, suffix, limits) == "    x = 1;\n    free(p);\n"


def test_a_shell_string_over_two_lines_stays_whole() -> None:
    """Bash: `err+="…` ⏎ `"`: a double-quoted string goes on over the line break, and
    its closing `"` at column 0 is no scope exit (neofetch's `err`, held out)."""
    prefix = 'stdout() {\n    image_backend="off"\n}\nerr() {\n'
    suffix = "}\nget_full_path() {\n    # This function finds the absolute path.\n"
    body = '    err+="$(color 1)[!]${reset} $1\n"\n'
    limits = CutLimits(True, 32, (), "shellscript")
    assert streamed(body + suffix, prefix, suffix, limits) == body
    # An escaped quote outside a string opens none (`${wm/\"}`): the statement ends.
    prefix = "f() {\n    wm=${wm/*WM_NAME = }\n    "
    suffix = '\n    wm=${wm/\\"*}\n}\n'
    raw = 'wm=${wm/\\"}\n    wm=${wm/\\"*}\n}\n'
    limits = CutLimits(False, 32, (), "shellscript")
    assert streamed(raw, prefix, suffix, limits) == 'wm=${wm/\\"}'


def test_a_trailing_blank_after_the_cursor_is_not_typed_again() -> None:
    """The cursor before a line's trailing blank: the model writes the statement and
    that blank; the document has it already (bats-core's `local -ir parent_pid`)."""
    prefix = "bats_kill_processes_of() {\n  "
    suffix = " \n  local -r signal=${2?}\n}\n"
    raw = 'local -ir parent_pid="${1?}" \n  local -r signal=${2?}\n}\n'
    limits = CutLimits(False, 32, (), "shellscript")
    assert finish_cut(raw, prefix, suffix, limits).text == 'local -ir parent_pid="${1?}"'


def test_a_lambda_body_among_a_calls_arguments_does_not_end_the_statement() -> None:
    """C#: the cursor after `ExecuteCoreSync(`, the arguments over several lines, the
    first a lambda with a block body (`static (_, state) =>` ⏎ `{` … `},`): its `{` was
    read as a header opening a block, and the statement ended at the lambda's `},`
    (Polly, held out)."""
    prefix = "    void Execute(Action callback)\n    {\n        try\n        {\n"
    prefix += "            Component.ExecuteCoreSync("
    suffix = ");\n        }\n        finally\n        {\n            Pool.Return(context);\n"
    middle = (
        "\n                static (_, state) =>\n                {\n"
        "                    state();\n                    return VoidResult.Instance;\n"
        "                },\n                context,\n                callback"
    )
    limits = CutLimits(False, 32, (), "csharp")
    assert streamed(middle + suffix, prefix, suffix, limits) == middle


def test_a_call_opened_on_the_line_that_closes_another_goes_on_to_its_end() -> None:
    """TypeScript: `invokeAsync(` ⏎ … ⏎ `)(` + cursor: the line closes one call and
    opens the one the arguments go in; the statement was taken as closed after the
    first argument (msal-browser, held out)."""
    prefix = (
        "    async f() {\n        const authority = await invokeAsync(\n"
        "            getDiscoveredAuthority,\n            correlationId\n        )("
    )
    suffix = "\n        );\n\n        const pkce = await invokeAsync(\n"
    middle = "\n            this.config,\n            this.logger,\n            account"
    limits = CutLimits(False, 32, (), "typescript")
    assert streamed(middle + suffix, prefix, suffix, limits) == middle


def test_whole_lines_in_front_of_a_line_keep_an_end_like_it() -> None:
    """Lua, the cursor at column 0 before the function's `end`: the body's one line
    ends with an `end` of its own (`if … then return src end`), which was dropped as the
    rest of the cursor's line typed again (Penlight, held out)."""
    prefix = (
        "local function simple_table(t)\n    return #t > 0\nend\n\nfunction List._create (src)\n"
    )
    suffix = "end\n\nfunction List:_init (src)\n    if self == src then return end\n"
    body = "    if simple_table(src) then return src end\n"
    limits = CutLimits(True, 32, (), "lua")
    assert streamed(body + suffix, prefix, suffix, limits) == body
