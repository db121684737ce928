"""Next-edit cases mined from the history of public repositories (none written here).

A commit qualifies when, in one file, it makes the same kind of change at several
places: every hunk replaces as many lines as it removes (1 to 3), and consecutive hunks
share a word substitution (`old → new`, e.g. a renamed name) and lie within
`NEAR_LINES` of each other. From such a file diff with hunks h1…hn:

- positive cases: the file with h1…hk applied (k < n), the user's cursor at the end
  of what hk changed; the truth is h(k+1) (and, as also acceptable, the later hunks);
- a negative case: the file with every hunk applied, the cursor at the last one; no
  edit is due (the commit ends there).

Cases are built at run time from local git mirrors (the `fetch` tool puts them in
/work/.mirror/OWNER+NAME/repo) and cached as JSON in ~/.cache/ghostls-bench/next-edit/.
Their code is never committed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import subprocess
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from pathlib import Path

CACHE = Path.home() / ".cache" / "ghostls-bench" / "next-edit"
MIRRORS = Path("/work/.mirror")
EXTENSIONS = (".py", ".go", ".rs", ".java", ".c", ".h", ".rb", ".php", ".lua", ".js", ".ts", ".cs")
NEAR_LINES = 10  # the next hunk must be inside the editable window around the cursor
MAX_HUNK_LINES = 3
MAX_FILE_CHARS = 60_000
COMMITS_PER_REPO = 4000

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class Hunk:
    start: int  # 0-based first line (old and new alike: line counts are kept)
    old: tuple[str, ...]
    new: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    id: str
    repo: str
    commit: str
    path: str
    before: str  # the file before the commit
    applied: int  # hunks the user has made (the history); 0 < applied <= len(hunks)
    hunks: tuple[Hunk, ...]

    @property
    def positive(self) -> bool:
        return self.applied < len(self.hunks)


def substitutions(hunk: Hunk) -> set[tuple[str, str]]:
    """Word substitutions a hunk makes (`old → new` runs of tokens)."""
    old = _TOKEN.findall("\n".join(hunk.old))
    new = _TOKEN.findall("\n".join(hunk.new))
    found = set()
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            found.add((" ".join(old[i1:i2]), " ".join(new[j1:j2])))
    return found


def parse_hunks(diff: str) -> list[Hunk] | None:
    """The -U0 hunks of one file's diff; None when one changes the line count."""
    hunks: list[Hunk] = []
    lines = diff.split("\n")
    i = 0
    while i < len(lines):
        match = _HUNK.match(lines[i])
        i += 1
        if not match:
            continue
        old_len = int(match.group(2) or "1")
        new_len = int(match.group(4) or "1")
        if old_len != new_len or not 0 < old_len <= MAX_HUNK_LINES:
            return None
        old = tuple(line[1:] for line in lines[i : i + old_len])
        new = tuple(line[1:] for line in lines[i + old_len : i + old_len + new_len])
        i += old_len + new_len
        hunks.append(Hunk(int(match.group(1)) - 1, old, new))
    return hunks


def repeated(hunks: list[Hunk]) -> bool:
    if len(hunks) < 2:
        return False
    for a, b in itertools.pairwise(hunks):
        # From a's last line (where the cursor is) to b's first: inside the window.
        gap = b.start - (a.start + len(a.old) - 1)
        if gap > NEAR_LINES or not substitutions(a) & substitutions(b):
            return False
    return True


def _git(git_dir: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, errors="replace"
    )
    return result.stdout


def mine_repo(git_dir: Path, name: str) -> list[Case]:
    cases: list[Case] = []
    shas = _git(git_dir, "log", "--no-merges", "--format=%H", f"-n{COMMITS_PER_REPO}", "HEAD")
    for sha in shas.split():
        files = _git(git_dir, "show", "--format=", "--numstat", sha).splitlines()
        for row in files:
            parts = row.split("\t")
            if len(parts) != 3 or not parts[2].endswith(EXTENSIONS) or parts[0] != parts[1]:
                continue
            if not 2 <= int(parts[0] if parts[0].isdigit() else 0) <= 12:
                continue
            path = parts[2]
            diff = _git(git_dir, "show", "--format=", "-U0", "--no-color", sha, "--", path)
            hunks = parse_hunks(diff)
            if hunks is None or not repeated(hunks):
                continue
            before = _git(git_dir, "show", f"{sha}^:{path}")
            if not before or len(before) > MAX_FILE_CHARS or "\r" in before:
                continue
            lines = before.split("\n")
            if any(tuple(lines[h.start : h.start + len(h.old)]) != h.old for h in hunks):
                continue  # the diff does not apply as parsed (a rename, a mode change)
            for applied in range(1, len(hunks) + 1):
                key = f"{name}:{sha}:{path}:{applied}"
                digest = hashlib.sha1(key.encode()).hexdigest()[:10]
                cases.append(Case(digest, name, sha, path, before, applied, tuple(hunks)))
    return cases


def load_cases(refresh: bool = False) -> list[Case]:
    """Every case from every mirror, from the cache when it is there."""
    cached = CACHE / "cases.json"
    if cached.exists() and not refresh:
        # Checked again: a cache mined under an older rule keeps only what still fits.
        loaded = [_case(raw) for raw in json.loads(cached.read_text())]
        return [case for case in loaded if repeated(list(case.hunks))]
    cases: list[Case] = []
    for repo in sorted(MIRRORS.glob("*/repo")):
        cases += mine_repo(repo, repo.parent.name.replace("+", "/"))
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps([asdict(case) for case in cases]))
    return cases


def _case(raw: dict[str, object]) -> Case:
    hunks = tuple(
        Hunk(h["start"], tuple(h["old"]), tuple(h["new"]))  # type: ignore[index]
        for h in raw["hunks"]  # type: ignore[attr-defined]
    )
    return Case(**{**raw, "hunks": hunks})  # type: ignore[arg-type]


def state(case: Case, applied: int | None = None) -> str:
    """The file with the first `applied` hunks (default: the case's) made."""
    lines = case.before.split("\n")
    for hunk in case.hunks[: case.applied if applied is None else applied]:
        lines[hunk.start : hunk.start + len(hunk.old)] = hunk.new
    return "\n".join(lines)


def cursor(case: Case) -> tuple[int, int]:
    """(line, character) right after what the last made hunk changed."""
    hunk = case.hunks[case.applied - 1]
    for index in range(len(hunk.new) - 1, -1, -1):
        old, new = hunk.old[index], hunk.new[index]
        if old != new:
            tail = 0
            while tail < min(len(old), len(new)) and old[-1 - tail] == new[-1 - tail]:
                tail += 1
            return hunk.start + index, len(new) - tail
    return hunk.start, 0
