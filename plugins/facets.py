"""Registers the site's facet classes (caselib/site/facets.py): the link-table
facet used by metadata.yml, and Datasette's column, array and date facets
counting over the whole result on every page, in place of Datasette's own."""

from datasette import hookimpl
from datasette.plugins import pm

from caselib.site.facets import LinkedFacet, WholeResultArrayFacet, WholeResultColumnFacet, WholeResultDateFacet

# Datasette's default facet classes count page 2+ wrongly (see caselib/site/facets.py);
# the same types are registered below with that fixed. The plugin manager is
# Datasette's, one per process: every Datasette in this process (the site, the
# tests) gets these classes instead of the defaults.
if pm.get_plugin("datasette.facets") is not None:
    pm.unregister(name="datasette.facets")


@hookimpl
def register_facet_classes():
    return [WholeResultColumnFacet, WholeResultDateFacet, WholeResultArrayFacet, LinkedFacet]
