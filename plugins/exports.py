"""Registers the exports for people (caselib/site/export.py): Excel (.xlsx)
and CSV that Excel opens (.csvx), for tables and queries."""

from datasette import hookimpl

from caselib.site import csvx, export, xlsx


@hookimpl
def register_output_renderer(datasette):
    return [export.output_renderer(xlsx.WRITER), export.output_renderer(csvx.WRITER)]


@hookimpl
def startup(datasette):
    export.WRITING.start()
