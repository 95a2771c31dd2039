"""The parsed case: plain values, passed from parsing to storing."""

from __future__ import annotations

from dataclasses import dataclass, field

Stamp = tuple[int, int, int]  # a file's size, modification time (ns) and inode: unchanged since it was read


@dataclass
class Case:
    """One case file, parsed and rendered.

    ``values`` holds the front matter's canonical values by field name (see
    ``schema.FIELDS``): vocabulary codes, normalised dates and amounts, the
    detected language when none was written. The body is split into its
    recognised sections, the rest of its text and the rendered HTML.
    """

    id: str
    path: str  # as shown in messages
    digest: str
    values: dict[str, object]
    sections: dict[str, str] = field(default_factory=dict)
    other_text: str = ""
    body_html: str = ""
    as_written: dict[str, object] = field(default_factory=dict)
    file: str = ""  # the path stored in the database, e.g. cases/2019/x.md

    @property
    def related(self) -> list[tuple[str, int]]:
        """The author's related case ids, each with its line."""
        return self.values.get("related", [])  # type: ignore[return-value]
