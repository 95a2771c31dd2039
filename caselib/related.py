"""Related cases computed at build time: shared violation types, then text.

For every case, up to ``COUNT`` other cases are chosen: first among those
with exactly the same violation types, then among those sharing any of its
violation types, then those in one of its violation groups, then any case. Candidates rank by the number of shared
violation types, then by text similarity (Jaccard over title bigrams and
tags), then by the nearest year. Within each group only the cases nearest in
date are candidates (a window), so the work grows linearly with the library,
and the result is a pure function of the cases: a full and an incremental
build compute the same table.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Hashable

from .vocab import vocabulary

COUNT = 3
WINDOW = 8
CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[A-Za-z0-9]+")


@dataclass(eq=False)
class Item:
    """What similarity looks at for one case."""

    id: str
    date: str
    violations: tuple[str, ...]  # canonical labels, as written
    groups: tuple[str, ...]  # their vocabulary groups
    title: str
    tags: str  # JSON, as stored
    _words: frozenset[str] | None = None
    _exact: tuple[str, ...] | None = None

    @property
    def exact(self) -> tuple[str, ...]:
        """Its violation types as a set (sorted): cases with exactly these are closest."""
        if self._exact is None:
            self._exact = tuple(sorted(self.violations))
        return self._exact

    @property
    def words(self) -> frozenset[str]:
        """Title bigrams (or words) and tags; computed when first compared."""
        if self._words is None:
            self._words = words_of(self.title, json.loads(self.tags or "[]"))
        return self._words


def words_of(title: str, tags: list[str]) -> frozenset[str]:
    words: set[str] = set(tags)
    for run in CJK_RUN.findall(title.lower()):
        if run.isascii():
            words.add(run)
        else:
            words.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return frozenset(words)


@lru_cache(maxsize=None)
def _labels_and_groups(violations: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A stored violations array's labels and their groups (many cases share one array)."""
    labels = tuple(json.loads(violations))
    by_zh = vocabulary("violations").by_zh
    return labels, tuple(dict.fromkeys(by_zh[label].group for label in labels))


def item_from_row(case_id: str, date: str, violations: str, title: str, tags: str) -> Item:
    labels, groups = _labels_and_groups(violations)
    return Item(case_id, date, labels, groups, title, tags)


def _order(item: Item) -> tuple[str, str]:
    """Date order, ties by id: the order within every group."""
    return (item.date, item.id)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def _ranked(item: Item, candidates: list[Item], exclude: set[str]) -> list[str]:
    year = int(item.date[:4])
    mine = set(item.violations)
    scored = {
        other.id: (-len(mine.intersection(other.violations)), -_jaccard(item.words, other.words), abs(int(other.date[:4]) - year))
        for other in candidates
        if other.id not in exclude
    }
    return sorted(scored, key=lambda case_id: (scored[case_id], case_id))


Keys = Callable[[Item], list[Hashable]]

LEVELS: list[Keys] = [
    lambda i: [i.exact],  # exactly the same violation types
    lambda i: list(i.violations),  # sharing any violation type
    lambda i: list(i.groups),  # sharing a violation group (e.g. 职务违法犯罪)
    lambda i: [None],  # any case, nearest in date
]


class Level:
    """Cases grouped by one key function, each group in date order."""

    def __init__(self, items: list[Item], keys: Keys, wanted: set[Hashable] | None = None):
        """``items`` in date order; only the groups in ``wanted`` (when given) are built."""
        self.keys = keys
        self.groups: dict[Hashable, list[Item]] = defaultdict(list)
        for item in items:
            for key in keys(item):
                if wanted is None or key in wanted:
                    self.groups[key].append(item)

    def position(self, key: Hashable, item: Item) -> int:
        """Where ``item`` stands in its group (found by date, since the group is in date order)."""
        return bisect.bisect_left(self.groups[key], _order(item), key=_order)

    def candidates(self, item: Item) -> list[Item]:
        found: list[Item] = []
        for key in self.keys(item):
            members = self.groups[key]
            n = self.position(key, item)
            found += members[max(0, n - WINDOW) : n] + members[n + 1 : n + 1 + WINDOW]
        return found


class Levels:
    """The Level of every key function for one list of items, each built when
    first needed; with ``focus``, only the groups those items belong to."""

    def __init__(self, items: list[Item], focus: list[Item] | None = None):
        self.items = sorted(items, key=_order)  # linear when they come in date order, as the store reads them
        self.focus = focus
        self._built: list[Level | None] = [None] * len(LEVELS)

    def __getitem__(self, n: int) -> Level:
        level = self._built[n]
        if level is None:
            keys = LEVELS[n]
            wanted = None if self.focus is None else {key for item in self.focus for key in keys(item)}
            level = self._built[n] = Level(self.items, keys, wanted)
        return level


def compute_similar(
    items: list[Item], explicit: dict[str, list[str]], only: set[str] | None = None
) -> dict[str, list[str]]:
    """case id -> up to COUNT computed related ids (explicit ones excluded),
    for every item or for the ids in ``only``."""
    levels = Levels(items, None if only is None else [item for item in items if item.id in only])
    result: dict[str, list[str]] = {}
    for item in items:
        if only is not None and item.id not in only:
            continue
        exclude = {item.id, *explicit.get(item.id, [])}
        chosen: list[str] = []
        for n in range(len(LEVELS)):
            chosen += _ranked(item, levels[n].candidates(item), exclude)[: COUNT - len(chosen)]
            exclude.update(chosen)
            if len(chosen) >= COUNT:
                break
        result[item.id] = chosen
    return result


def affected(old: list[Item], new: list[Item], changed: set[str]) -> set[str]:
    """Ids whose computed related cases may differ after ``changed`` ids were
    added, changed or removed: every case that has a changed case among its
    candidates, before or after. (A case's candidates are the WINDOW cases on
    each side of it in each of its groups, so this is exact.)"""
    found: set[str] = set()
    for items in (old, new):
        present = [item for item in items if item.id in changed]
        if not present:
            continue
        levels = Levels(items, present)
        for n, keys in enumerate(LEVELS):
            level = levels[n]
            for item in present:
                for key in keys(item):
                    members = level.groups[key]
                    position = level.position(key, item)
                    found.update(m.id for m in members[max(0, position - WINDOW) : position + WINDOW + 1])
    return found
