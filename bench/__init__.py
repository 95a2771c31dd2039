"""Benchmarks for the case library, run on demand (``make bench``); see bench/README.md.

- ``python -m bench.generate N OUT_DIR [--seed S]`` writes a repeatable corpus
  of generated, contract-valid cases.
- ``python -m bench.search_bench`` measures Chinese search (recall, precision,
  latency through Datasette, index size and build cost) against baselines.
- ``python -m bench.build_bench`` measures scale: full and incremental build
  times against a lower bound, peak memory, page latencies, the CSV export and
  markdown-to-sqlite on the same files.
- ``python -m bench.compare A.db B.db`` compares two built databases.

``bench.common`` holds what they share (options, timing, the table, the corpus
cache, output); ``python -m bench`` runs both benchmarks.
"""
