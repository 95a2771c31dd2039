"""Registers the link-table facet (caselib/facets.py) used by metadata.yml."""

from datasette import hookimpl

from caselib.facets import LinkedFacet


@hookimpl
def register_facet_classes():
    return [LinkedFacet]
