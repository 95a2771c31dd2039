"""What a search's words name in the vocabularies: 酒驾 → 违规类型：酒后驾驶.

A search finds the cases labelled with a value that a word of it names
(label, English label, code or alias: the index's ``terms`` column holds
every name, see rows.term_names), besides the cases whose text contains the
word. The result pages say so, and link to the list of the labelled cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from .. import search
from ..schema import TERM_FIELDS
from . import DATABASE_NAME


@dataclass(frozen=True)
class Understood:
    term: str  # the word as searched (folded)
    field: str  # the field's Chinese label: 违规类型
    values: tuple[str, ...]  # the values' Chinese labels
    together: bool  # all of them (双开 = 开除党籍 + 开除公职), or any one (警告)
    url: str | None  # the case list filtered by the value(s), when one list holds them

    @property
    def shown(self) -> str:
        return (" + " if self.together else " 或 ").join(self.values)


def understood(query: str | None) -> list[Understood]:
    """Each word of ``query`` that names vocabulary values, with what it names."""
    found: list[Understood] = []
    for term in search.query_terms(query):
        for field in TERM_FIELDS:
            terms, together = field.vocabulary.named(term)  # type: ignore[union-attr]
            if not terms:
                continue
            labels = tuple(t.zh for t in terms)
            url = labelled_url(field.name, field.array, labels) if together else None
            found.append(Understood(term, field.label, labels, together, url))
    return found


def labelled_url(column: str, array: bool, labels: tuple[str, ...]) -> str:
    """The case list of the cases labelled with every one of ``labels``."""
    key = f"{column}__arraycontains" if array else column
    return f"/{DATABASE_NAME}/cases?" + urlencode([(key, label) for label in labels])
