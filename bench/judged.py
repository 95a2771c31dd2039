"""Ranking against judged queries: precision@5 and nDCG@10 of the ranked search.

    python -m bench.judged [--baseline REV] [--data DIR]

``tests/judged/queries.yml`` holds 20 queries and, for each, the shipped
cases a trainer wants to see (grade 2: about it, 1: bears on it). The
shipped library is built and served as the site serves it (uvicorn, every
case served: the full database), and each query is asked of the ranked
search's canned query (``/cases/search.json``), as the ``/search`` page asks
it. ``--baseline REV`` does the same with the code at git revision REV, in
the same run, from the same cases.

- precision@5: the share of the first five results that are judged (grade 1 or 2);
- nDCG@10: the first ten results' discounted gain, (2^grade - 1) / log2(rank + 1),
  over the best possible ordering's.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import yaml

from . import common
from .load import baseline_tree, free_port, wait_until_up

JUDGED = common.ROOT / "tests" / "judged" / "queries.yml"
SHOWN = 10


def judged(path: Path = JUDGED) -> dict[str, dict[str, int]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def precision_at(ranked: list[str], grades: dict[str, int], k: int = 5) -> float:
    return sum(1 for case_id in ranked[:k] if grades.get(case_id, 0) > 0) / k


def dcg(gains: list[int]) -> float:
    return sum((2**grade - 1) / math.log2(rank + 2) for rank, grade in enumerate(gains))


def ndcg_at(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    best = dcg(sorted(grades.values(), reverse=True)[:k])
    return dcg([grades.get(case_id, 0) for case_id in ranked[:k]]) / best if best else 0.0


class Site:
    """The shipped library built and served by the code in ``tree``."""

    def __init__(self, tree: Path, folder: Path):
        self.tree = tree
        db = folder / "cases.db"
        environment = {**os.environ, "PYTHONPATH": str(tree), "CASELIB_DB": str(db)}
        environment.pop("CASELIB_PUBLIC_DB", None)
        subprocess.run([sys.executable, "build.py", "--cases", str(common.ROOT / "cases"), "--packs", str(common.ROOT / "packs"),
                        "--db", str(db)], cwd=tree, env=environment, check=True, capture_output=True)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "caselib.site.app:create_app", "--factory", "--port", str(port), "--no-access-log"],
            cwd=tree, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until_up(self.url, self.process)

    def ranked(self, query: str) -> list[str]:
        params = {"q": query, "violation": "", "limit": str(SHOWN), "offset": "0", "_shape": "objects"}
        response = httpx.get(self.url + "/cases/search.json", params=params, timeout=30, trust_env=False)
        response.raise_for_status()
        return [row["案例编号"] for row in response.json()["rows"]]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def scores(site: Site, queries: dict[str, dict[str, int]]) -> dict[str, tuple[float, float]]:
    found = {}
    for query, grades in queries.items():
        ranked = site.ranked(query)
        found[query] = (precision_at(ranked, grades), ndcg_at(ranked, grades))
    return found


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def report(runs: dict[str, dict[str, tuple[float, float]]], queries: list[str]) -> str:
    names = list(runs)
    header = ["query", *[f"{name} {metric}" for name in names for metric in ("p@5", "nDCG@10")]]
    rows = [[query, *[f"{runs[name][query][i]:.2f}" for name in names for i in (0, 1)]] for query in queries]
    rows.append(["mean", *[f"{mean([runs[name][q][i] for q in queries]):.3f}" for name in names for i in (0, 1)]])
    return common.table(header, rows)


def main(argv: list[str] | None = None) -> int:
    parser = common.parser("bench.judged", __doc__)
    parser.add_argument("--baseline", default="", metavar="REV", help="also rank with the code at git revision REV")
    args = parser.parse_args(argv)
    queries = judged()
    trees = {"now": common.ROOT}
    if args.baseline:
        trees[args.baseline] = baseline_tree(args.baseline, args.data)
    runs: dict[str, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, tree in trees.items():
            common.log(f"{name}: building and serving the shipped library with {tree}")
            folder = Path(scratch) / name.replace("/", "-")
            folder.mkdir()
            site = Site(tree, folder)
            try:
                runs[name] = scores(site, queries)
            finally:
                site.stop()
    print(report(runs, list(queries)))
    common.write_results(args.data, "judged", {"machine": common.machine(), "queries": queries, "runs": runs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
