"""The command line: parse arguments, run the build, map errors to exit codes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import InvalidInput, UsageError
from .pipeline import build, default_packs_dir
from .progress import stderr_progress
from .site import DEFAULT_PORT, serve

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
警示教育案例库 — build the warning-education case library.

Reads every case file (Markdown with YAML front matter) under the cases
folder, checks it against the case format, and writes a SQLite database that
Datasette publishes as a searchable, faceted site.
"""

EPILOG = """\
exit status: 0 built (or checked) cleanly, 1 some case or pack files are
invalid (each reported as path:line: field: message), 2 wrong usage.
Files left out without failing the build (x.MD, x.markdown …) are named as
path:1: warning: … .

examples:
  python build.py                    build cases/ into cases.db
  python build.py --check            only validate, write nothing
  python build.py --full             rebuild every case, not only the changed ones
  python build.py --serve            build, then serve http://127.0.0.1:8001/
"""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 on bad usage
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def make_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="build.py",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--cases", type=Path, default=Path("cases"), metavar="DIR", help="folder of case files (default: cases/)")
    parser.add_argument("--db", type=Path, default=Path("cases.db"), metavar="FILE", help="database to write (default: cases.db)")
    parser.add_argument("--check", action="store_true", help="validate the cases and write nothing")
    parser.add_argument("--serve", action="store_true", help="after building, serve the site on 127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port for --serve (default: {DEFAULT_PORT})")
    parser.add_argument(
        "--packs", type=Path, default=None, metavar="DIR", help="folder of training packs (default: packs/ beside the cases folder)"
    )
    parser.add_argument("--full", action="store_true", help="rebuild every case instead of only the changed ones")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes for parsing (default: one per core)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.check and args.serve:
        parser.error("--check and --serve cannot be used together")
    if args.port != DEFAULT_PORT and not args.serve:
        parser.error("--port only applies with --serve")
    if args.packs is not None and not args.packs.is_dir():
        parser.error(f"packs folder not found: {args.packs}")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        report = build(
            args.cases,
            None if args.check else args.db,
            jobs=args.jobs,
            progress=stderr_progress(),
            full=args.full,
            packs_dir=args.packs or default_packs_dir(args.cases),
        )
    except UsageError as err:
        print(f"build.py: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidInput as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        errors = err.errors
        warnings = len(err.problems) - len(errors)
        also = f" and {warnings} warning(s)" if warnings else ""
        print(f"{len(errors)} problem(s) in {len({p.path for p in errors})} file(s){also}; nothing was written.", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted; the database was left as it was.", file=sys.stderr)
        return 130
    for warning in report.warnings:
        print(warning, file=sys.stderr)
    print(report.summary(), file=sys.stderr)
    if args.serve:
        return serve(args.db, args.port)
    return EXIT_OK
