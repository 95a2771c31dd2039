"""The parsed case: plain values, passed from parsing to storing."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Case:
    id: str
    path: str
    digest: str
    title: str
    date: str
    year: int
    violations: list[str]  # vocabulary codes, in the author's order
    sanctions: list[str] = field(default_factory=list)
    disciplines: list[str] = field(default_factory=list)
    form: str | None = None
    rank: str | None = None
    personnel: str | None = None
    region: str | None = None
    unit: str | None = None
    position: str | None = None
    amount: int | float | None = None
    period: str | None = None
    source: str | None = None
    tags: list[str] = field(default_factory=list)
    related: list[tuple[str, int]] = field(default_factory=list)  # (id, line)
    lang: str = "zh"
    sections: dict[str, str] = field(default_factory=dict)
    other_text: str = ""
    body_html: str = ""
    as_written: dict[str, object] = field(default_factory=dict)
    file: str = ""  # the path stored in the database, e.g. cases/2019/x.md
