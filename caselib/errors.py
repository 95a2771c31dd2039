"""Named errors. The command line maps them to messages and exit codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input file, at one line.

    A warning names something the build left out without failing (a file
    whose name is almost a case file's); everything else fails the build.
    Problems sort by file, line and column, so those of one list written on
    one line keep the order they were written in.
    """

    path: str
    line: int
    field: str
    message: str
    column: int = 0
    warning: bool = False

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.field, self.message)

    def __lt__(self, other: "Problem") -> bool:
        return self.sort_key() < other.sort_key()

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}: " + ("warning: " if self.warning else "")
        return where + (f"{self.field}: {self.message}" if self.field else self.message)


class LibraryError(Exception):
    """Base class of every error the library reports to its user."""


class InvalidInput(LibraryError):
    """Input files (cases, packs) break the format; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]


class UsageError(LibraryError):
    """The command was called wrongly (missing folder, bad option …)."""
