"""Staff accounts: who may sign in and read internal cases.

Signing in is datasette-auth-passwords' (``/-/login``): each account is a
name and a salted PBKDF2 hash of its password, never the password. The
administrator keeps them in a file outside the repository, one account a line::

    zhangsan:pbkdf2_sha256$480000$…

(``datasette hash-password`` prints the hash of a password it asks for) and
names the file in ``CASELIB_PASSWORDS``; every serving process reads it when
it starts. Offices with single sign-on can instead let their reverse proxy
name the signed-in user in a header, with datasette-auth-headers (see the
README); a request is then a staff request when that header is present.
"""

from __future__ import annotations

import os
from pathlib import Path

PASSWORDS_VARIABLE = "CASELIB_PASSWORDS"
PASSWORDS_PLUGIN = "datasette-auth-passwords"
HEADERS_PLUGIN = "datasette-auth-headers"
HEADER_KEY = "id-header-name"


class AccountsError(ValueError):
    """The accounts file cannot be read as name:hash lines."""


def read_accounts(path: Path) -> dict[str, str]:
    """name -> password hash, from ``name:hash`` lines (blank lines and # comments skipped)."""
    accounts: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        if not sep or not name.strip() or hashed.strip().count("$") != 3:
            raise AccountsError(f"{path}:{number}: write name:hash, the hash as datasette hash-password prints it")
        accounts[name.strip()] = hashed.strip()
    return accounts


def with_accounts(metadata: dict, environ: dict[str, str] = os.environ) -> dict:
    """``metadata`` with the accounts of the CASELIB_PASSWORDS file configured for signing in."""
    path = environ.get(PASSWORDS_VARIABLE)
    if not path:
        return metadata
    config = {f"{name}_password_hash": hashed for name, hashed in read_accounts(Path(path)).items()}
    plugins = {**metadata.get("plugins", {}), PASSWORDS_PLUGIN: config}
    return {**metadata, "plugins": plugins}


def login_enabled(datasette) -> bool:
    config = datasette.plugin_config(PASSWORDS_PLUGIN) or {}
    return any(key.endswith("_password_hash") for key in config)


def staff_header(datasette) -> str | None:
    """The header a single sign-on proxy names the user in, when configured."""
    config = datasette.plugin_config(HEADERS_PLUGIN) or {}
    header = config.get(HEADER_KEY)
    return header.lower() if isinstance(header, str) and header else None
