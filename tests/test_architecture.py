"""The house rules of issue #14, read from the source of `lsp_server/` with `ast`.

Nothing here imports the code: every `import a.b`, `from a.b import c` and relative
`from . import c` is counted, at module level, inside a function or under
`if TYPE_CHECKING:` (a type taken from above is still a dependency on above). docs/architecture.md
explains the layers; `LAYERS` below is the one place they are written down for the code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "lsp_server"

# Top to bottom. A module may import from its own package or from a package in a LOWER
# layer; packages that share a layer do not import each other. `__main__` is the
# `python -m lsp_server` entry point (it calls cli); `__init__` holds `__version__`.
# A top-level module (`settings.py`) is a package of its own here.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("cli",),
    ("edge",),
    ("transport",),
    ("completion", "actions", "nextedit"),
    ("postprocess",),
    ("backends",),
    ("prompt",),
    ("context",),
    ("workspace",),
    # the floor, in its own order
    ("models",),
    ("settings", "logsetup"),
    ("errors", "__init__"),
)
# Only these packages may know the protocol (import lsprotocol or pygls).
PROTOCOL_PACKAGES = frozenset({"cli", "edge", "transport"})
PROTOCOL_LIBRARIES = frozenset({"lsprotocol", "pygls"})
MAX_LINES = 600

Graph = dict[str, set[str]]


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for every .py file under `root` (a package)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(module: str, path: Path, tree: ast.AST) -> Iterator[str]:
    """Every absolute dotted name that `tree` imports, `from x import y` as `x.y`."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(root: Path) -> tuple[Graph, Graph]:
    """(module → the modules of `root` it imports, module → outside top-level names)."""
    modules = module_files(root)
    inside: Graph = {name: set() for name in modules}
    outside: Graph = {name: set() for name in modules}
    for module, path in modules.items():
        names = set(_imported(module, path, ast.parse(path.read_text(), str(path))))
        for name in names:
            if name.split(".")[0] != root.name:
                outside[module].add(name.split(".")[0])
            elif name in modules and name != module:
                # `from pkg import sub` names the submodule; `from pkg import thing`
                # (not a module) names pkg, which `from pkg import` already yielded.
                inside[module].add(name)
    return inside, outside


def package_of(module: str) -> str:
    """`lsp_server.cli.main` → `cli`; `lsp_server.settings` → `settings`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_index() -> dict[str, int]:
    return {package: depth for depth, layer in enumerate(LAYERS) for package in layer}


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_violations(graph: Graph) -> list[str]:
    depth = layer_index()
    problems = [
        f"{module}: package {package_of(module)!r} is in no layer"
        for module in sorted(graph)
        if package_of(module) not in depth
    ]
    for module in sorted(graph):
        source = package_of(module)
        for target in sorted(graph[module]):
            dest = package_of(target)
            if source == dest or source not in depth or dest not in depth:
                continue
            if depth[dest] <= depth[source]:
                where = "up" if depth[dest] < depth[source] else "sideways"
                problems.append(f"{module} → {target} ({source} imports {where} to {dest})")
    return problems


def protocol_leaks(outside: Graph) -> list[str]:
    return [
        f"{module} imports {', '.join(sorted(outside[module] & PROTOCOL_LIBRARIES))}"
        for module in sorted(outside)
        if package_of(module) not in PROTOCOL_PACKAGES and outside[module] & PROTOCOL_LIBRARIES
    ]


def long_files(root: Path) -> list[str]:
    lengths = {path: len(path.read_text().splitlines()) for path in module_files(root).values()}
    return [
        f"{path.relative_to(root.parent)}: {lines} lines"
        for path, lines in sorted(lengths.items())
        if lines > MAX_LINES
    ]


# The rules on lsp_server/ itself.


def test_no_import_cycle() -> None:
    inside, _ = import_graph(ROOT)
    found = cycles(inside)
    assert not found, "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in found)


def test_every_import_points_down_the_layers() -> None:
    inside, _ = import_graph(ROOT)
    problems = layer_violations(inside)
    assert not problems, "imports against the layers:\n" + "\n".join(problems)


def test_no_file_over_the_line_limit() -> None:
    problems = long_files(ROOT)
    assert not problems, f"files over {MAX_LINES} lines:\n" + "\n".join(problems)


def test_only_cli_edge_and_transport_know_the_protocol() -> None:
    _, outside = import_graph(ROOT)
    problems = protocol_leaks(outside)
    assert not problems, "protocol below edge/transport:\n" + "\n".join(problems)


# The checker itself, on a small package written for the purpose: each rule catches
# what it is there to catch, so a pass above means something.


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "lsp_server" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "lsp_server"


def test_the_checker_sees_every_form_of_import(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "__init__.py": "",
            "errors.py": "",
            "cli/__init__.py": "",
            "cli/main.py": "def serve():\n    from lsp_server.edge import server\n",
            "edge/__init__.py": "",
            "edge/server.py": "from . import replies\nfrom ..context.cursor import at\n",
            "edge/replies.py": "import lsprotocol.types\nfrom lsp_server import errors\n",
            "context/__init__.py": "from .cursor import at\n",
            "context/cursor.py": "import lsp_server.edge.server\nfrom pygls import x\n",
        },
    )
    inside, outside = import_graph(root)
    assert inside["lsp_server.cli.main"] == {"lsp_server.edge", "lsp_server.edge.server"}
    assert inside["lsp_server.edge.server"] == {
        "lsp_server.edge",
        "lsp_server.edge.replies",
        "lsp_server.context.cursor",
    }
    assert inside["lsp_server.edge.replies"] == {"lsp_server", "lsp_server.errors"}
    assert inside["lsp_server.context"] == {"lsp_server.context.cursor"}
    assert outside["lsp_server.edge.replies"] == {"lsprotocol"}
    assert cycles(inside) == [["lsp_server.context.cursor", "lsp_server.edge.server"]]
    assert layer_violations(inside) == [
        "lsp_server.context.cursor → lsp_server.edge.server (context imports up to edge)"
    ]
    assert protocol_leaks(outside) == ["lsp_server.context.cursor imports pygls"]


def test_the_checker_counts_lines_and_packages_outside_the_layers(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "__init__.py": "",
            "loose.py": "x = 1\n" * (MAX_LINES + 1),
            "actions/__init__.py": "",
            "actions/core.py": "from lsp_server.nextedit import answer\n",
            "nextedit/__init__.py": "",
            "nextedit/answer.py": "x = 1\n" * MAX_LINES,
        },
    )
    inside, _ = import_graph(root)
    assert long_files(root) == [f"lsp_server/loose.py: {MAX_LINES + 1} lines"]
    assert layer_violations(inside) == [
        "lsp_server.loose: package 'loose' is in no layer",
        "lsp_server.actions.core → lsp_server.nextedit (actions imports sideways to nextedit)",
        "lsp_server.actions.core → lsp_server.nextedit.answer "
        "(actions imports sideways to nextedit)",
    ]
