"""``python -m bench`` (``make bench``): both benchmarks at their default sizes.

    python -m bench                  the search benchmark, then the build benchmark
    python -m bench search [ARGS]    only ``bench.search_bench`` (ARGS passed on)
    python -m bench build [ARGS]     only ``bench.build_bench`` (ARGS passed on)
    python -m bench export [ARGS]    only ``bench.export_bench`` (ARGS passed on)
"""

import sys

from . import build_bench, export_bench, search_bench

BENCHMARKS = {"search": search_bench.main, "build": build_bench.main, "export": export_bench.main}


def main(argv: list[str]) -> int:
    if not argv:
        return search_bench.main([]) or build_bench.main([])
    if argv[0] in BENCHMARKS:
        return BENCHMARKS[argv[0]](argv[1:])
    asked = argv[0] in ("-h", "--help")
    print(__doc__.strip().split("\n\n", 1)[1], file=sys.stdout if asked else sys.stderr)
    return 0 if asked else 2


sys.exit(main(sys.argv[1:]))
