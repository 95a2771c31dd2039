"""The warning-education case library: Markdown case files to a searchable SQLite site."""

__version__ = "0.1.0"
