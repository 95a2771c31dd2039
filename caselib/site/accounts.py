"""Staff accounts: who may sign in and read internal cases.

Signing in is datasette-auth-passwords' (``/-/login``): each account is a
name and a salted PBKDF2 hash of its password, never the password. The
administrator keeps them in a file outside the repository, one account a line::

    zhangsan:pbkdf2_sha256$480000$…

(``datasette hash-password`` prints the hash of a password it asks for) and
names the file in ``CASELIB_PASSWORDS``; every serving process reads it when
it starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from . import PASSWORDS_VARIABLE

PASSWORDS_PLUGIN = "datasette-auth-passwords"


class AccountsError(ValueError):
    """The accounts file cannot be read as name:hash lines."""


def read_accounts(path: Path) -> dict[str, str]:
    """name -> password hash, from ``name:hash`` lines (blank lines and # comments skipped)."""
    accounts: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise AccountsError(f"{path}: cannot read the accounts file ({PASSWORDS_VARIABLE}): {err}") from err
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        if not sep or not name.strip() or hashed.strip().count("$") != 3:
            raise AccountsError(f"{path}:{number}: write name:hash, the hash as datasette hash-password prints it")
        accounts[name.strip()] = hashed.strip()
    return accounts


def configured_accounts(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The accounts of the CASELIB_PASSWORDS file (none when it is not set)."""
    path = environ.get(PASSWORDS_VARIABLE)
    return read_accounts(Path(path)) if path else {}


def with_accounts(metadata: dict, environ: Mapping[str, str] = os.environ) -> dict:
    """``metadata`` with the accounts of the CASELIB_PASSWORDS file configured for signing in."""
    accounts = configured_accounts(environ)
    if not accounts:
        return metadata
    config = {f"{name}_password_hash": hashed for name, hashed in accounts.items()}
    plugins = {**metadata.get("plugins", {}), PASSWORDS_PLUGIN: config}
    return {**metadata, "plugins": plugins}


def login_enabled(datasette) -> bool:
    config = datasette.plugin_config(PASSWORDS_PLUGIN) or {}
    return any(key.endswith("_password_hash") for key in config)

