"""Step 2c: the checks that need every file: duplicate ids and related cases."""

from __future__ import annotations

from pathlib import Path

from .discover import CaseFile, display_path
from .errors import Problem
from .rows import Record

References = list[tuple[str, list[tuple[str, int]]]]  # (path, [(related id, line)]) per case


def duplicate_id_problems(files: list[CaseFile]) -> list[Problem]:
    """Files with the same name anywhere in the tree (valid or not)."""
    problems: list[Problem] = []
    first: dict[str, str] = {}
    for file in files:
        case_id = file.id
        if case_id in first:
            shown, other = display_path(Path(file.path)), display_path(Path(first[case_id]))
            problems.append(Problem(shown, 1, "id", f'duplicate case id "{case_id}": {other} has the same file name'))
            problems.append(Problem(other, 1, "id", f'duplicate case id "{case_id}": {shown} has the same file name'))
        else:
            first[case_id] = file.path
    return problems


def references(records: list[Record]) -> References:
    return [(record.path, record.related) for record in records if record.related]


def related_problems(refs: References, ids: set[str]) -> list[Problem]:
    return [
        Problem(path, line, "related", f'no case has the id "{related_id}"')
        for path, related in refs
        for related_id, line in related
        if related_id not in ids
    ]
