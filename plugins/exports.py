"""Registers the exports for people (caselib/site/export.py): Excel (.xlsx)
and CSV that Excel opens (.csvx), for tables and queries; and the Word
booklet of a case list (.docx, caselib/site/booklets.py)."""

from datasette import hookimpl

from caselib.site import booklets, csvx, export, xlsx


@hookimpl
def register_output_renderer(datasette):
    return [export.output_renderer(xlsx.WRITER), export.output_renderer(csvx.WRITER), booklets.output_renderer()]


@hookimpl
def startup(datasette):
    export.WRITING.start()
