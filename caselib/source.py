"""Step 1: read a case file's bytes into text (UTF-8, BOM and CRLF accepted).

What the reader accepts and refuses:

- UTF-8 only; the first byte that is not UTF-8 (a GBK file, a lone surrogate
  written as bytes) is reported at its line.
- A byte-order mark is removed wherever it stands: at the start of the file it
  is the accepted UTF-8 BOM, elsewhere it is left over from joining or pasting
  files and is invisible anyway.
- CRLF and lone CR line ends become LF. Only these end a line: U+2028, U+2029
  and U+0085 are ordinary characters here (the front-matter reader turns them
  into spaces), so every reported line is the line an editor shows.
- A NUL byte is an error: a text file never holds one, and a file saved as
  UTF-16 is full of them (one that starts with the UTF-16 byte-order mark is
  named as such).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidInput, Problem
from .text import shown

BOM = "\ufeff"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*\Z")  # \Z: "abc\n" is not an id


@dataclass(frozen=True)
class Source:
    """A case file's text, with the name it is reported under."""

    display: str  # the path as shown in messages, e.g. cases/2020/foo.md
    id: str  # the file name without .md
    text: str  # decoded, BOMs removed, line ends normalised to \n
    digest: str  # sha256 of the raw bytes


def byte_line(data: bytes, offset: int) -> int:
    """The 1-based line of the byte at ``offset``; CRLF and lone CR end lines too."""
    return data[:offset].replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1


def _refuse(display: str, line: int, message: str) -> InvalidInput:
    return InvalidInput([Problem(display, line, "", message)])


def decode(data: bytes, display: str) -> str:
    """Decode UTF-8 bytes; UTF-16, a NUL byte or a bad byte is reported at its line."""
    if data.startswith(UTF16_BOMS):
        raise _refuse(display, 1, "file is saved as UTF-16 (\"Unicode\"); save it as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        message = "file contains a NUL byte (0x00): it is not a text file, or it was saved as UTF-16; save it as UTF-8"
        raise _refuse(display, byte_line(data, nul), message)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        message = f"file is not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); save it as UTF-8"
        raise _refuse(display, byte_line(data, err.start), message) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace(BOM, "")


def id_problems(case_id: str, display: str) -> list[Problem]:
    """The file name must make a valid id, whatever the file holds."""
    if ID_PATTERN.match(case_id):
        return []
    message = f'file name "{shown(case_id)}.md" is not a valid case id: use lower-case letters, digits and - (e.g. 2019-some-case.md)'
    return [Problem(display, 1, "id", message)]


def source_from_bytes(data: bytes, display: str, case_id: str) -> Source:
    try:
        text = decode(data, display)
    except InvalidInput as err:
        raise InvalidInput(id_problems(case_id, display) + err.problems) from None
    return Source(display=display, id=case_id, text=text, digest=hashlib.sha256(data).hexdigest())


def read_source(path: Path, display: str) -> Source:
    return source_from_bytes(path.read_bytes(), display, path.stem)
