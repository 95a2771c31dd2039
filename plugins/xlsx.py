"""Registers the .xlsx output renderer (caselib/site/xlsx.py) for tables and queries."""

from datasette import hookimpl

from caselib.site import xlsx


@hookimpl
def register_output_renderer(datasette):
    return {"extension": xlsx.EXTENSION, "render": xlsx.render, "can_render": xlsx.can_render}
