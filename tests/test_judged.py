"""The judged queries (tests/judged/queries.yml) and the measures bench/judged.py reports."""

from __future__ import annotations

import pytest

from bench.judged import judged, ndcg_at, precision_at

from conftest import SHIPPED_CASES


def test_the_judged_set_holds_twenty_queries_over_shipped_cases():
    queries = judged()
    shipped = {path.stem for path in SHIPPED_CASES.rglob("*.md") if not path.name.startswith("_")}
    assert 20 == len(queries)
    for query, grades in queries.items():
        assert grades, query
        assert set(grades) <= shipped, query
        assert set(grades.values()) <= {1, 2}, query


@pytest.mark.parametrize(
    "ranked,expected",
    [
        (["a", "b", "c"], 1.0),  # the best order
        (["c", "b", "a"], (1 / 1 + 3 / 1.5849625 + 7 / 2) / (7 + 3 / 1.5849625 + 1 / 2)),
        (["x", "y"], 0.0),
        ([], 0.0),
    ],
)
def test_ndcg(ranked, expected):
    assert expected == pytest.approx(ndcg_at(ranked, {"a": 3, "b": 2, "c": 1}))


def test_precision_counts_every_judged_case_in_the_first_five():
    assert 0.4 == precision_at(["a", "x", "b", "y", "z", "c"], {"a": 2, "b": 1, "c": 2})
