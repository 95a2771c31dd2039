"""Training packs: a trainer's list of cases for one session.

A pack is ``packs/<id>.yml``::

    title: 2024年一季度警示教育：干预司法专题
    audience: 全院检察干警
    date: 2024-03-28
    description: 以“三个规定”为主线……
    cases:
      - id: 2016-fayuan-fuyuanzhang-ganyu-anjian
        note: 讨论过问案件的记录报告要求
        questions:
          - 如果领导打招呼，你会怎样记录报告？
      - 2021-jianchazhang-ganyu-anjian

It is read and validated like a case's front matter, by the same reader and
the same field rules: every problem is reported as ``path:line: field:
message``, and unknown case ids are errors. An entry's ``note`` is for the trainer only
(the participants' version leaves it out); its ``questions`` (discussion
questions, one per line) are printed after the case in both versions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .discover import display_path
from .errors import InvalidInput, Problem
from .fields import CaseId, Date, FieldProblem, FieldProblems, Rule, Text, TextList, validate
from .frontmatter import Item, Mapping, Sequence, Value, YamlReader
from .source import ID_PATTERN, decode
from .text import shown

PACK_SUFFIXES = (".yml", ".yaml")


@dataclass
class PackCase:
    id: str
    note: str | None
    line: int
    questions: list[str] = field(default_factory=list)


@dataclass
class Pack:
    id: str
    path: str  # as messages name it
    title: str
    audience: str | None = None
    date: str | None = None
    description: str | None = None
    cases: list[PackCase] = field(default_factory=list)
    file: str = ""  # relative to the packs folder, as the database keeps it (never the server's own path)


ENTRY_FIELDS: dict[str, Rule] = {"id": CaseId(required=True), "note": Text(), "questions": TextList()}


@dataclass(frozen=True)
class Entries(Rule):
    """A pack's cases in teaching order: each a case id, or ``id:`` with ``note:`` and ``questions:``."""

    def convert(self, value: Value, line: int) -> list[PackCase]:
        if not isinstance(value, Sequence):
            raise FieldProblem(value.line, "list the cases one per line: '- case-id', or '- id: case-id' with 'note: …' and 'questions: […]'")
        entries: list[PackCase] = []
        problems: list[FieldProblem] = []
        seen: dict[str, int] = {}
        for child in value.items:
            try:
                entry = self.entry(child)
            except FieldProblems as err:
                problems += err.problems
                continue
            except FieldProblem as err:
                problems.append(err)
                continue
            if entry.id in seen:
                problems.append(FieldProblem(entry.line, f'"{entry.id}" is listed twice (first on line {seen[entry.id]})'))
                continue
            seen[entry.id] = entry.line
            entries.append(entry)
        if problems:
            raise FieldProblems(problems)
        return entries

    def entry(self, child: Value) -> PackCase:
        if isinstance(child, Item):
            return PackCase(CaseId().convert(child, child.line), None, child.line)
        if not isinstance(child, Mapping):
            raise FieldProblem(child.line, "each case is an id, or 'id:' with an optional 'note:' and 'questions:'")
        validated = validate(child.entries, ENTRY_FIELDS, "", within="cases", line=child.line)
        if validated.problems:
            raise FieldProblems([FieldProblem(p.line, p.message, p.column, field=p.field) for p in validated.problems])
        values = validated.values
        return PackCase(values["id"], values.get("note"), child.line, values.get("questions") or [])  # type: ignore[arg-type]


PACK_FIELDS: dict[str, Rule] = {
    "title": Text(required=True),
    "audience": Text(),
    "date": Date(),
    "description": Text(keep_lines=True),
    "cases": Entries(required=True),
}


def parse_pack(data: bytes, display: str, pack_id: str) -> Pack:
    """Parse and validate one pack file (not yet against the cases); raise InvalidInput."""
    problems: list[Problem] = []
    if not ID_PATTERN.match(pack_id):
        message = f'file name "{shown(pack_id)}.yml" is not a valid pack id: use lower-case letters, digits and -'
        problems.append(Problem(display, 1, "id", message))
    try:
        text = decode(data, display)
        entries = YamlReader(display, first_line=1, place="a pack file").read(
            text,
            empty="the pack file is empty: title and cases are required",
            shape="a pack is 'key: value' lines: title, audience, date, description, cases",
        )
    except InvalidInput as err:
        raise InvalidInput(problems + err.problems) from None
    validated = validate(entries, PACK_FIELDS, display)
    problems += validated.problems
    if problems:
        raise InvalidInput(problems)
    return Pack(id=pack_id, path=display, **validated.values)  # type: ignore[arg-type]


def unknown_case_problems(pack: Pack, ids: set[str]) -> list[Problem]:
    return [Problem(pack.path, entry.line, "cases", f'no case has the id "{entry.id}"') for entry in pack.cases if entry.id not in ids]


def pack_files(folder: Path | None) -> list[Path]:
    if folder is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in PACK_SUFFIXES and not p.name.startswith(("_", ".")) and p.is_file())


def packs_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass
class LoadedPacks:
    packs: list[Pack]
    problems: list[Problem]
    digest: str


def load_packs(folder: Path | None, ids: set[str]) -> LoadedPacks:
    """Every training pack in ``folder``, checked against the case ids."""
    packs: list[Pack] = []
    problems: list[Problem] = []
    paths = pack_files(folder)
    for path in paths:
        display = display_path(path)
        try:
            pack = parse_pack(path.read_bytes(), display, path.stem)
            pack.file = path.relative_to(folder).as_posix()
        except InvalidInput as err:
            problems += err.problems
            continue
        except OSError as err:
            problems.append(Problem(display, 1, "", f"cannot read file: {err.strerror or err}"))
            continue
        problems += unknown_case_problems(pack, ids)
        packs.append(pack)
    seen: dict[str, str] = {}
    for pack in packs:
        if pack.id in seen:
            problems.append(Problem(pack.path, 1, "id", f'duplicate pack id "{pack.id}": {seen[pack.id]} has the same file name'))
        seen.setdefault(pack.id, pack.path)
    return LoadedPacks(packs, problems, packs_digest(paths))
