"""Where tests live, per language and framework: the conventional test file.

`plan_tests` is pure: it looks at the source path, the language, and (through the
`read` callable, which returns None for a missing file) the files that decide the
convention — an existing test file, `package.json` for Jest vs Vitest. Rust keeps
unit tests in the same file (`#[cfg(test)] mod tests`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

Reader = Callable[[str], str | None]

_EXTENSIONS = {
    ".py": "python",
    ".js": "javascript",
    ".jsx": "javascriptreact",
    ".mjs": "javascript",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
}


@dataclass(frozen=True)
class TestPlan:
    path: str  # the test file (the source file itself for Rust)
    framework: str
    placement: str  # what the prompt tells the model about where the code goes
    existing: str | None  # the test file's current text; None when it must be created


def language_of(path: str, language_id: str) -> str:
    return _EXTENSIONS.get(PurePosixPath(path).suffix, language_id or "")


def _parents(path: PurePosixPath, levels: int = 6) -> list[PurePosixPath]:
    return list(path.parents)[:levels]


def _python(source: PurePosixPath, read: Reader) -> tuple[str, str]:
    name = f"test_{source.stem}.py"
    target = source.with_name(name)
    for folder in _parents(source, 3):
        candidate = folder / "tests"
        if (
            read(str(candidate / "__init__.py")) is not None
            or read(str(candidate / "conftest.py")) is not None
        ):
            target = candidate / name
            break
    existing = read(str(target)) or ""
    framework = (
        "unittest" if "import unittest" in existing and "pytest" not in existing else "pytest"
    )
    return str(target), framework


def _javascript(source: PurePosixPath, read: Reader) -> tuple[str, str]:
    target = source.with_name(f"{source.stem}.test{source.suffix}")
    framework = "Jest"
    for folder in _parents(source):
        manifest = read(str(folder / "package.json"))
        if manifest is not None:
            framework = "Vitest" if "vitest" in manifest else "Jest"
            break
    return str(target), framework


def _java(source: PurePosixPath) -> str:
    parts = source.parts
    name = f"{source.stem}Test.java"
    for index in range(len(parts) - 2):
        if parts[index : index + 3] == ("src", "main", "java"):
            rest = parts[index + 3 : -1]
            return str(PurePosixPath(*parts[:index], "src", "test", "java", *rest, name))
    return str(source.with_name(name))


def plan_tests(source_path: str, language_id: str, read: Reader) -> TestPlan:
    source = PurePosixPath(source_path)
    language = language_of(source_path, language_id)
    if language == "python":
        path, framework = _python(source, read)
        placement = f"Import what you test from the module `{source.stem}`."
    elif language.startswith(("javascript", "typescript")):
        path, framework = _javascript(source, read)
        placement = f"Import what you test from `./{source.stem}`."
        if framework == "Vitest":
            placement += " Import `describe`, `it`, `expect` from 'vitest'."
    elif language == "go":
        path, framework = str(source.with_name(f"{source.stem}_test.go")), "go test"
        placement = "Use the same package clause as the code and the `testing` package."
    elif language == "rust":
        path, framework = source_path, "Rust's built-in #[test]"
        existing_module = "mod tests" in (read(source_path) or "")
        module = "tests_more" if existing_module else "tests"
        placement = (
            f"Write one `#[cfg(test)] mod {module} {{ use super::*; ... }}` block; it is "
            "appended to the end of the same file."
        )
        return TestPlan(path, framework, placement, None)
    elif language == "java":
        path, framework = _java(source), "JUnit 5"
        placement = "Write a complete test class with its package and imports."
    else:
        path = str(source.with_name(f"test_{source.name}"))
        framework, placement = "", ""
    return TestPlan(path, framework, placement, read(path))
