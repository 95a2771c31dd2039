"""The build fingerprint: changes whenever stored rows could be computed differently.

An incremental build keeps the rows of unchanged files, so it needs them to
be what this code would write; removing a row from the contentless search
index even means recomputing exactly the text that was indexed. The
fingerprint covers the code that shapes rows: the modules the parse workers
and the store run (``ROOTS``) and every module of the package they import,
found by reading their import statements, plus the vocabularies and the
version of the libraries whose data shapes the search index (OpenCC's tables). The site's
modules (pages, charts, exports) are not among them, so editing a chart
never forces a full rebuild.
"""

from __future__ import annotations

import ast
import hashlib
from importlib.metadata import version
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOTS = ("parse", "rows", "store", "public")
DATA = ("vocabularies.yml",)
LIBRARIES = ("opencc",)


def _imports(source: Path) -> set[str]:
    """The package modules one module imports (``from .x import …``, ``from . import x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def row_modules(package: Path = PACKAGE) -> list[Path]:
    """The source files of ROOTS and everything in the package they import."""
    seen: set[str] = set()
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        source = package / f"{name}.py"
        if name in seen or not source.is_file():
            continue
        seen.add(name)
        todo += sorted(_imports(source) - seen)
    return sorted(package / f"{name}.py" for name in seen)


def fingerprint(schema_version: int, package: Path = PACKAGE) -> str:
    digest = hashlib.sha256(f"schema {schema_version}".encode())
    for source in [*row_modules(package), *(package / name for name in DATA)]:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    for library in LIBRARIES:
        digest.update(f"{library} {version(library)}".encode())
    return digest.hexdigest()
