"""A multi-language overrun set from real code none of us wrote, and its score.

    .venv/bin/python -m bench.multilang [--offline] [--limit N]     (or bench.through_lsp)

Sources (`SOURCES`, pinned by commit or version; nothing of them is committed): public
GitHub repositories (Java, C, C++, C#, Go, Rust, Ruby, PHP, Lua, Bash), the npm packages
under `clients/vscode/node_modules` (JavaScript, TypeScript) and Python's own standard
library. `materialize()` copies the listed files into `~/.cache/ghostls-bench/multilang`
(from a local git mirror — `GHOSTLS_BENCH_MIRRORS`, default `/work/.mirror/<owner>+<name>`
— or a shallow `git clone` of the commit), once.

Holes (`extract_holes`, tree-sitter, the grammars the server ships), five kinds:

- `block`: a whole block body (the lines between `{` and `}`, a Python/Ruby/Lua body),
  the cursor at column 0 of its first line or after that line's indentation;
- `condition`: inside a control header (`if (`…`)`, `for (`…`)`, `while`, Go/Rust/Python
  conditions without parentheses);
- `expression`: an expression in the middle of a line (code before and after it);
- `arguments`: a call's arguments, the cursor after `(`;
- `statement`: a one-line statement, the cursor after its indentation.

The raw model output is the truth and then the code after it (the model runs on, as
FIM models do when they do not stop); the backend cuts it at `maxTokens` tokens and
says so. A fifth of the files (by a hash of their path) is held out: the cut was not
tuned on them, and they are reported apart.

Reference cutters, on the same token-limited raw text: `first line` (the raw text up to
its first line break) and `suffix line` (up to the first occurrence of the suffix's
first non-blank line, stripped).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import sysconfig
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.through_lsp import Answer, Case, Run, exact, replay_sync
from lsp_server.settings import CompletionSettings
from lsp_server.workspace.syntax import parse_text
from tests.support.fake_backend import split_tokens

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("GHOSTLS_BENCH_CACHE", Path.home() / ".cache" / "ghostls-bench"))
MIRRORS = Path(os.environ.get("GHOSTLS_BENCH_MIRRORS", "/work/.mirror"))
# The set's holes are middles the defaults of its time could show (128 tokens less a
# margin, fewer than 12 lines): the set stays the same when the defaults grow.
HOLE_TOKENS = 128
HOLE_LINES = 12
MAX_TOKENS = CompletionSettings().max_tokens  # the raw text as the backend cuts it
KINDS = ("block", "condition", "expression", "arguments", "statement")


@dataclass(frozen=True)
class Source:
    language: str
    origin: str  # github:<owner>/<name> | npm | python-stdlib
    commit: str  # git commit (github); "" for files found on this machine
    patterns: tuple[str, ...]  # globs inside the repository / folder
    licence: str
    files: int = 40  # at most this many files (sorted, then every k-th)
    per_kind: int = 3  # holes of each kind per file
    # Projects added after the cut was tuned, none of their holes ever looked at: the
    # clean held-out part (the per-file hash one had 5 files looked at while tuning).
    new_project: bool = False

    @property
    def tag(self) -> str:
        return self.origin.replace("github:", "").replace("/", "+")


SOURCES: tuple[Source, ...] = (
    Source("java", "github:google/gson", "9835b6f90192f79cdf5300c528fc6212455fb6c1",
           ("gson/src/main/java/**/*.java",), "Apache-2.0"),
    Source("c", "github:DaveGamble/cJSON", "a29814f285cc531c00223743ad3c55cd38c0dc56",
           ("*.c", "tests/*.c"), "MIT"),
    Source("cpp", "github:google/leveldb", "78a352f47ed6c1e9d750545e9b242289185b87e1",
           ("db/*.cc", "util/*.cc", "table/*.cc"), "BSD-3-Clause"),
    Source("csharp", "github:jbogard/MediatR", "8a64581e2570e7410c5f44835d9ea112beccbe6b",
           ("src/**/*.cs", "test/**/*.cs"), "Apache-2.0"),
    Source("go", "github:gorilla/mux", "db9d1d0073d27a0a2d9a8c1bc52aa0af4374d265",
           ("*.go",), "BSD-3-Clause"),
    Source("rust", "github:dtolnay/anyhow", "1dbe1862aae650423e3361fbd20b7d17c5109cc3",
           ("src/*.rs",), "MIT OR Apache-2.0"),
    Source("rust", "github:seanmonstar/httparse", "ac44a38a6b3d1f2dde01c250f622def4aa89f5e0",
           ("src/**/*.rs",), "MIT OR Apache-2.0"),
    Source("ruby", "github:rack/rack", "8bf4eb078498edc9105fb04add80d89c5340e60b",
           ("lib/**/*.rb",), "MIT"),
    Source("php", "github:slimphp/Slim", "038fd5713d5a41636fdff0e8dcceedecdd17fc17",
           ("Slim/**/*.php",), "MIT"),
    Source("lua", "github:luarocks/luarocks", "2d2cc8eff2f03c23d142f8059146fb241dcf56b5",
           ("src/luarocks/*.lua", "src/luarocks/cmd/*.lua", "src/luarocks/core/*.lua"), "MIT"),
    Source("shellscript", "github:nvm-sh/nvm", "b17550a0b9ab691439815dfccc8b73e3a59fa103",
           ("nvm.sh", "install.sh"), "MIT"),
    Source("shellscript", "github:bats-core/bats-core", "d22e41faad59f5fd942a88c992b4913a27a460c4",
           ("libexec/bats-core/*", "lib/bats-core/*.bash", "install.sh"), "MIT"),
    Source("typescript", "npm", "", ("@azure/msal-common/src/**/*.ts", "ajv/lib/**/*.ts"),
           "MIT"),
    Source("javascript", "npm", "", ("undici/lib/**/*.js", "vscode-jsonrpc/lib/common/*.js",
                                     "lodash/*.js"), "MIT"),
    Source("python", "python-stdlib", "", ("*.py", "json/*.py", "email/*.py"), "PSF-2.0"),
    # The new projects (held out whole).
    Source("go", "github:spf13/pflag", "5fdac2d16c16d60605cb8baa887e8c5c38ef623f",
           ("*.go",), "BSD-3-Clause", new_project=True),
    Source("rust", "github:rust-lang/log", "037d7a58f6ad184abb3afc4db81d37c43a5696ec",
           ("src/**/*.rs",), "MIT OR Apache-2.0", new_project=True),
    Source("java", "github:square/javapoet", "b9017a9503b76e11b4ad4c1a9f050e2d29112cb0",
           ("src/main/java/**/*.java",), "Apache-2.0", new_project=True),
    Source("c", "github:antirez/sds", "5347739b1581fcba74fd5cab1fc21d2aef317d71",
           ("sds.c",), "BSD-2-Clause", per_kind=40, new_project=True),
    Source("cpp", "github:fmtlib/fmt", "60ccad511fd680cb91d8b60a315759f71c67bef9",
           ("src/*.cc", "test/*.cc"), "MIT", new_project=True),
    Source("csharp", "github:App-vNext/Polly", "173d6d1d2e28a4697f1ac1d22da68f77ff19a0c9",
           ("src/Polly.Core/**/*.cs",), "BSD-3-Clause", new_project=True),
    Source("ruby", "github:sinatra/sinatra", "cb22afd7902b566b6eaba6c4ea89739494a65d12",
           ("lib/**/*.rb", "rack-protection/lib/**/*.rb"), "MIT", new_project=True),
    Source("php", "github:guzzle/psr7", "45b30f99ac27b5ca93cb4831afe16285f57b8221",
           ("src/*.php",), "MIT", new_project=True),
    Source("lua", "github:lunarmodules/Penlight", "c317508c90cb384da22e79f6bd405eb4e406fc79",
           ("lua/pl/*.lua",), "MIT", new_project=True),
    Source("shellscript", "github:dylanaraps/neofetch", "ccd5d9f52609bbdcd5d8fa78c4fdb0f12954125f",
           ("neofetch",), "MIT", per_kind=40, new_project=True),
    Source("typescript", "npm-new", "", ("@azure/msal-browser/src/**/*.ts",), "MIT",
           new_project=True),
    Source("javascript", "npm-new", "", ("eslint/lib/rules/*.js",), "MIT", new_project=True),
    Source("python", "python-stdlib-new", "", ("asyncio/*.py",), "PSF-2.0", new_project=True),
)  # fmt: skip


# -- the files --------------------------------------------------------------------------


def _git(args: list[str], cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def _github_files(source: Source) -> Iterator[tuple[str, bytes]]:
    owner_name = source.origin.removeprefix("github:")
    mirror = MIRRORS / owner_name.replace("/", "+") / "repo"
    if not mirror.exists():
        mirror = CACHE / "clones" / owner_name.replace("/", "+")
        if not mirror.exists():
            mirror.parent.mkdir(parents=True, exist_ok=True)
            _git(["clone", "--filter=blob:none", "--no-checkout",
                  f"https://github.com/{owner_name}", str(mirror)])  # fmt: skip
    git_dir = mirror / ".git" if (mirror / ".git").exists() else mirror
    names = _git([f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", source.commit])
    paths = sorted(n for n in names.splitlines() if any(_matches(n, p) for p in source.patterns))
    for name in _spread(paths, source.files):
        blob = subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"{source.commit}:{name}"],
            check=True,
            capture_output=True,
        ).stdout
        yield name, blob


def _matches(name: str, pattern: str) -> bool:
    from fnmatch import fnmatch

    if "**/" in pattern:
        head, tail = pattern.split("**/", 1)
        return name.startswith(head) and fnmatch(name.rsplit("/", 1)[-1], tail)
    return fnmatch(name, pattern) and name.count("/") == pattern.count("/")


def _spread(paths: list[str], count: int) -> list[str]:
    if len(paths) <= count:
        return paths
    step = len(paths) / count
    return [paths[int(i * step)] for i in range(count)]


def _local_files(source: Source) -> Iterator[tuple[str, bytes]]:
    root = (
        REPO / "clients" / "vscode" / "node_modules"
        if source.origin.startswith("npm")
        else Path(sysconfig.get_paths()["stdlib"])
    )
    paths = sorted(
        str(path.relative_to(root))
        for pattern in source.patterns
        for path in root.glob(pattern)
        if path.is_file() and not path.name.endswith(".d.ts")
    )
    for name in _spread(paths, source.files):
        yield name, (root / name).read_bytes()


def materialize(refresh: bool = False) -> Path:
    """The source files, copied once into the cache: `<cache>/multilang/<lang>/…`."""
    target = CACHE / "multilang"
    for source in SOURCES:
        folder = target / source.language / source.tag
        done = folder / ".complete"
        if done.exists() and not refresh:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        local = not source.origin.startswith("github:")
        for name, data in _local_files(source) if local else _github_files(source):
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        folder.mkdir(parents=True, exist_ok=True)
        done.write_text("ok\n")
    return target


def source_files(root: Path) -> Iterator[tuple[Source, str, str]]:
    """(source, relative path, text) of every materialized file."""
    for source in SOURCES:
        folder = root / source.language / source.tag
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                try:
                    text = path.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue
                yield source, str(path.relative_to(root)), text.replace("\r\n", "\n")


def held_out(path: str) -> bool:
    """A fifth of the files, by a hash of their path: not used to tune the cut."""
    return hashlib.sha256(path.encode()).digest()[0] % 5 == 0


# -- holes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hole:
    language: str
    kind: str
    path: str
    prefix: str
    truth: str
    suffix: str
    new_project: bool = False

    @property
    def held_out(self) -> bool:
        return self.new_project or held_out(self.path)

    @property
    def part(self) -> str:
        if self.new_project:
            return "held-out (new projects)"
        return "held-out (files)" if held_out(self.path) else "tuned"

    def case(self) -> Case:
        return Case(self.language, self.prefix, self.suffix, self.truth + self.suffix[:4000])


_BRACE_BLOCKS = frozenset(
    {"block", "statement_block", "compound_statement", "constructor_body", "do_group",
     "switch_block", "declaration_list", "field_declaration_list", "class_body"}
)  # fmt: skip
_BODIES = frozenset({"block", "body_statement"})  # Python, Ruby, Lua: no braces
_CONTROL = frozenset(
    {"if_statement", "while_statement", "for_statement", "for_in_statement",
     "enhanced_for_statement", "foreach_statement", "switch_statement", "elif_clause",
     "if_expression", "while_expression", "if", "while", "until", "unless", "elsif",
     "for_range_loop", "switch_expression", "do_statement", "catch_clause",
     "expression_switch_statement", "for_each_statement"}
)  # fmt: skip
_ARGUMENTS = frozenset({"argument_list", "arguments"})
_NOT_EXPRESSIONS = frozenset(
    {"identifier", "string", "comment", "string_literal", "template_string", "number",
     "integer", "integer_literal", "int_literal", "field_identifier", "type_identifier",
     "property_identifier", "name", "word", "variable_name", "string_content", "escape_sequence",
     "simple_expansion", "expansion", "concatenation", "heredoc_body", "raw_string"}
)  # fmt: skip


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _line_bounds(data: bytes, start: int, end: int) -> tuple[int, int]:
    return data.rfind(b"\n", 0, start) + 1, (data.find(b"\n", end) % (len(data) + 1))


def _fits(truth: bytes) -> bool:
    text = truth.decode("utf-8", "replace")
    return (
        bool(text.strip())
        and text.count("\n") < HOLE_LINES
        and len(split_tokens(text)) <= HOLE_TOKENS - 24
        and "\t" not in text.lstrip("\t").replace("\n\t", "\n")  # tabs only as indentation
    )


def _spans(tree: Any, data: bytes, language: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start byte, end byte) of every candidate hole in the file."""
    for node in _walk(tree.root_node):
        kind = node.type
        if kind in _BRACE_BLOCKS or (kind in _BODIES and language in ("python", "ruby", "lua")):
            yield from _block_span(node, data, language)
        if kind in _CONTROL:
            span = _condition_span(node, data)
            if span is not None:
                yield ("condition", *span)
        if kind in _ARGUMENTS and node.child_count > 2:
            first, last = node.children[0], node.children[-1]
            if first.type == "(" and last.type == ")" and first.end_byte < last.start_byte:
                yield "arguments", first.end_byte, last.start_byte
        if node.is_named and kind not in _NOT_EXPRESSIONS and node.parent is not None:
            start, end = node.start_byte, node.end_byte
            line_start, line_end = _line_bounds(data, start, end)
            before, after = data[line_start:start], data[end:line_end]
            single = b"\n" not in data[start:end]
            if (
                single
                and before.strip()
                and after.strip()
                and kind.endswith(("expression", "_expr", "call", "binary", "invocation"))
                and not data[start:end].startswith(b"(")
                and end - start >= 3
            ):
                yield "expression", start, end
            parent = node.parent.type
            if (
                single
                and not before.strip()
                and not after.strip()
                and (parent in _BRACE_BLOCKS or parent in _BODIES or parent == "statement_list")
                and kind != "comment"
                and not data[start:end].startswith((b"}", b"{", b"end"))
            ):
                yield "statement", start, end


def _block_span(node: Any, data: bytes, language: str) -> Iterator[tuple[str, int, int]]:
    start, end = node.start_byte, node.end_byte
    text = data[start:end]
    opener = next((o for o in (b"{", b"do") if text.startswith(o)), None)
    if opener is not None:
        first_break = data.find(b"\n", start)
        if first_break < 0 or data[start + len(opener) : first_break].strip():
            return
        last_line = data.rfind(b"\n", 0, end) + 1
        if data[last_line : end - 0].strip() not in (b"}", b"done", b"end"):
            return
        if last_line <= first_break + 1:
            return
        yield "block", first_break + 1, last_line
        return
    if node.type == "block" and language not in ("python", "lua"):
        return
    line_start, line_end = _line_bounds(data, start, end)
    if data[line_start:start].strip() or data[end:line_end].strip() or line_start == 0:
        return
    yield "block", line_start, min(line_end + 1, len(data))


def _condition_span(node: Any, data: bytes) -> tuple[int, int] | None:
    condition = node.child_by_field_name("condition")
    if condition is not None and condition.text.startswith(b"(") and condition.text.endswith(b")"):
        start, end = condition.start_byte + 1, condition.end_byte - 1
    elif any(child.type == "(" for child in node.children[:3]):
        opening = next(child for child in node.children if child.type == "(")
        closing = next((c for c in node.children if c.type == ")"), None)
        if closing is None:
            return None
        start, end = opening.end_byte, closing.start_byte
    elif condition is not None:
        start, end = condition.start_byte, condition.end_byte
        if data[start:end].endswith(b";"):
            end -= 1
    else:
        return None
    if end <= start or b"\n" in data[start:end] or not data[start:end].strip():
        return None
    return start, end


def extract_holes(
    text: str, language: str, path: str, per_kind: int = 3, new_project: bool = False
) -> list[Hole]:
    """Up to `per_kind` holes of each kind from one file (the same every run)."""
    tree = parse_text(text, language)
    if tree is None:
        return []
    data = text.encode("utf-8")
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for kind, start, end in _spans(tree, data, language):
        if kind != "block":
            # A closing bracket on a line of its own (`foo(` ⏎ `a,` ⏎ `)`): the line break
            # before it belongs to the code after the cursor.
            end = start + len(data[start:end].rstrip())
        truth = data[start:end]
        if _fits(truth) and len(data) - end > 2:
            found[kind].append((start, end))
    rng = random.Random(path)
    holes = []
    for kind in KINDS:
        spans = sorted(set(found[kind]))
        for start, end in rng.sample(spans, min(per_kind, len(spans))):
            if kind == "block" and rng.random() < 0.5:
                # The editor's way: Enter after `{`, the cursor at the indentation, the
                # closing line pushed down.
                first_line = data[start:end].split(b"\n", 1)[0]
                indent = len(first_line) - len(first_line.lstrip())
                start, end = start + indent, end - 1 if data[end - 1 : end] == b"\n" else end
            holes.append(
                Hole(
                    language,
                    kind,
                    path,
                    data[:start].decode("utf-8", "replace"),
                    data[start:end].decode("utf-8", "replace"),
                    data[end:].decode("utf-8", "replace"),
                    new_project,
                )
            )
    return holes


def all_holes(root: Path | None = None) -> list[Hole]:
    root = root or materialize()
    holes: list[Hole] = []
    for source, path, text in source_files(root):
        holes.extend(
            extract_holes(text, source.language, path, source.per_kind, source.new_project)
        )
    return holes


# -- reference cutters and the offline cut ------------------------------------------------


def limited(raw: str) -> tuple[str, bool]:
    """The raw text as the backend sends it: at most `MAX_TOKENS` tokens; ran out?"""
    tokens = split_tokens(raw)
    return "".join(tokens[:MAX_TOKENS]), len(tokens) > MAX_TOKENS


def first_line_cutter(raw: str, suffix: str) -> str:
    head = raw.split("\n", 1)[0]
    return head if head.strip() else "\n".join(raw.split("\n", 2)[:2])


def suffix_line_cutter(raw: str, suffix: str) -> str:
    anchor = next((line.strip() for line in suffix.split("\n") if line.strip()), "")
    at = raw.find(anchor) if anchor else -1
    return raw[:at] if at > 0 else raw


def reference_answer(cutter: Any, hole: Hole) -> Answer:
    raw, _ = limited(hole.case().raw)
    text = cutter(raw, hole.suffix)
    line_prefix = hole.prefix.rsplit("\n", 1)[-1]
    if not line_prefix.strip() or "\n" in text:
        text = text.rstrip(" \t")
    return Answer(text, 0)


def offline_answer(hole: Hole) -> Answer:
    """The server's cut without the server: the same limits (`build_job` on the context
    `assemble_context` builds), the text re-cut per token until final, else
    `finish_cut` with the token-limit flag. Fast, for tuning; the LSP replay decides."""
    from bench.bench_cut_stream import server_limits
    from lsp_server.postprocess import StreamCut, finish_cut

    raw, ran_out = limited(hole.case().written)
    uri = f"file:///bench/hole.{_ext(hole.language)}"
    limits = server_limits(
        uri,
        {"language": hole.language, "prefix": hole.prefix, "suffix": hole.suffix},
        {"backend": {"kind": "openai", "url": "http://127.0.0.1:9", "model": "m"}},
    )
    cutter = StreamCut(hole.prefix, hole.suffix, limits)
    text = ""
    for token in split_tokens(raw):
        text += token
        cut = cutter.cut(text)
        if cut.final:
            return Answer(cut.text, cut.replace)
    cut = finish_cut(raw, hole.prefix, hole.suffix, limits, ran_out)
    return Answer(cut.text, cut.replace)


def _ext(language: str) -> str:
    from bench.through_lsp import EXTENSIONS

    return EXTENSIONS.get(language, "txt")


# -- scoring ------------------------------------------------------------------------------


def score(holes: list[Hole], answers: dict[str, list[Answer]]) -> dict[str, Any]:
    """Exact match per (part, language, kind) for each cutter."""
    table: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for index, hole in enumerate(holes):
        part = hole.part
        for name, rows in answers.items():
            ok = exact(rows[index], hole.case(), hole.truth)
            for key in (
                f"{part}/{hole.language}/{hole.kind}",
                f"all/{hole.language}/{hole.kind}",
                f"all/{hole.language}/*",
                f"{part}/*/*",
                "all/*/*",
            ):
                table[name][key][0] += ok
                table[name][key][1] += 1
    return {
        name: {key: {"n": n, "exact_pct": 100 * hit / n} for key, (hit, n) in sorted(rows.items())}
        for name, rows in table.items()
    }


def misses(holes: list[Hole], answers: list[Answer]) -> Iterator[tuple[Hole, Answer]]:
    for hole, answer in zip(holes, answers, strict=True):
        if not exact(answer, hole.case(), hole.truth):
            yield hole, answer


def print_table(result: dict[str, Any]) -> None:
    names = list(result)
    languages = sorted({key.split("/")[1] for key in result[names[0]] if key.split("/")[1] != "*"})
    print(f"exact match through LSP (ours) vs reference cutters: {', '.join(names[1:])}")
    print(f"{'language':<12}" + "".join(f"{kind:>24}" for kind in (*KINDS, "*")))
    for language in languages:
        cells = []
        for kind in (*KINDS, "*"):
            row = result[names[0]].get(f"all/{language}/{kind}")
            if row is None:
                cells.append(f"{'-':>24}")
                continue
            others = "/".join(
                f"{result[name][f'all/{language}/{kind}']['exact_pct']:.0f}" for name in names[1:]
            )
            cells.append(f"{row['exact_pct']:>8.1f} ({others:>7}) n={row['n']:<3}")
        print(f"{language:<12}" + "".join(cells))
    parts = ("tuned", "held-out (files)", "held-out (new projects)")
    print(f"{'per language, ours':<20}" + "".join(f"{part:>26}" for part in parts))
    for language in languages:
        cells = []
        for part in parts:
            hits = [result[names[0]].get(f"{part}/{language}/{kind}") for kind in KINDS]
            rows = [row for row in hits if row is not None]
            n = sum(row["n"] for row in rows)
            hit = sum(row["n"] * row["exact_pct"] / 100 for row in rows)
            worst = min((row["exact_pct"] for row in rows), default=100.0)
            cells.append(f"{100 * hit / max(n, 1):>9.1f} (min {worst:5.1f}) n={n:<4}")
        print(f"{language:<20}" + "".join(f"{cell:>26}" for cell in cells))
    for part in (*parts, "all"):
        row = result[names[0]].get(f"{part}/*/*")
        if row is None:
            continue
        others = ", ".join(
            f"{name} {result[name][f'{part}/*/*']['exact_pct']:.1f}" for name in names[1:]
        )
        print(f"{part:<24} n={row['n']:<5} ours {row['exact_pct']:.2f} %   ({others})")


def evaluate(holes: list[Hole], ours: list[Answer]) -> dict[str, Any]:
    answers = {
        "ours": ours,
        "first line": [reference_answer(first_line_cutter, hole) for hole in holes],
        "suffix line": [reference_answer(suffix_line_cutter, hole) for hole in holes],
    }
    result = score(holes, answers)
    print_table(result)
    return result


def evaluate_through_lsp(limit: int | None = None, run: Run | None = None) -> dict[str, Any]:
    holes = all_holes()[:limit]
    return evaluate(holes, (run or Run()).replay([hole.case() for hole in holes]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offline", action="store_true", help="the cut without the server")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--misses", type=int, default=0, help="print this many misses")
    parser.add_argument("--language", default="")
    parser.add_argument("--kind", default="")
    parser.add_argument("--part", default="", help="tuned | held-out (files or projects)")
    args = parser.parse_args(argv)
    holes = [
        hole
        for hole in all_holes()
        if (not args.language or hole.language == args.language)
        and (not args.kind or hole.kind == args.kind)
        and (not args.part or (hole.held_out == args.part.startswith("held-out")))
    ][: args.limit]
    print(f"{len(holes)} holes", file=sys.stderr)
    if args.offline:
        ours = [offline_answer(hole) for hole in holes]
    else:
        ours = replay_sync([hole.case() for hole in holes])
    evaluate(holes, ours)
    for hole, answer in list(misses(holes, ours))[: args.misses]:
        print("=" * 70, hole.language, hole.kind, hole.path)
        print(hole.prefix[-300:] + "⟦" + hole.truth + "⟧" + hole.suffix[:200])
        print("--- ours:", repr(answer.text), answer.replace)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
