"""`hotline db backup PATH`: a consistent copy of the SQLite database while the app runs.

SQLite's online backup API copies the file page by page under a read transaction, so writers
can go on and the copy is one consistent snapshot (a plain `cp` of a WAL database is not).
PostgreSQL is backed up with its own tools (pg_dump, or base backups and WAL archiving):
docs/operations.md.
"""

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupRefused(Exception):
    """The database is not a SQLite file, or the target exists already."""


def backup_sqlite(database_url: str, target: Path) -> int:
    """Copy the SQLite database at `database_url` to `target` (a new file); its size in bytes."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database:
        raise BackupRefused(
            "hotline db backup copies a SQLite file; back PostgreSQL up with pg_dump "
            "(docs/operations.md)."
        )
    if target.exists():
        raise BackupRefused(f"{target} exists; give a new file name.")
    source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy, pages=1024)  # in steps: writers get the lock in between
        finally:
            copy.close()
    finally:
        source.close()
    return target.stat().st_size
