"""The command line: parse arguments, run the build, serve, map errors to exit codes."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from functools import partial
from pathlib import Path

from .errors import InvalidInput, UsageError
from .pipeline import BuildReport, build, default_packs_dir
from .progress import stderr_progress
from .public import public_path_for
from .site import DEFAULT_PORT, default_workers, site_address, start_server, stop_server

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
COMMANDS = ("import", "new")  # build.py import …, build.py new …: their own arguments (caselib/importer/commands.py)
DEFAULT_HOST = "127.0.0.1"

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
  python build.py --public           build public.db: only the public cases, for a public website
  python build.py --serve            build, serve http://127.0.0.1:8001/ and rebuild on every saved change
  python build.py --serve --host 0.0.0.0 --port 8080 --no-watch
                                     serve the office intranet; rebuild with build.py when cases change
  python build.py --watch            build, then rebuild on every saved change (no server: for a
                                     site served by other processes)

adding cases (each with its own --help):
  python build.py import 通报.txt [--to DIR]   导入通报：每个案例写成一个案例文件 / cases from notices
  python build.py new "标题" [--to DIR]        按模板新建案例 / a new case file from the template
"""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 on bad usage
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def make_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="build.py", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=Path, default=Path("cases"), metavar="DIR", help="folder of case files (default: cases/)")
    parser.add_argument(
        "--db", type=Path, default=None, metavar="FILE",
        help="database to write (default: cases.db, and its public edition cases-public.db; with --public: public.db)",
    )
    parser.add_argument(
        "--public", action="store_true",
        help="write only the public edition, always fresh: internal cases and every trace of them left out (for a public website)",
    )
    parser.add_argument("--check", action="store_true", help="validate the cases and write nothing")
    parser.add_argument(
        "--packs", type=Path, default=None, metavar="DIR", help="folder of training packs (default: packs/ beside the cases folder)"
    )
    parser.add_argument("--full", action="store_true", help="rebuild every case instead of only the changed ones")
    parser.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes for parsing (default: one per core)")
    serving = parser.add_argument_group("serving")
    serving.add_argument("--serve", action="store_true", help="after building, serve the site (and rebuild on every change, see --no-watch)")
    serving.add_argument("--host", default=DEFAULT_HOST, metavar="ADDR", help=f"address to listen on (default: {DEFAULT_HOST}; 0.0.0.0 for every interface)")
    serving.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default: {DEFAULT_PORT})")
    serving.add_argument("--workers", type=int, default=None, metavar="N", help="serving processes (default: one per core)")
    serving.add_argument(
        "--watch", action=argparse.BooleanOptionalAction, default=None,
        help="rebuild when a file under the cases or packs folder changes (default: on with --serve; "
        "without --serve: build, then keep rebuilding until stopped)",
    )
    return parser


def check_usage(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str]) -> None:
    if args.db is None:
        args.db = Path("public.db" if args.public else "cases.db")
    if args.public and args.full:
        parser.error("--public always builds afresh; --full adds nothing to it")
    if args.check and args.serve:
        parser.error("--check and --serve cannot be used together")
    serving_options = [o for o in ("--host", "--port", "--workers", "--no-watch") if any(a == o or a.startswith(o + "=") for a in argv)]
    if serving_options and not args.serve:
        parser.error(f"{serving_options[0]} only applies with --serve")
    if args.watch and args.check:
        parser.error("--check and --watch cannot be used together")
    if args.watch is None:
        args.watch = args.serve
    if args.packs is not None and not args.packs.is_dir():
        parser.error(f"packs folder not found: {args.packs}")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    if not 0 < args.port < 65536:
        parser.error("--port must be between 1 and 65535")
    if args.serve:
        from .site.accounts import AccountsError, configured_accounts

        try:
            configured_accounts()
        except AccountsError as err:
            parser.error(str(err))


def report_problems(err: InvalidInput, kept: str = "nothing was written.") -> None:
    for problem in err.problems:
        print(problem, file=sys.stderr)
    errors = err.errors
    warnings = len(err.problems) - len(errors)
    also = f" and {warnings} warning(s)" if warnings else ""
    print(f"{len(errors)} problem(s) in {len({p.path for p in errors})} file(s){also}; {kept}", file=sys.stderr)


def run_build(args: argparse.Namespace, full: bool, progress=None) -> BuildReport:
    report = build(
        args.cases,
        None if args.check else args.db,
        jobs=args.jobs,
        progress=progress,
        full=full,
        packs_dir=args.packs or default_packs_dir(args.cases),
        public_only=args.public,
    )
    for warning in report.warnings:
        print(warning, file=sys.stderr)
    print(report.summary(), file=sys.stderr, flush=True)
    return report


def rebuild(args: argparse.Namespace) -> None:
    """One incremental build after a change; a bad edit is reported and the site keeps the last good build."""
    try:
        run_build(args, full=False)
    except InvalidInput as err:
        report_problems(err, kept="the site still shows the last good build.")
    except UsageError as err:
        print(f"build.py: error: {err}", file=sys.stderr)


def serve(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C, rebuilding on changes unless --no-watch; the server's exit status."""
    from .watch import watch_and_rebuild

    workers = args.workers or default_workers()
    public = None if args.public else public_path_for(args.db)  # staff see args.db, everyone else its public edition
    process = start_server(args.db, args.host, args.port, workers, public_path=public)
    watching = " · 保存案例文件后自动更新" if args.watch else ""
    print(f"案例库已发布 / serving: {site_address(args.host, args.port)}  ({workers} 个进程{watching}；Ctrl-C 停止)", file=sys.stderr, flush=True)
    stopped = threading.Event()  # the server ended: stop watching too
    threading.Thread(target=lambda: (process.wait(), stopped.set()), daemon=True).start()
    signal.signal(signal.SIGTERM, _interrupt)  # `kill`, systemd, timeout: stop the server as Ctrl-C does
    try:
        if args.watch:
            watch_and_rebuild([args.cases, args.packs or default_packs_dir(args.cases)], partial(rebuild, args), stopped)
        else:
            process.wait()
    except KeyboardInterrupt:
        pass
    return stop_server(process)


def keep_building(args: argparse.Namespace) -> int:
    """--watch without --serve: rebuild after every change until Ctrl-C or SIGTERM
    (the deployment's build service; the serving processes follow the file)."""
    from .watch import watch_and_rebuild

    print("正在监视案例文件，保存后自动重建 / watching for changes (Ctrl-C 停止)", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        watch_and_rebuild([args.cases, args.packs or default_packs_dir(args.cases)], partial(rebuild, args))
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        from .importer.commands import run

        return run(argv)
    parser = make_parser()
    args = parser.parse_args(argv)
    check_usage(parser, args, argv)
    try:
        run_build(args, full=args.full, progress=stderr_progress())
    except UsageError as err:
        print(f"build.py: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidInput as err:
        if args.serve and args.db.is_file():
            report_problems(err, kept="serving the last good build.")
        elif args.watch and not args.serve:
            report_problems(err, kept="the database was left as it was; watching for the fix.")
        else:
            report_problems(err)
            return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted; the database was left as it was.", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.serve:
        return serve(args)
    if args.watch:
        return keep_building(args)
    return EXIT_OK
