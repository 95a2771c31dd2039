"""Step 1a: find the case files under the cases folder, and name what is left out.

A case file is a regular file named ``*.md`` anywhere under the cases folder,
whose name starts with neither ``_`` (the authors' template) nor ``.``,
outside hidden folders. What looks meant as a case but is not read is named:

- as an **error** (the build fails): a symbolic link that leads outside the
  cases folder (it would publish whatever it points at), a broken link, a
  link loop, a link to a folder (not followed), and a ``.md`` name that is
  not a regular file (a device, a pipe);
- as a **warning** (the build goes on without it): a file whose name is
  almost a case file's (``x.MD``, ``x.markdown``, ``x.md `` with a trailing
  space) and a folder named like a case file (``y.md/``).

A symbolic link to a file inside the cases folder is read like the file.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Problem, UsageError
from .model import Stamp

CASE_SUFFIX = ".md"
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd", ".mkdn")


@dataclass(frozen=True, slots=True)
class CaseFile:
    """One case file found: where to read it, how the database names it
    (from the cases folder's name down, e.g. cases/2019/x.md, whatever the
    working folder), its case id (the name without .md) and its stamp (an
    incremental build reads only files whose stamp changed)."""

    path: str
    stored: str
    id: str
    stamp: Stamp


@dataclass
class Discovered:
    """The case files in path order, and what was left out (errors and warnings)."""

    files: list[CaseFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def stamp(status: os.stat_result) -> Stamp:
    return (status.st_size, status.st_mtime_ns, status.st_ino)


def display_path(path: Path) -> str:
    """The path as a user reads it in messages: relative to the working folder,
    with control characters spelt out so every message stays on one line."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        relative = str(path)
    text = str(path) if relative.startswith("..") else relative
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def is_candidate(name: str) -> bool:
    """A name the contract reads as a case file."""
    return name.endswith(CASE_SUFFIX) and not name.startswith(("_", "."))


def near_miss(name: str) -> str | None:
    """Why a name that looks like a Markdown file is not read as a case, or None."""
    if name.startswith(("_", ".")) or is_candidate(name):
        return None
    trimmed = name.strip()
    lowered = trimmed.lower()
    suffix = next((s for s in MARKDOWN_SUFFIXES if lowered.endswith(s)), None)
    if suffix is None or len(trimmed) == len(suffix):
        return None
    fixed = trimmed[: -len(suffix)] + CASE_SUFFIX
    if trimmed != name:
        return f'not read as a case: the name has spaces before or after it; rename it to "{fixed}"'
    return f'not read as a case: a case file\'s name ends in ".md" (lower case); rename it to "{fixed}"'


def link_problem(path: Path, real_root: Path) -> tuple[str | None, os.stat_result | None]:
    """Why a symbolic link named like a case file is not read (or None when it
    leads to a regular file inside the cases folder), and its target's status."""
    try:
        target = os.readlink(path)
    except OSError as err:
        return f"cannot read the symbolic link: {err.strerror or err}", None
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return f'broken symbolic link: its target "{target}" does not exist', None
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "symbolic link loop: the link leads back to itself", None
        return f"cannot follow the symbolic link: {err.strerror or err}", None
    if not stat.S_ISREG(status.st_mode):
        return f'symbolic link to "{target}", which is not a regular file: not read', None
    if not Path(os.path.realpath(path)).is_relative_to(real_root):
        return f'symbolic link to "{target}", outside the cases folder: not read; copy the file into the cases folder instead', None
    return None, status


def _is_dir(entry: os.DirEntry) -> bool:
    """A folder, or a link to one (a link loop is not: it is reported as a file)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def discover(root: Path) -> Discovered:
    """Every case file under ``root`` in path order, and what was left out.

    Walks the tree once with os.scandir, leaving hidden folders unvisited and
    symbolic links to folders unfollowed, and stats each case file once: at
    100,000 files this is a fraction of a second.
    """
    if not root.is_dir():
        raise UsageError(f"cases folder not found: {root}")
    real_root = root.resolve()
    found: list[tuple[tuple[str, ...], str, Stamp]] = []
    result = Discovered()

    def problem(path: str, message: str, warning: bool = False) -> None:
        result.problems.append(Problem(display_path(Path(path)), 1, "", message, warning=warning))

    def walk(folder: str, relative: tuple[str, ...]) -> None:
        with os.scandir(folder) as entries:
            listed = list(entries)
        for entry in listed:
            name = entry.name
            if _is_dir(entry):
                if name.startswith("."):
                    continue
                if entry.is_symlink():
                    problem(entry.path, "symbolic link to a folder: not followed; move the cases into the cases folder instead")
                    continue
                if near_miss(name) or is_candidate(name):
                    problem(entry.path, "a folder named like a case file: not read as a case (the files in it are read as usual)", warning=True)
                walk(entry.path, (*relative, name))
                continue
            if not is_candidate(name):
                reason = near_miss(name)
                if reason:
                    problem(entry.path, reason, warning=True)
                continue
            if entry.is_symlink():
                reason, status = link_problem(Path(entry.path), real_root)
            else:
                status = entry.stat()
                reason = None if stat.S_ISREG(status.st_mode) else "not a regular file: not read"
            if reason or status is None:
                problem(entry.path, reason or "cannot be read")
                continue
            found.append(((*relative, name), entry.path, stamp(status)))

    walk(str(root), ())
    found.sort(key=lambda item: item[0])  # the order of paths: part by part
    top = real_root.name
    result.files = [CaseFile(path, "/".join((top, *parts)), parts[-1][: -len(CASE_SUFFIX)], mark) for parts, path, mark in found]
    result.problems.sort()
    return result
