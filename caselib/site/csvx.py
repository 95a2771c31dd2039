"""The CSV writer of the exports for people (see ``export``): a file Excel opens as it is.

Excel on a Chinese Windows reads a CSV without a byte-order mark as GBK, so
the file is UTF-8 with a BOM and CRLF line ends. Multi-valued fields are
joined with "、", amounts and years are plain numbers, and a text that Excel
would run as a formula (``=…``, ``+…``, ``-…``, ``@…``) starts with an
apostrophe instead (the usual neutralisation for CSV, which has no cell
types). Datasette's own ``.csv`` stays as it is, for programs.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Sequence

from .export import MAX_ROWS, Export, Writer, runs_as_formula, value_for

CONTENT_TYPE = "text/csv; charset=utf-8"
EXTENSION = "csvx"
BOM = "\ufeff"


def cell(header: str, value: Any) -> str:
    value = value_for(header, value)
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if runs_as_formula(value) else value
    return str(value)


def write_csv(export: Export, rows: Iterable[Sequence[Any]], limit: int = MAX_ROWS) -> bytes:
    """UTF-8 with BOM: the header row, up to ``limit`` rows, then a note if rows were left out."""
    buffer = io.StringIO()
    buffer.write(BOM)
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow([c.header for c in export.columns])
    written = 0
    note = export.note
    for row in rows:
        if written == limit:
            note = f"符合条件的记录超过 {limit:,} 行，仅导出了前 {limit:,} 行；请缩小筛选范围后分批导出。"
            break
        out.writerow([cell(c.header, c.value(row)) for c in export.columns])
        written += 1
    if note:
        out.writerow([])
        out.writerow([note])
    return buffer.getvalue().encode("utf-8")


WRITER = Writer(EXTENSION, CONTENT_TYPE, write_csv, file_extension="csv")
