"""Step 1: read a case file's bytes into text (UTF-8, BOM and CRLF accepted)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .errors import CaseFileError, Problem

BOM = "\ufeff"


@dataclass(frozen=True)
class Source:
    """A case file's text, with the name it is reported under."""

    display: str  # the path as shown in messages, e.g. cases/2020/foo.md
    id: str  # the file name without .md
    text: str  # decoded, BOM removed, line ends normalised to \n
    digest: str  # sha256 of the raw bytes


def decode(data: bytes, display: str) -> str:
    """Decode UTF-8 bytes; a bad byte is reported at its line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise CaseFileError(
            [Problem(display, line, "", f"file is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); save it as UTF-8")]
        ) from None
    if text.startswith(BOM):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def source_from_bytes(data: bytes, display: str, case_id: str) -> Source:
    text = decode(data, display)
    return Source(display=display, id=case_id, text=text, digest=hashlib.sha256(data).hexdigest())


def read_source(path: Path, display: str) -> Source:
    return source_from_bytes(path.read_bytes(), display, path.stem)
