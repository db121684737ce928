"""Post-processing rules, one at a time, on real snippets in several languages."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.quality import streamed
from lsp_server.postprocess import (
    Cut,
    CutLimits,
    StreamCut,
    cut_completion,
    decide_multiline,
    finish_cut,
)


def cut(
    raw: str, prefix: str, suffix: str, language: str = "python", multiline: bool | None = None
) -> str:
    mode = decide_multiline(prefix, suffix, "auto", language) if multiline is None else multiline
    return finish_cut(raw, prefix, suffix, CutLimits(mode, 64, (), language)).text


def cut_case(
    case_id: str,
    prefix: str,
    raw: str,
    suffix: str,
    expected: str,
    language: str = "python",
    multiline: bool | None = None,
) -> Any:
    """A case of `test_the_cut`: `cut(raw, prefix, suffix, language, multiline)` is
    `expected` (`multiline` None: the mode `decide_multiline` picks)."""
    return pytest.param(language, multiline, prefix, raw, suffix, expected, id=case_id)


@pytest.mark.parametrize(
    ("prefix", "suffix", "expected"),
    [
        ("x = foo(", ")\n", False),  # mid-line: the rest of the statement
        ("def f():\n    ", "\n", True),  # empty block body
        ("def f():\n", "    return 1\n", True),  # column 0 in front of code: whole lines
        ("# Title\n\n## ", "\n", True),
    ],
)
def test_decide_multiline(prefix: str, suffix: str, expected: bool) -> None:
    language = "markdown" if prefix.startswith("#") else "python"
    assert decide_multiline(prefix, suffix, "auto", language) is expected


STATEMENTS_AND_BLOCKS = [
    cut_case(
        "statement_mode_stops_at_the_end_of_the_line",
        prefix="    x = anims.",
        raw="fuse(v, w)\n    anim = 1\n",
        suffix="\n    y\n",
        expected="fuse(v, w)",
    ),
    cut_case(
        "statement_mode_continues_while_a_call_is_open",
        prefix="d.",
        raw="finalize(\n    threshold=t, nwords=n\n)\nnext_line()\n",
        suffix="\n",
        expected="finalize(\n    threshold=t, nwords=n\n)",
    ),
    # the body is already there
    cut_case(
        "statement_mode_keeps_an_allman_brace_in_csharp",
        language="csharp",
        prefix="        public void ",
        raw="Foo(int a)\n        {\n            return;\n",
        suffix="\n            Run();\n        }\n",
        expected="Foo(int a)\n        {",
    ),
    cut_case(
        "an_allman_header_with_no_body_yet_gets_its_block_in_csharp",
        language="csharp",
        prefix="public class Person\n{\n    public Person(string name, int ",
        raw="age)\n    {\n        Name = name;\n        Age = age;\n    }\n\n    public",
        suffix="\n}",
        expected="age)\n    {\n        Name = name;\n        Age = age;\n    }",
    ),
    cut_case(
        "statement_mode_stops_after_a_block_header_whose_body_exists_in_java",
        language="java",
        prefix="    public void ",
        raw="run() {\n        go();\n    }\n",
        suffix="\n        stop();\n    }\n}\n",
        expected="run() {",
    ),
    cut_case(
        "python_triple_quoted_string_opened_before_the_cursor",
        prefix='m = """',
        raw='Line one.\nLine two 😀 and 中文.\n"""\nprint(x)\n',
        suffix="\nprint(m)\n",
        expected='Line one.\nLine two 😀 and 中文.\n"""',
    ),
    cut_case(
        "block_mode_stops_before_the_suffix",
        prefix="def f(xs):\n    total = 0\n",
        raw="    for x in xs:\n        total += x\n    return total\n",
        suffix="    return total\n",
        expected="    for x in xs:\n        total += x\n",
    ),
    cut_case(
        "block_mode_stops_at_the_end_of_the_function",
        prefix="def f(xs):\n    ",
        raw="return sum(xs)\n\ndef g():\n    pass\n",
        suffix="\n",
        expected="return sum(xs)",
    ),
    cut_case(
        # (was also test_a_block_the_suffix_closes_is_not_closed_again: the same case)
        "duplicated_closing_brace_is_dropped_in_javascript",
        language="javascript",
        prefix="function log(obj) {",
        raw="\n  console.log(obj);\n};",
        suffix="\n}\n",
        expected="\n  console.log(obj);",
    ),
    cut_case(
        "closing_brace_kept_when_the_suffix_does_not_close_the_block",
        language="java",
        multiline=True,
        prefix="class A {\n    void add(int n) {\n        total += n;\n",
        raw="\n    }\n\n    void sub(int n) {\n        total -= n;\n    }\n",
        suffix="",
        expected="\n    }",
    ),
    cut_case(
        "closing_quote_not_repeated_with_cjk",
        prefix='msg = "',
        raw='你好世界"',
        suffix='"\n',
        expected="你好世界",
    ),
    cut_case(
        "repeated_lines_are_cut",
        multiline=True,
        prefix="def f():\n\t",
        raw="a = 1\n\tlog()\n\tlog()\n\tlog()\n\tlog()\n",
        suffix="\n",
        expected="a = 1\n\tlog()",
    ),
    # a call opened lines above the cursor: the completion closes it
    cut_case(
        "statement_mode_closes_what_the_prefix_opened_on_earlier_lines-1",
        language="java",
        multiline=False,
        prefix=(
            "        return new Task(\n"
            "                scheduler.run(\n"
            "                        task -> r."
        ),
        raw="run(), delay\n                )\n        );\n    }\n\n    void other() {\n",
        suffix="\n    }\n",
        expected="run(), delay\n                )\n        );",
    ),
    # a TypeScript signature over several lines, with a CJK default
    cut_case(
        "statement_mode_closes_what_the_prefix_opened_on_earlier_lines-2",
        language="typescript",
        multiline=False,
        prefix="  public static async select(\n    label = '選択',\n    changes:",
        raw=" Change[],\n  ): Promise<Change[]> {\n    const x = 1;\n",
        suffix="\n    const response = 1;\n",
        expected=" Change[],\n  ): Promise<Change[]> {",
    ),
    # the suffix closes the call itself: one argument line is the statement
    cut_case(
        "statement_mode_closes_what_the_prefix_opened_on_earlier_lines-3",
        multiline=False,
        prefix="value = compute(\n    first,\n    ",
        raw="second,\n    third,\n",
        suffix="\n)\n",
        expected="second,",
    ),
    cut_case(
        "a_model_running_on_past_its_function_is_still_cut",
        multiline=True,
        prefix="def f(x):\n    if x:\n",
        raw="        return 1\n    return 0\n\n\ndef g():\n    pass\n",
        suffix="",
        expected="        return 1\n    return 0",
    ),
    cut_case(
        "a_distinctive_suffix_line_cuts_even_when_the_model_then_diverges",
        language="java",
        multiline=True,
        prefix="    void build() {\n        embed.setTitle(title);\n        ",
        raw=(
            "embed.setImage(image);\n        embed.setThumbnail(thumbnailUrl);\n"
            "        embed.setFooter(footer);\n        embed.setColor(color);\n"
        ),
        suffix="\n        embed.setThumbnail(thumbnailUrl);\n        return embed;\n    }\n",
        expected="embed.setImage(image);",
    ),
]


def test_a_header_that_opens_a_new_block_goes_on_to_its_closing_line() -> None:
    # TypeScript accessor typed at the end of a class: the body is not there yet.
    prefix = "export class Foo {\n  private _foo: number;\n\n  get"
    raw = " foo(): number {\n    return this._foo;\n  }\n\n  set foo(v: number) {\n"
    assert cut(raw, prefix, "\n}\n", "typescript") == " foo(): number {\n    return this._foo;\n  }"
    # The cursor's line opened the block (`=> {`): its body, then the closing line.
    prefix = "stream.on('data', (data) => {"
    raw = "\n  console.log(data.toString());\n});\nmore();\n"
    assert cut(raw, prefix, "\n", "javascript") == "\n  console.log(data.toString());\n});"


@pytest.mark.parametrize(
    ("language", "prefix", "suffix", "raw", "replace"),
    [
        # TypeScript: the model closed both calls itself and went on (`, min);`).
        ("typescript", "  return Math.max(Math.min(", "))\n}\n", "value, max), min);", 2),
        # Rust: the auto-closed `")` typed again after the string's content.
        ("rust", '    body.insert("', '")\n}\n', 'text".to_string(), text);', 2),
        # JavaScript, multi-line: a new function body, the `)` re-typed on its first line.
        ("javascript", "function printHello(", ")\n", ") {\n  console.log('你好 😀');\n}", 1),
        # The completion's own `)` with the line's `)` kept: nothing is replaced.
        ("python", "print(", ")\n", "len(xs)", 0),
        # The rest is code, not closing punctuation: never replaced.
        ("python", "x = f(", "a, b)\n", "a, b)", 0),
    ],
)
def test_the_rest_of_line_the_completion_typed_again_is_replaced(
    language: str, prefix: str, suffix: str, raw: str, replace: int
) -> None:
    mode = decide_multiline(prefix, suffix, "auto", language)
    result = finish_cut(raw, prefix, suffix, CutLimits(mode, 64, (), language))
    assert (result.text, result.replace) == (raw, replace) or (replace == 0 and result.replace == 0)
    document = prefix + result.text + suffix[result.replace :]
    if replace:
        assert document.count(")") == document.count("(")


def test_a_tag_end_typed_again_is_dropped_in_jsx() -> None:
    assert (
        cut("message={message} />", "    <App ", "/>\n", "javascriptreact") == "message={message} "
    )
    assert cut("React.StrictMode>", "  </", ">\n", "javascriptreact") == "React.StrictMode"


def test_rest_of_line_brackets_are_not_repeated() -> None:
    assert cut("len(xs))", "print(", ")\n") == "len(xs)"
    assert cut("len(xs)", "print(", ")\n") == "len(xs)"  # its own parenthesis stays


def test_crlf_documents_cut_at_the_line_end() -> None:
    assert cut("bar()\r\n    baz()\r\n", "    x = foo.", "\r\n").rstrip("\r") == "bar()"


def test_no_suggestion_carries_a_reason() -> None:
    limits = CutLimits(False, 4)
    empty = finish_cut("", "x = ", "\n", limits)
    assert (empty.text, empty.reason) == ("", "model returned nothing")
    blank = finish_cut("\n}\n", "function f() {\n  go();", "\n}\n", CutLimits(True, 4))
    assert blank.text == "" and blank.reason == "empty after cut"


def test_the_cut_is_final_as_soon_as_the_line_is_complete() -> None:
    limits = CutLimits(False, 4, (), "python")
    assert not cut_completion("foo(1", "x = ", "\n", limits).final
    final = cut_completion("foo(1)\n    y", "x = ", "\n", limits)
    assert final.final and final.text == "foo(1)"


def test_stop_sequence_and_partial_stop() -> None:
    limits = CutLimits(True, 8, ("<|endoftext|>",), "python")
    assert cut_completion("a = 1<|endof", "", "", limits).text == "a = 1"
    assert cut_completion("a = 1<|endoftext|>b", "", "", limits).final


_LINE = st.text(alphabet="abc(){}:= \t;x😀中", max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    body=st.lists(_LINE, max_size=4),
    anchor=_LINE.filter(lambda s: bool(s.strip())),
    after=st.lists(_LINE, max_size=3),
    indent=st.sampled_from(["", "    ", "\t"]),
    multiline=st.booleans(),
)
def test_never_ends_with_the_suffixs_next_line(
    body: list[str], anchor: str, after: list[str], indent: str, multiline: bool
) -> None:
    prefix = "def f():\n" + indent
    suffix = "\n" + indent + anchor + "\n" + "\n".join(after)
    raw = "\n".join([*body, indent + anchor, *after]) + "\n"
    text = finish_cut(raw, prefix, suffix, CutLimits(multiline, 64, (), "python")).text
    lines = text.split("\n")
    lines[0] = indent + lines[0]  # the cursor's line starts with the indentation
    lines = [line for line in lines if line.strip()]
    if len(lines) > 1:  # the same line at another indentation is another statement
        assert lines[-1].rstrip() != (indent + anchor).rstrip()


@pytest.mark.parametrize(
    ("language", "prefix", "raw", "suffix", "expected"),
    [
        (
            "csharp",
            "        public ",
            "Kernel Kernel { get; private set; }",
            " get; private set; }\n",
            "Kernel Kernel {",
        ),
        ("typescript", "const log = ({ ok }: { ok:", " boolean }) => { ", " }) => {\n", " boolean"),
        ("python", "print(f'😀 {", "name}')", "name}')\n", None),  # all of it: kept as is
        (  # the model wrote the rest of the line and went on after it
            "csharp",
            "        public ",
            "string Name { get; set; } = string.Empty;",
            " get; set; }\n",
            "string Name {",
        ),
        (
            "javascript",
            "const label = ",
            'count + " 件"; console.log(label);',
            ' + " 件";\n',
            "count",
        ),
        (  # after a line break the model left: the first line it wrote is what counts
            "csharp",
            "        public ",
            "\n            Kernel Kernel { get; private set; }",
            " get; private set; }\n",
            "\n            Kernel Kernel {",
        ),
    ],
)
def test_a_whole_rest_of_line_written_again_is_dropped(
    language: str, prefix: str, raw: str, suffix: str, expected: str | None
) -> None:
    assert cut(raw, prefix, suffix, language, multiline=False) == (expected or raw)


NESTED = '''def largest(n):
    """Largest prime factor — 素因数 😀."""
    def is_prime(k):
        if k < 2:
'''


def test_a_nested_helper_ends_and_the_outer_loop_the_suffix_sits_in_is_written() -> None:
    middle = (
        "            return False\n"
        "        return True\n"
        "    best = 1\n"
        "    for j in range(2, n + 1):\n"
        "        if n % j == 0 and is_prime(j):\n"
    )
    suffix = "            best = j\n    return best\n"
    assert cut(middle + suffix, NESTED, suffix, multiline=True) == middle


def test_a_sibling_helper_above_is_not_the_enclosing_scope() -> None:
    prefix = "def f(xs):\n    def ok(x):\n        return x > 0\n    i = 0\n    while i < len(xs):\n"
    middle = (
        "        if ok(xs[i]):\n            print(xs[i])\n        i += 1\n    total = sum(xs)\n"
    )
    suffix = "    return total\n"
    assert cut(middle + suffix, prefix, suffix, multiline=True) == middle


def test_the_suffix_is_never_left_unreachable_after_a_return() -> None:
    middle = "            return False\n        return True\n    f = [0, 1]\n    while True:\n"
    suffix = "        f.append(f[-1] + f[-2])\n        return f\n"
    assert cut(middle + suffix, NESTED, suffix, multiline=True) == middle


def test_at_the_end_of_the_file_the_outer_function_goes_on_after_a_helper() -> None:
    middle = (
        "            return False\n        return True\n    return max(range(n), key=is_prime)\n"
    )
    raw = middle + "\n\ndef unrelated():\n    pass\n"
    assert cut(raw, NESTED, "", multiline=True) == middle.rstrip("\n")


@pytest.mark.parametrize(
    ("language", "prefix", "raw", "final"),
    [
        ("java", "        int total = ", "count(items);\n", True),  # `;` ends it: no `{` follows
        ("python", "    total = ", "count(items)\n", True),  # no braces at all
        ("csharp", "    public void Run()", "\n", False),  # an Allman `{` may come next
    ],
)
def test_statement_is_final_at_the_line_break_unless_an_allman_brace_may_follow(
    language: str, prefix: str, raw: str, final: bool
) -> None:
    limits = CutLimits(False, 64, (), language)
    assert cut_completion(raw, prefix, "\n}\n", limits).final is final


def test_a_distinctive_suffix_line_ends_the_block_at_once() -> None:
    prefix = "def f(items):\n    total = 0\n"
    suffix = "    return summarize_everything(total, items)\n"
    raw = "    total += len(items)\n    return summarize_everything(total, items)\n"
    result = cut_completion(raw, prefix, suffix, CutLimits(True, 64, (), "python"))
    assert result == Cut("    total += len(items)\n", True, then_suffix=True)


def test_a_string_opened_before_the_cursor_is_closed_by_the_first_line_in_rust() -> None:
    prefix = 'fn add(x: i32, y: i32) -> i32 {\n    println!("x:'
    raw = ' {}", x);\n    println!("y: {}", y);\n    println!("x + y: {}'
    suffix = '", x);\n    return x + y;\n}\n'
    # The first line only; its tail is the rest of the line again, so it is dropped.
    assert prefix + cut(raw, prefix, suffix, "rust") + suffix == prefix + ' {}", x);' + suffix[6:]


# -- a skipped suffix line; scopes the suffix leaves open ---------------------------------


SKIPPED_LINES_AND_OPEN_SCOPES = [
    # Java: the model skipped `setThumb` and went on with the suffix's next lines
    cut_case(
        "a_long_suffix_line_further_down_ends_the_block-1",
        language="java",
        multiline=True,
        prefix="    void build() {\n        embed.setTitle(title);\n",
        raw=(
            "        embed.setImage(image);\n        Generator generator = new Generator(board);\n"
            "        embed.setDescription(generator.describe());\n"
        ),
        suffix=(
            "        embed.setThumb(thumb);\n        Generator generator = new Generator(board);\n"
            "        embed.setDescription(generator.describe());\n    }\n"
        ),
        expected="        embed.setImage(image);\n",
    ),
    # Python with CJK: the same, in an indentation language
    cut_case(
        "a_long_suffix_line_further_down_ends_the_block-2",
        multiline=True,
        prefix="def 報告(行):\n    合計 = 0\n",
        raw=(
            "    合計 += len(行)\n    print('最後の行の数は', len(行), '行です。')\n"
            "    return 合計\n"
        ),
        suffix=(
            "    記録(合計)\n    print('最後の行の数は', len(行), '行です。')\n    return 合計\n"
        ),
        expected="    合計 += len(行)\n",
    ),
    # `current_string.append(c)` occurs in both branches: the next line differs.
    cut_case(
        "a_long_line_repeated_legitimately_is_kept",
        multiline=True,
        prefix="def f(s):\n    for c in s:\n",
        raw="        if c == '(':\n            current_string.append(c)\n        elif c == ')':\n",
        suffix=(
            "        elif c == ')':\n            depth -= 1\n            current_string.append(c)\n"
        )
        + "\n",
        expected="        if c == '(':\n            current_string.append(c)\n",
    ),
    # TypeScript: the suffix is the next function; the forEach and this one stay open
    cut_case(
        "statement_mode_closes_the_scopes_the_suffix_leaves_open-1",
        language="typescript",
        prefix=(
            "export const total = (checks: Check[]) => {\n  let sum = 0\n"
            "  checks.forEach((check) => {\n    sum += new Date("
        ),
        raw="check.end).getTime() - 1 // 🚀\n  })\n\n  return sum\n}\n\nexport const next = 1\n",
        suffix="\n\nexport const other = (x: number) => {\n  return x\n}\n",
        expected="check.end).getTime() - 1 // 🚀\n  })\n\n  return sum\n}",
    ),
    # Go, tabs: the function's closing line is written, the next one is not
    cut_case(
        "statement_mode_closes_the_scopes_the_suffix_leaves_open-2",
        language="go",
        prefix="func sum(xs []int) int {\n\tt := 0\n\tfor _, x := range xs {\n\t\tt += ",
        raw="x\n\t}\n\treturn t\n}\n\nfunc other() {}\n",
        suffix="\n\nfunc main() {\n\tfmt.Println(sum(nil))\n}\n",
        expected="x\n\t}\n\treturn t\n}",
    ),
    cut_case(
        "statement_mode_stays_one_line_when_the_suffix_closes_the_scope",
        language="javascript",
        prefix="function f(xs) {\n  xs.forEach((x) => {\n    total += new Date(",
        raw="x.end).getTime()\n  })\n  return total\n}\n",
        suffix="\n  })\n  return total\n}\n",
        expected="x.end).getTime()",
    ),
    # Go: the last field so far; the suffix closes the struct
    cut_case(
        "the_last_member_of_a_type_goes_on_with_the_next_members-1",
        language="go",
        prefix="type Address struct {\n    Street string\n    City   ",
        raw="string\n    State   string\n    ZipCode string\n}",
        suffix="\n}\n\nfunc main() {}",
        expected="string\n    State   string\n    ZipCode string",
    ),
    # TypeScript interface, emoji in a comment
    cut_case(
        "the_last_member_of_a_type_goes_on_with_the_next_members-2",
        language="typescript",
        prefix="interface User {\n  id: number; // 🙂\n  e",
        raw="mail: string;\n  age: number;\n}",
        suffix="\n}\n",
        expected="mail: string;\n  age: number;",
    ),
    # Rust, in a function body (not a type): the rest of the statement only
    cut_case(
        "the_last_member_of_a_type_goes_on_with_the_next_members-3",
        language="rust",
        prefix="fn main() {\n    let a = 1;\n    let b = ",
        raw="2;\n    let c = 3;\n}",
        suffix="\n}\n",
        expected="2;",
    ),
    cut_case(
        "a_block_whose_body_the_model_did_not_indent_ends_where_its_brace_closes",
        language="scss",
        prefix="nav {\n  .logo {\n    color: #333;\n\n    .brand",
        raw="-name {\n    font-weight: bold;\n}\n  ul {\n",
        suffix="\n  }\n\n  ul {\n    gap: 1rem;\n  }\n}",
        expected="-name {\n    font-weight: bold;\n}",
    ),
]


# -- shorter cuts where the end is uncertain (issue #9, edit similarity) ----------------


UNCERTAIN_ENDS = [
    cut_case(
        "block_mode_ends_before_closing_a_block_the_suffix_closes_in_java",
        language="java",
        prefix=(
            "    try {\n        return read(file);\n    } catch (IOException e) {\n"
            "        e.printStackTrace();\n        "
        ),
        raw="request.setReturnCode(500);\n    } else if (file.exists()) {\n        retry();\n",
        suffix="\n        return error500;\n    }\n}\n",
        expected="request.setReturnCode(500);",
    ),
    cut_case(
        "block_mode_ends_at_a_closing_brace_written_deeper_than_it_belongs_in_typescript",
        language="typescript",
        prefix="function f(x: number) {\n    if (x > 0) {\n        log(x);\n        ",
        raw="if (x > 1) {\n            count += 1;\n        }\n        }\n        else {\n",
        suffix="\n        return x;\n    }\n    return 0;\n}\n",
        expected="if (x > 1) {\n            count += 1;\n        }",
    ),
    cut_case(
        "statement_mode_completes_the_header_of_a_body_the_suffix_has_in_csharp",
        language="csharp",
        prefix=(
            "    public partial class Tests\n    {\n        [Theory]\n        [MemberData(nameof("
        ),
        raw=(
            "DependencyExceptions))]\n        public void ShouldThrowOnRetrieve(\n"
            "            Exception exception)\n        {\n            \n            int code = 1;\n"
        ),
        suffix=(
            "\n            // given\n            int code = GetRandomNumber();\n        }\n    }\n"
        ),
        expected=(
            "DependencyExceptions))]\n        public void ShouldThrowOnRetrieve(\n"
            "            Exception exception)\n        {"
        ),
    ),
    cut_case(
        "statement_mode_completes_an_initializer_whose_elements_the_suffix_has_in_csharp",
        language="csharp",
        prefix="        public static readonly ReadOnlyCollection<",
        raw=(
            "TokenType> TokenTypes = new(new List<TokenType>\n        {\n"
            "            Tokens.identifier,\n"
        ),
        suffix="\n            Tokens.identifier,\n            Tokens.literal,\n        });\n",
        expected="TokenType> TokenTypes = new(new List<TokenType>\n        {",
    ),
    cut_case(
        "statement_mode_completes_a_decorated_python_signature_whose_body_follows",
        prefix="class Api:\n    @route(",
        raw='"/users")\n    def users(self) -> list[str]:\n        return []\n',
        suffix="\n        return self.users()\n",
        expected='"/users")\n    def users(self) -> list[str]:',
    ),
    cut_case(
        "statement_mode_without_a_header_within_a_few_lines_keeps_the_statement",
        language="rust",
        prefix="fn main() {\n    if ready",
        raw=(
            " && armed\n"
            + "".join(f"        {name}();\n" for name in ("start", "stop", "a", "b", "c"))
        ),
        suffix="\n        start();\n    }\n}\n",
        expected=" && armed",
    ),
]


def test_block_mode_ends_before_a_line_indented_under_a_finished_statement_in_java() -> None:
    # `setCode(404);` then a deeper `return`: no construct nests there, the model is
    # copying code from another level (and would leave the suffix's `return` unreachable).
    prefix = "\t\ttry {\n\t\t\treturn read(file);\n\t\t} catch (IOException e) {\n\t\t\t"
    suffix = "\n\t\t\treturn error500;\n\t\t}\n"
    raw = "request.setCode(500);\n\t\t\t\treturn error404;\n\t\t\t}\n"
    assert cut(raw, prefix, suffix, "java") == "request.setCode(500);"
    limits = CutLimits(True, 64, (), "java")
    partial = cut_completion("request.setCode(500);\n\t\t\t\tret", prefix, suffix, limits)
    assert (partial.text, partial.final) == ("request.setCode(500);", True)


@pytest.mark.parametrize(
    "raw",
    [
        "int n = items.size();\n\t\t\tlog(n);\n",  # the same level: two statements
        "total += x\n\t\t\t\t* rate;\n",  # a continuation line: no `;` before it
        "for (int i = 0; i < n; i++)\n\t\t\t\tsum += i;\n",
    ],
)
def test_deeper_lines_that_nest_legitimately_are_kept_in_java(raw: str) -> None:
    prefix = "\tvoid run() {\n\t\tif (ready) {\n\t\t\t"
    suffix = "\n\t\t}\n\t}\n"
    assert cut(raw, prefix, suffix, "java") == raw.rstrip("\n")


def test_block_mode_keeps_a_closing_brace_nothing_after_the_cursor_closes() -> None:
    prefix = "int main() {\n    for (int i = 0; i < n; i++) {\n        "
    raw = "sum += i;\n    }\n    return sum;\n}\n"
    assert cut(raw, prefix, "", "c").startswith("sum += i;\n    }")


# -- object literals the prefix opened (statement mode) -----------------------------------

RETURN_LITERAL = (
    "    switch (action) {\n"
    "        case 'auth': {\n"
    "            const [player, isNew] = await login(req);\n"
    "            return [StatusCodes.ok, {\n"
    "                player"
)
RETURN_LITERAL_SUFFIX = (
    "\n        }\n\n        case 'me': {\n            return [StatusCodes.ok, {}];\n"
)


OBJECT_LITERALS = [
    # The suffix's `}` (less indented than `return [StatusCodes.ok, {`) closes the
    # `case`, not the literal: the completion lists the properties and closes it.
    cut_case(
        "statement_mode_closes_an_object_literal_the_suffix_leaves_open_in_typescript",
        language="typescript",
        prefix=RETURN_LITERAL,
        raw=(
            ": toClientPlayer(player),\n                isNew,\n            }];\n"
            "        }\n        case 'me': {\n"
        ),
        suffix=RETURN_LITERAL_SUFFIX,
        expected=": toClientPlayer(player),\n                isNew,\n            }];",
    ),
    # back at the `case`
    cut_case(
        "an_object_literal_the_model_leaves_open_ends_before_the_outer_scope",
        language="typescript",
        prefix=RETURN_LITERAL,
        raw=": toClientPlayer(player),\n        break;\n        }\n",
        suffix=RETURN_LITERAL_SUFFIX,
        expected=": toClientPlayer(player),",
    ),
    # the suffix closes the literal itself: one property
    cut_case(
        "a_brace_that_opens_a_block_or_a_closed_literal_keeps_the_plain_statement-1",
        language="javascript",
        multiline=False,
        prefix="const user = {\n    name: 'Ana 😀',\n    age",
        raw=": 31,\n    city: '東京',\n};\n",
        suffix="\n};\n",
        expected=": 31,",
    ),
    # a callback's `{` inside a call is a block: one statement
    cut_case(
        "a_brace_that_opens_a_block_or_a_closed_literal_keeps_the_plain_statement-2",
        language="typescript",
        multiline=False,
        prefix="items.forEach((item) => {\n    total",
        raw=" += item.price;\n    count++;\n",
        suffix="\n});\n",
        expected=" += item.price;",
    ),
    # `case x: {` opens a block, not a literal
    cut_case(
        "a_brace_that_opens_a_block_or_a_closed_literal_keeps_the_plain_statement-3",
        language="javascript",
        multiline=False,
        prefix="switch (kind) {\n    case 'a': {\n        const v",
        raw=" = compute();\n        return v;\n",
        suffix="\n    }\n}\n",
        expected=" = compute();",
    ),
    # Java: an anonymous class body after `)` is a block
    cut_case(
        "a_brace_that_opens_a_block_or_a_closed_literal_keeps_the_plain_statement-4",
        language="java",
        multiline=False,
        prefix="executor.submit(new Runnable() {\n\tpublic void run() {\n\t\tint n",
        raw=" = queue.size();\n\t\tlog(n);\n",
        suffix="\n\t}\n});\n",
        expected=" = queue.size();",
    ),
    # the rest of the line closes the call: the model's next line is another statement
    cut_case(
        "a_line_back_at_the_level_of_an_open_call_ends_the_statement-1",
        language="go",
        multiline=False,
        prefix="func main() {\n\tfmt.Println(",
        raw='"a", 😀 "b"\n\tlog.Println("東京")\n',
        suffix=")\n}\n",
        expected='"a", 😀 "b"',
    ),
    # the model never closes the call it is in
    cut_case(
        "a_line_back_at_the_level_of_an_open_call_ends_the_statement-2",
        language="rust",
        multiline=False,
        prefix="fn main() {\n    let v = compute(",
        raw="a, b\n    next();\n",
        suffix="\n}\n",
        expected="a, b",
    ),
    # a line that starts by closing the list is its end, kept
    cut_case(
        "a_line_back_at_the_level_of_an_open_call_ends_the_statement-3",
        language="rust",
        multiline=False,
        prefix="fn main() {\n    let v = vec![\n        1,\n        2",
        raw=",\n        3,\n    ];\n    next();\n",
        suffix="\n}\n",
        expected=",\n        3,\n    ];",
    ),
    cut_case(
        "a_line_back_at_the_level_of_an_open_call_ends_the_statement-4",
        multiline=False,
        prefix="x = foo(",
        raw="a, b\nnext()\n",
        suffix=")\n",
        expected="a, b",
    ),
]


def test_an_open_object_literal_keeps_the_cut_undecided_until_it_closes() -> None:
    limits = CutLimits(False, 64, (), "typescript")
    partial = cut_completion(
        ": toClientPlayer(player),\n                isNe",
        RETURN_LITERAL,
        RETURN_LITERAL_SUFFIX,
        limits,
    )
    assert partial.final is False
    assert partial.text.startswith(": toClientPlayer(player),")


@pytest.mark.parametrize(
    ("language", "multiline", "prefix", "raw", "suffix", "expected"),
    STATEMENTS_AND_BLOCKS + SKIPPED_LINES_AND_OPEN_SCOPES + UNCERTAIN_ENDS + OBJECT_LITERALS,
)
def test_the_cut(
    language: str, multiline: bool | None, prefix: str, raw: str, suffix: str, expected: str
) -> None:
    assert cut(raw, prefix, suffix, language, multiline) == expected


# -- block mode: a suffix repeat confirmed character by character ----------------------


def _block(raw: str, prefix: str, suffix: str, language: str = "python") -> Cut:
    return cut_completion(raw, prefix, suffix, CutLimits(True, 64, (), language))


def test_a_suffix_repeat_is_final_once_a_few_characters_of_the_next_line_agree() -> None:
    prefix = "def total(xs):\n    s = 0\n    for x in xs:\n        "
    suffix = "\n    return s\n\nprint(total([1, 2]))\n"
    raw = "s += x\n    return s\n\nprint(total(["  # the next line not finished yet
    result = _block(raw, prefix, suffix)
    assert result.final and result.text == "s += x"


def test_a_suffix_repeat_waits_while_the_agreement_is_too_short_to_tell() -> None:
    prefix = "def f(chars):\n    out = []\n    for c in chars:\n        "
    suffix = "\n        out.append(c)\n    return out\n"
    result = _block(
        "if c == ' ':\n            continue\n        out.append(c)\n    ret", prefix, suffix
    )
    assert not result.final and "out.append" not in result.text


def test_a_line_like_the_suffix_followed_by_other_code_is_kept_in_go() -> None:
    prefix = "func f(xs []int) int {\n\tn := 0\n\tfor _, x := range xs {\n\t\t"
    suffix = "\n\t\tn++\n\t}\n\treturn n\n}\n"
    raw = "if x < 0 {\n\t\t\tn++\n\t\t\tcontinue\n"  # `n++` again, then something else
    result = _block(raw, prefix, suffix, "go")
    assert "continue" in result.text


def test_a_suffix_repeat_agreeing_with_emoji_and_cjk_text_is_final_in_javascript() -> None:
    prefix = "function greet(name) {\n  "
    suffix = "\n  log('完成 ✅');\n  return `👋 ${name}`;\n}\n"
    raw = "const who = name.trim();\n  log('完成 ✅');\n  return `👋 ${na"
    result = _block(raw, prefix, suffix, "javascript")
    assert result.final and result.text == "const who = name.trim();"


# -- the bracket scanner ----------------------------------------------------------------


def reference_scan(language: str, lines: list[str]) -> dict[str, object]:
    """The scanner's rules one character at a time: the specification `Scan.line`'s
    jumps must agree with."""
    from lsp_server.postprocess.scan import (
        CLOSERS,
        HASH_COMMENT,
        MULTILINE_QUOTES,
        NO_SINGLE_QUOTE_STRINGS,
        OPENERS,
    )

    depth = lowest = parens = parens_lowest = 0
    stack, quote, opened, open_at_end, dangling = "", "", False, False, ""
    for line in lines:
        i = 0
        while i < len(line):
            char = line[i]
            if quote:
                if char == "\\":
                    i += 2
                    continue
                if line.startswith(quote, i):
                    i += len(quote)
                    quote = ""
                    continue
            elif char in "\"'`" and language in MULTILINE_QUOTES and line[i - 1 : i] == "\\":
                i += 1  # shell: an escaped quote outside strings
                continue
            elif char in "\"'`" and not (char == "'" and language in NO_SINGLE_QUOTE_STRINGS):
                triple = line.startswith(char * 3, i) and language == "python"
                quote = char * 3 if triple else char
                i += len(quote)
                continue
            elif (language in HASH_COMMENT and char == "#") or (
                language not in HASH_COMMENT and line.startswith("//", i)
            ):
                break
            elif char in OPENERS:
                depth, stack, parens = depth + 1, stack + char, parens + (char != "{")
            elif char in CLOSERS:
                depth, parens = depth - 1, parens - (char != "}")
                parens_lowest, lowest = min(parens_lowest, parens), min(lowest, depth)
                stack = stack[:-1]
            i += 1
        open_at_end, dangling = bool(quote), quote
        multiline = MULTILINE_QUOTES.get(language)
        if quote in ("'", '"') and not line.endswith("\\") and quote != multiline:
            quote = ""
        opened = line.rstrip().endswith("{") and stack.endswith("{")
    return {
        "depth": depth,
        "lowest": lowest,
        "parens": parens,
        "parens_lowest": parens_lowest,
        "stack": stack,
        "quote": quote,
        "last_line_opened_brace": opened,
        "open_at_line_end": open_at_end,
        "dangling": dangling,
    }


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(["python", "rust", "javascript", "go", "bash", "markdown", ""]),
    st.lists(st.text(alphabet="ab \"'`#/\\(){}[]x", max_size=30), max_size=4),
)
def test_the_bracket_scanner_agrees_with_a_character_by_character_reading(
    language: str, lines: list[str]
) -> None:
    from dataclasses import asdict

    from lsp_server.postprocess.scan import Scan

    scan = Scan(language)
    for line in lines:
        scan.line(line)
    state = asdict(scan)
    del state["language"]
    # The bracket kinds are tracked only when asked for (`_open_parens`).
    assert (state.pop("opened"), state.pop("last_code")) == (None, "")
    assert state == reference_scan(language, lines)


# -- re-cuts resume where the last one stopped --------------------------------------------

STREAMED = [
    # (language, prefix, suffix, the model's text: a body, then a run into the suffix)
    (
        "python",
        "def total(items):\n    result = 0\n    for item in items:\n        ",
        "\n    return result\n\n\ndef mean(items):\n    return total(items) / len(items)\n",
        "if item:\n            result += item\n        result += 0\n    return result\n\n\n"
        "def mean(items):\n    return total(items) / len(items)\n",
    ),
    (
        "typescript",
        "function sum(xs: number[]): number {\n  let s = 0;\n  ",
        "\n  return s;\n}\n\nconsole.log(sum([1, 2]));\n",
        "for (const x of xs) {\n    s += x; // 合計 🎉\n  }\n  return s;\n}\n\n"
        "console.log(sum([1, 2]));\n",
    ),
    (
        "go",
        "func max(a, b int) int {\n\t",
        "\n}\n",
        "if a > b {\n\t\treturn a\n\t}\n\treturn b\n}\n\nfunc min(a, b int) int {\n\treturn a\n}\n",
    ),
]


@pytest.mark.parametrize(("language", "prefix", "suffix", "raw"), STREAMED)
def test_a_re_cut_that_resumes_gives_the_cut_of_a_fresh_read(
    language: str, prefix: str, suffix: str, raw: str
) -> None:
    import re

    limits = CutLimits(True, 100, (), language)
    stream = StreamCut(prefix, suffix, limits)
    text, resumed = "", 0
    for token in re.findall(r"\s+|\w{1,4}|[^\w\s]", raw):
        text += token
        progress = stream._resume.progress
        incremental = stream.cut(text)
        resumed += progress is not None and progress.index > 0
        assert incremental == StreamCut(prefix, suffix, limits).cut(text), text
        if incremental.final:
            break
    assert resumed >= 2  # the re-cuts did resume


_STOPS = [(), ("<|endoftext|>", "<|fim_prefix|>"), ("\n\n",), ("}\n", "<|file_sep|>")]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(STREAMED),
    st.lists(st.integers(1, 7), min_size=1, max_size=12),
    st.sampled_from(_STOPS),
    st.booleans(),
    st.sampled_from(["", "<|endoftext|>", "<|fim_pre", "\n\n\nfoo"]),
)
def test_a_streamed_cut_is_the_cut_of_the_text_so_far_at_every_chunk(
    case: tuple[str, str, str, str],
    sizes: list[int],
    stop: tuple[str, ...],
    multiline: bool,
    tail: str,
) -> None:
    """However the text arrives (chunk sizes, a stop sequence or part of one at any
    point), the cut that resumes is the one a fresh read of the same text gives."""
    language, prefix, suffix, raw = case
    raw = raw[: len(raw) // 2] + tail + raw[len(raw) // 2 :]
    limits = CutLimits(multiline, 100, stop, language)
    stream = StreamCut(prefix, suffix, limits)
    at, step = 0, 0
    while at < len(raw):
        at += sizes[step % len(sizes)]
        step += 1
        assert stream.cut(raw[:at]) == StreamCut(prefix, suffix, limits).cut(raw[:at]), at
    # A text that does not extend the last one starts over.
    for other in (
        raw[: len(raw) // 3] + (stop[0] if stop else "") + "x",
        "\n".join(reversed(raw.split("\n"))),
    ):
        assert stream.cut(other) == StreamCut(prefix, suffix, limits).cut(other)


def test_a_text_after_a_final_cut_is_read_afresh() -> None:
    """One-shot callers re-use a cut for the same context (`cut_completion` keeps a
    few): a final cut's text followed by an unrelated one must not leave lines behind."""
    prefix, suffix = "def f():\n    ", "\n"
    limits = CutLimits(True, 100, ("<|endoftext|>",), "python")
    stream = StreamCut(prefix, suffix, limits)
    assert stream.cut("x = 1\n    y = 2<|endoftext|>").final
    other = "a = 3\nprint(a)\n"  # final too: the block ends before `print`
    assert stream.cut(other) == StreamCut(prefix, suffix, limits).cut(other) == Cut("a = 3", True)
    assert cut_completion("x = 1\n    y = 2<|endoftext|>", prefix, suffix, limits).final
    assert cut_completion(other, prefix, suffix, limits) == Cut("a = 3", True)


def test_a_line_still_being_written_that_starts_the_suffix_is_not_shown_yet() -> None:
    prefix = "def area(w, h):\n    "
    suffix = "\n    return w * h  # 面积\n"
    limits = CutLimits(True, 12, (), "python")
    held = cut_completion("assert w > 0\n    return w", prefix, suffix, limits)
    assert not held.final and held.text == "assert w > 0\n"
    differs = cut_completion("assert w > 0\n    return h", prefix, suffix, limits)
    assert differs.text == "assert w > 0\n    return h"


def test_a_final_cut_knows_when_the_model_went_on_with_the_code_after_the_cursor() -> None:
    prefix = "fn area(w: u32, h: u32) -> u32 {\n    "
    suffix = "\n    w * h // 面积 🎉\n}\n"
    block = CutLimits(True, 12, (), "rust")
    ran_on = cut_completion("assert!(w > 0);\n    w * h // 面积 🎉\n}", prefix, suffix, block)
    assert ran_on.final and ran_on.text == "assert!(w > 0);" and ran_on.then_suffix
    statement = CutLimits(False, 12, (), "rust")
    line_end = cut_completion("assert!(w > 0);\n    w", prefix, suffix, statement)
    assert line_end.final and not line_end.then_suffix  # one word agrees by chance


@pytest.mark.parametrize("multiline", [True, False])
def test_a_stream_that_stops_inside_a_copy_of_the_next_line_does_not_show_it(
    multiline: bool,
) -> None:
    prefix = "def shorten(text, width):"
    suffix = '\n    """Collapse and truncate the text — 文字 🎉."""\n    return text\n'
    limits = CutLimits(multiline, 12, (), "python")
    cut = finish_cut('\n    """Collapse and trunc', prefix, suffix, limits)
    assert cut.final and cut.text == ""
    kept = finish_cut('\n    text = text.strip()\n    """Collapse', prefix, suffix, limits)
    assert kept.text.split("\n")[-1] != '    """Collapse'


def test_a_model_cut_off_by_its_token_limit_keeps_its_first_statement_in_block_mode() -> None:
    prefix = "function total(xs) {\n  let s = 0;\n  "
    suffix = "\n}\n"
    limits = CutLimits(True, 12, (), "javascript")
    rambling = "const n = xs.length; // 長さ 🎉\n  for (const x of xs) {\n    s += x;\n  }\n  log("
    assert finish_cut(rambling, prefix, suffix, limits, ran_out=True).text == (
        "const n = xs.length; // 長さ 🎉"
    )
    call = "s = xs.reduce(\n    (a, b) => a + b,\n    0);\n  log(s);\n  if ("
    assert finish_cut(call, prefix, suffix, limits, ran_out=True).text == (
        "s = xs.reduce(\n    (a, b) => a + b,\n    0);"
    )
    stopped = finish_cut(rambling.rsplit("\n", 1)[0], prefix, suffix, limits)
    assert stopped.text.count("\n") == 3  # it stopped by itself: all of it


@given(
    st.text(alphabet="<|ab\n", max_size=24),
    st.lists(st.text(alphabet="<|ab\n", min_size=1, max_size=6), max_size=4),
)
def test_stop_sequences_cut_or_hold_back_as_the_definition_says(raw: str, stop: list[str]) -> None:
    """Before the first stop sequence (after its line break, for one that starts with
    one), final; else the longest end of the text that could begin a stop sequence is
    held back (less the line break it starts with)."""
    from lsp_server.postprocess.stops import cut_at_stop

    found = [raw.find(s) for s in stop if s in raw]
    if found:
        at = min(found)
        expected = (raw[: at + (raw[at] == "\n")], True)
    else:
        held = max(
            (n - s.startswith("\n") for s in stop for n in range(1, len(s)) if raw.endswith(s[:n])),
            default=0,
        )
        expected = (raw[: len(raw) - held], False)
    assert cut_at_stop(raw, tuple(stop)) == expected


@pytest.mark.parametrize(
    ("prefix", "middle", "suffix"),
    [
        # The completion assigns `closest_pair` one level deeper than the suffix's line
        # that does the same: the streamed cut must not call it a repeat before the lines
        # after it say so (they differ: `else:`).
        pytest.param(
            "def closest(numbers):\n",
            (
                "    pair = None\n"
                "    for a in numbers:\n"
                "        for b in numbers:\n"
                "            if pair is None:\n"
                "                closest_pair = tuple(sorted([a, b]))\n"
                "            else:\n"
                "                if abs(a - b) < gap:\n"
            ),
            "                    closest_pair = tuple(sorted([a, b]))\n\n    return pair\n",
            id="a_long_suffix_line_written_deeper_is_the_completions_own",
        ),
        # `if end - start > 2:` at another indentation, then a line agreeing with the
        # suffix's for a dozen characters (`new_text += "-"`) before it differs (`+ c`).
        pytest.param(
            "def fix(text):\n",
            (
                '    out = ""\n'
                "    for c in text:\n"
                "        if c == ' ':\n"
                "            end += 1\n"
                "        else:\n"
                "            if end - start > 2:\n"
                '                new_text += "-" + c\n'
                "            start = end\n"
            ),
            '    if end - start > 2:\n        new_text += "-"\n    return new_text\n',
            id="a_line_that_starts_like_the_suffixs_next_one_confirms_only_once_whole",
        ),
    ],
)
def test_a_streamed_cut_keeps_the_whole_middle(prefix: str, middle: str, suffix: str) -> None:
    """The model wrote `middle` then the suffix again: streamed or not, the cut is the
    middle."""
    as_streamed = streamed(middle + suffix, prefix, suffix, "python")
    assert as_streamed == cut(middle + suffix, prefix, suffix)
    assert as_streamed.rstrip("\n") == middle.rstrip("\n")


def test_a_stop_that_is_a_line_of_its_own_keeps_the_line_before_it_complete() -> None:
    """An instruct model closes its code with a fence (`qwen-chat`): the line before it
    is complete, a line break at the end is not held back for it, a line start is."""
    from lsp_server.postprocess.stops import cut_at_stop

    fence = ("\n```", "<|im_end|>")
    assert cut_at_stop("x = 1\n```\nprose", fence) == ("x = 1\n", True)
    assert cut_at_stop("x = 1\n", fence) == ("x = 1\n", False)
    assert cut_at_stop("x = 1\n``", fence) == ("x = 1\n", False)
    assert cut_at_stop("```\nprose", fence, line_start=True) == ("", True)
    assert cut_at_stop("```\nprose", fence) == ("```\nprose", False)
    assert cut_at_stop("x = `a`<|im_end|>", fence, line_start=True) == ("x = `a`", True)
    assert cut_at_stop("x = 1\n``", fence, 3, line_start=True) == ("x = 1\n", False)
