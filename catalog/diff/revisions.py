"""The two sides' files: the base revision read from git without a checkout, and the working tree.

Only what the guard compares is read: catalog/contracts/*.yml, models/**/*.{yml,yaml,sql} and
dbt_project.yml. The base is read with `git ls-tree` / `git cat-file --batch` (one process for
every file), so the working tree is never touched.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from catalog.diff.errors import DiffError, UnknownRevisionError

CONTRACTS = "catalog/contracts"
MODELS = "models"
PROJECT = "dbt_project.yml"


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise DiffError("git is not installed") from None


def resolve_revision(repo: Path, rev: str) -> str:
    """The commit `rev` names, or UnknownRevisionError."""
    if _git(repo, "rev-parse", "--git-dir").returncode != 0:
        raise DiffError(f"{repo} is not inside a git repository")
    if not rev or rev.startswith("-"):
        raise UnknownRevisionError(f"unknown revision '{rev}'")
    found = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if found.returncode != 0:
        raise UnknownRevisionError(f"unknown revision '{rev}'")
    return found.stdout.decode().strip()


def _wanted(path: str) -> bool:
    if path == PROJECT:
        return True
    if path.startswith(f"{CONTRACTS}/"):
        return path.endswith((".yml", ".yaml"))
    return path.startswith(f"{MODELS}/") and path.endswith((".yml", ".yaml", ".sql"))


def read_revision(repo: Path, commit: str) -> dict[str, str]:
    """Repo-relative path → text of every compared file at `commit`, without a checkout."""
    prefix = _git(repo, "rev-parse", "--show-prefix").stdout.decode().strip()
    listed = _git(repo, "ls-tree", "-r", "-z", "--name-only", commit, "--", CONTRACTS, MODELS, PROJECT)
    if listed.returncode != 0:
        raise DiffError(f"cannot list {commit}: {listed.stderr.decode().strip()}")
    paths = [p for p in listed.stdout.decode().split("\0") if p and _wanted(p)]
    if not paths:
        return {}
    request = "".join(f"{commit}:{prefix}{p}\n" for p in paths).encode()
    out = _git(repo, "cat-file", "--batch", stdin=request)
    if out.returncode != 0:
        raise DiffError(f"cannot read {commit}: {out.stderr.decode().strip()}")
    files, data, at = {}, out.stdout, 0
    for path in paths:
        end = data.index(b"\n", at)
        header = data[at:end].split()
        if len(header) != 3:  # "<name> missing": a submodule or a path git cannot show
            at = end + 1
            continue
        size = int(header[2])
        files[path] = data[end + 1 : end + 1 + size].decode("utf-8", errors="replace")
        at = end + 1 + size + 1
    return files


def read_working_tree(repo: Path) -> dict[str, str]:
    """Repo-relative path → text of every compared file as it is on disk now."""
    candidates = [repo / PROJECT, *(repo / CONTRACTS).rglob("*"), *(repo / MODELS).rglob("*")]
    files = {}
    for path in candidates:
        rel = path.relative_to(repo).as_posix()
        if path.is_file() and _wanted(rel):
            files[rel] = path.read_text(encoding="utf-8", errors="replace")
    return files
