"""Step 4a: what a parsed case becomes in the database, derived from the schema.

A case is one ``cases`` row (``schema.COLUMNS``), one ``case_texts`` row
(``schema.TEXT_FIELDS``), one row of search-index text and its link-table
rows. All of it is computed where the case was parsed (in a worker) and
carried to the store as a :class:`Record`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from . import related, search
from .model import Stamp
from .model import Case
from .render import SECTIONS
from .schema import COLUMNS, FIELDS, LINKED, TERM_FIELDS, VOCABULARY_FIELDS
from .vocab import vocabulary

FTS_COLUMNS = ("title", "body", "labels", "terms")
SECTION_COLUMNS = tuple(SECTIONS)
# Text fields that feed the search index's labels column; vocabulary fields
# feed its terms column with every name of each value.
LABEL_TEXT_FIELDS = tuple(f for f in FIELDS if f.search == "labels" and f.vocabulary is None)
ITEM_COLUMNS = ("id", "date", "violations", "title", "tags")  # what related.item_from_row takes


def case_row(case: Case) -> dict:
    """The ``cases`` row for a case: canonical Chinese labels, JSON arrays."""
    return {field.name: field.row_value(case) for field in COLUMNS}


def text_row(case: Case) -> dict:
    """The ``case_texts`` row for a case: its sections, other text and HTML."""
    return {
        "id": case.id,
        **{column: case.sections.get(column) for column in SECTION_COLUMNS},
        "other_text": case.other_text or None,
        "body_html": case.body_html,
    }


def _values(row: dict, name: str, array: bool) -> list[str]:
    value = row[name]
    if array:
        return json.loads(value or "[]")
    return [value] if value else []


def searchable_parts(row: dict | Case) -> dict[str, str]:
    """The text a search looks through, per FTS column (before rewriting).

    Computed from a ``cases`` row joined with its ``case_texts`` row, so the
    build can compute it again for a stored case when an incremental build
    removes it from the index.
    """
    if isinstance(row, Case):
        row = {**case_row(row), **text_row(row)}
    meta = [text for f in LABEL_TEXT_FIELDS for text in _values(row, f.name, f.array)]
    terms = [n for f in TERM_FIELDS for n in term_names(f.vocabulary.name, tuple(_values(row, f.name, f.array)))]  # type: ignore[union-attr]
    body = [row["other_text"], *(row[c] for c in SECTION_COLUMNS)]
    return {
        "title": row["title"],
        "body": "\n".join(p for p in body if p),
        "labels": "\n".join(p for p in meta if p),
        "terms": "\n".join(terms),
    }


@lru_cache(maxsize=4096)
def term_names(vocab_name: str, labels: tuple[str, ...]) -> tuple[str, ...]:
    """Every name a search may use for the values ``labels`` (Chinese labels)
    of a vocabulary field: each value's label, English label, code and
    aliases, and a shorthand (双开) when the case has every value it stands for."""
    vocab = vocabulary(vocab_name)
    terms = [vocab.by_zh[label] for label in labels]
    names = [name for term in terms for name in (term.zh, term.en, term.code, *term.aliases)]
    codes = {term.code for term in terms}
    names += [shorthand for shorthand, expanded in vocab.expansions.items() if codes.issuperset(expanded)]
    return tuple(names)


def fts_values(row: dict) -> tuple[str, ...]:
    """The FTS row for a ``cases`` row: its searchable text, CJK-rewritten."""
    return tuple(search.index_text(text) for text in searchable_parts(row).values())


def link_rows(case: Case) -> dict[str, list[dict]]:
    """Rows of the link tables (one per vocabulary value, one per related case)."""
    rows: dict[str, list[dict]] = {}
    for vocab in LINKED:
        codes = case.values.get(vocab.name) or []
        rows[vocab.link_table] = [{"case_id": case.id, vocab.link_column: c, "position": i} for i, c in enumerate(codes)]
    rows["related"] = [{"case_id": case.id, "related_id": r, "position": i} for i, (r, _) in enumerate(case.related)]
    return rows


@dataclass
class Record:
    """Everything the store writes for one case, computed where it was parsed."""

    id: str
    path: str
    digest: str
    related: list[tuple[str, int]]
    row: dict
    text: dict
    fts: tuple[str, ...]
    links: dict[str, list[dict]]
    stamp: Stamp | None = None

    @property
    def item(self) -> related.Item:
        """What similar-case computation looks at (as read back from the row)."""
        return related.item_from_row(*(self.row[column] for column in ITEM_COLUMNS))


def file_row(file: str, case_id: str, stamp: Stamp | None) -> dict:
    """The ``_files`` row of a case file: its stamp when it was last read."""
    size, mtime_ns, inode = stamp or (None, None, None)
    return {"path": file, "case_id": case_id, "size": size, "mtime_ns": mtime_ns, "inode": inode}


def make_record(case: Case, stamp: Stamp | None = None) -> Record:
    row, text = case_row(case), text_row(case)
    return Record(case.id, case.path, case.digest, case.related, row, text, fts_values({**row, **text}), link_rows(case), stamp)
