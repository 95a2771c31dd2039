"""The public edition of a library: the database anonymous visitors are served.

Internal cases (``visibility: internal``) are left out of it entirely, as the
contract says: no id, title, text, label, search-index entry, count or
related-case link of theirs, and no training pack that lists one. Every
build writes it beside the full database (``cases.db`` -> ``cases-public.db``)
from the same parsed cases; ``build.py --public`` writes only it.

A full build writes it fresh, in its own temporary file: an internal case is
never written to it, so nothing of one is even in its free pages. The related
links of a public case are held back until every case is parsed (only then is
it known which targets are internal) and written last. An incremental build
updates it in place with SQLite's ``secure_delete`` on, so what it removes is
overwritten with zeros, and when a case leaves the edition the search index
is rewritten whole (its old segments would still hold the case's words).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import sqlite_utils

from . import store
from .atomic import in_place
from .model import Stamp
from .packs import Pack
from .rows import Record
from .schema import is_internal

SUFFIX = "-public"


def public_path_for(db_path: Path) -> Path:
    """Where the public edition of ``db_path`` is written: cases.db -> cases-public.db."""
    return db_path.with_name(f"{db_path.stem}{SUFFIX}{db_path.suffix}")


def internal(record: Record) -> bool:
    return is_internal(record.row)


def without_related(record: Record) -> Record:
    """The record with its related links held back."""
    return dataclasses.replace(record, links={**record.links, "related": []})


def public_packs(packs: list[Pack], public_ids: set[str]) -> list[Pack]:
    """The packs whose every case is public (a pack listing an internal case is internal)."""
    return [pack for pack in packs if all(entry.id in public_ids for entry in pack.cases)]


@dataclasses.dataclass
class Edition:
    """The public edition while a full build writes it."""

    db: sqlite_utils.Database
    internal_ids: set[str] = dataclasses.field(default_factory=set)
    public_ids: set[str] = dataclasses.field(default_factory=set)
    links: list[dict] = dataclasses.field(default_factory=list)

    def insert(self, records: list[Record]) -> int:
        """Store the public ones of ``records``; hold back their related links."""
        public = [r for r in records if not internal(r)]
        self.internal_ids.update(r.id for r in records if internal(r))
        self.public_ids.update(r.id for r in public)
        self.links += [link for r in public for link in r.links["related"]]
        return store.insert_records(self.db, [without_related(r) for r in public])

    def finish(self, packs: list[Pack], packs_digest: str) -> int:
        """The held-back links to public cases, then what every full build ends with."""
        kept = [link for link in self.links if link["related_id"] in self.public_ids]
        if kept:
            self.db["related"].insert_all(kept)
        store.finish_full(self.db, len(self.public_ids), public_packs(packs, self.public_ids), packs_digest)
        return len(self.public_ids)


def update_public(
    public: Path,
    full: Path,
    remove: list[str],
    records: list[Record],
    stamps: list[tuple[str, str, Stamp | None]],
    packs: list[Pack],
    packs_digest: str,
) -> None:
    """Apply an incremental change to the public edition, after the full
    database took it: every changed case leaves, the public ones come back,
    and the related links are those of the full database between public cases."""
    with in_place(public) as db:
        db.execute("pragma secure_delete = on")
        present = public_ids(db)
        store.restamp(db, [s for s in stamps if s[1] in present])
        old = store.items(db)
        leaving = sorted(present & ({*remove} | {r.id for r in records}))
        db.execute("delete from pack_cases")
        store.delete_cases(db, leaving)
        arriving = [without_related(r) for r in records if not internal(r)]
        store.insert_records(db, arriving)
        db.execute("attach database ? as full", [str(full)])
        db.execute("delete from related")
        db.execute(
            "insert into related (case_id, related_id, position) select r.case_id, r.related_id, r.position "
            "from full.related r where r.case_id in (select id from cases) and r.related_id in (select id from cases)"
        )
        gone = set(leaving)
        if gone - {r.id for r in arriving}:
            # A case left the edition (deleted, or now internal): rewrite the
            # search index so that no segment keeps its words.
            store.optimize_search_index(db)
        new = [item for item in old if item.id not in gone] + [r.item for r in arriving]
        store.update_similar(db, old, new, gone | {r.id for r in arriving})
        ids = public_ids(db)
        store.write_packs(db, public_packs(packs, ids), packs_digest)
        store.write_build_info(db, len(ids))


def public_ids(db: sqlite_utils.Database) -> set[str]:
    return {case_id for (case_id,) in db.execute("select id from cases")}
