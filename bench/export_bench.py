"""Exports of whole case lists: the Excel and CSV writers on every case.

    python -m bench.export_bench [--sizes 1000,10000,100000] [--seed S] [--smoke] [--data DIR]

For each size the generated corpus is built and the rows of the unfiltered
case list's export are read once, as ``/cases/cases.xlsx`` reads them; then
each writer writes them (the best of three, one with ``--smoke``):

- ``xlsx (openpyxl)``: the workbook as a general spreadsheet library writes
  it (openpyxl's write-only mode, a cell object per styled cell), the way the
  exports were written before — the baseline, measured in the same run;
- ``xlsx``: ``caselib.site.xlsx`` (the sheet's XML written directly);
- ``csv``: ``caselib.site.csvx``.

It also times ``/cases/cases.xlsx`` and ``.csvx`` end to end through the site
(the rows read, sent to the writing process, written, sent back): the second
request of each, the first having started the writing process.
"""

from __future__ import annotations

import asyncio
import io
import sqlite3
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from caselib.pipeline import build

from . import common


def openpyxl_workbook(export, rows: Iterable[Sequence[Any]]) -> bytes:
    """The baseline: the same sheet through openpyxl's write-only cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from caselib.site.export import AMOUNT_HEADERS, runs_as_formula, value_for
    from caselib.site.xlsx import clean_text, column_letter, column_width

    workbook = Workbook(write_only=True)
    ws = workbook.create_sheet("cases")
    headers = [column.header for column in export.columns]
    for number, header in enumerate(headers, 1):
        ws.column_dimensions[column_letter(number)].width = column_width(header)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(header: str, value: Any) -> Any:
        value = value_for(header, value)
        if isinstance(value, str):
            value = clean_text(value)
            if not runs_as_formula(value):
                return value
            marked = WriteOnlyCell(ws, value=value)
            marked.quotePrefix = True
            return marked
        if value is not None and header in AMOUNT_HEADERS:
            number = WriteOnlyCell(ws, value=value)
            number.number_format = "#,##0"
            return number
        return value

    heads = []
    for header in headers:
        head = WriteOnlyCell(ws, value=header)
        head.font = bold
        heads.append(head)
    ws.append(heads)
    written = 0
    for row in rows:
        ws.append([cell(c.header, c.value(row)) for c in export.columns])
        written += 1
    ws.auto_filter.ref = f"A1:{column_letter(len(headers))}{written + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_rows(db: Path) -> tuple[Any, list[tuple]]:
    """The Export and the rows of the unfiltered list's export, as the site reads them."""
    from caselib.site import datasette
    from caselib.site.export import Export, export_columns

    ds = datasette(db)

    async def rows() -> tuple[list[str], list[tuple]]:
        data = (await ds.client.get("/cases/cases.json?_size=1")).json()
        sql = f"select {', '.join('[' + c + ']' for c in data['columns'])} from cases order by sort_key desc"
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return data["columns"], conn.execute(sql).fetchall()
        finally:
            conn.close()

    names, found = asyncio.run(rows())
    return Export("案例列表", export_columns(names, "cases", "cases", "http://127.0.0.1:8001")), found


def through_the_site(db: Path, path: str) -> tuple[float, int]:
    from caselib.site import datasette

    ds = datasette(db)

    asked = iter(range(2))

    async def get() -> Any:
        # a new address each time: the site keeps responses until the next build
        response = await ds.client.get(f"{path}?_bench={next(asked)}")
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code}")
        return response

    timing = asyncio.run(common.time_async(get, 2))  # the first also starts the writing process
    return timing.samples[1], len(timing.results[1].content)


def bench_size(size: int, args) -> list[list[str]]:
    from caselib.site import csvx, xlsx

    cases = common.corpus(size, args.seed, args.data)
    db = common.corpus_dir(args.data, size, args.seed) / "export.db"
    build(cases, db, jobs=2)
    export, rows = export_rows(db)
    common.log(f"{size} cases: {len(rows)} rows to write")
    writers: dict[str, Callable[[Any, Iterable[Sequence[Any]]], bytes]] = {
        "xlsx (openpyxl)": openpyxl_workbook,
        "xlsx": xlsx.write_workbook,
        "csv": csvx.write_csv,
    }
    table = []
    baseline = None
    for name, write in writers.items():
        timing = common.time_call(lambda: write(export, rows), 1 if args.smoke else 3)
        best = min(timing.samples)
        baseline = baseline or best
        table.append([f"{size:,}", name, f"{len(rows):,}", f"{best / 1000:.2f} s", f"{baseline / best:.1f}×", f"{len(timing.results[0]) / 1e6:.1f} MB"])
    for path in ("/cases/cases.xlsx", "/cases/cases.csvx"):
        ms, size_bytes = through_the_site(db, path)
        table.append([f"{size:,}", path, f"{len(rows):,}", f"{ms / 1000:.2f} s", "", f"{size_bytes / 1e6:.1f} MB"])
    return table


def main(argv: list[str] | None = None) -> int:
    parser = common.parser("python -m bench.export_bench", __doc__)
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes = "50"
    rows = [row for size in common.sizes(args) for row in bench_size(size, args)]
    print(common.table(["approach size", "writer", "rows", "time", "vs openpyxl", "file"], rows, left=(1,)))
    common.write_results(args.data, "export", {"rows": rows, "machine": common.machine()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
