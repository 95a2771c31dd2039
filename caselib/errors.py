"""Named errors. The command line maps them to messages and exit codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one case file, at one line."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        if self.field:
            return f"{self.path}:{self.line}: {self.field}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


class LibraryError(Exception):
    """Base class of every error the library reports to its user."""


class CaseFileError(LibraryError):
    """One file cannot be read as a case; carries all of its problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class CasesInvalid(LibraryError):
    """The cases folder holds invalid files; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(LibraryError):
    """The command was called wrongly (missing folder, bad option …)."""
