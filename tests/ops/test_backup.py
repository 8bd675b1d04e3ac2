"""`hotline db backup`: SQLite's online backup API; PostgreSQL is refused with directions."""

import sqlite3

import pytest

from app.backup import BackupRefused, backup_sqlite


def test_a_sqlite_backup_is_a_consistent_copy_taken_while_a_connection_is_open(tmp_path):
    live = tmp_path / "live.db"
    writer = sqlite3.connect(live)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE ticket (id INTEGER PRIMARY KEY, description TEXT)")
    writer.executemany(
        "INSERT INTO ticket (description) VALUES (?)", [(f"Mất nước {i}",) for i in range(500)]
    )
    writer.commit()
    writer.execute("INSERT INTO ticket (description) VALUES ('not committed')")  # in flight
    size = backup_sqlite(f"sqlite+aiosqlite:///{live}", tmp_path / "copy.db")
    writer.rollback()
    writer.close()
    copy = sqlite3.connect(tmp_path / "copy.db")
    rows = copy.execute("SELECT count(*), max(description) FROM ticket").fetchone()
    assert size > 0 and rows == (500, "Mất nước 99")


def test_backup_refuses_postgresql_and_an_existing_file(tmp_path):
    with pytest.raises(BackupRefused, match="pg_dump"):
        backup_sqlite("postgresql+asyncpg://postgres@127.0.0.1/hotline", tmp_path / "x.db")
    (tmp_path / "taken.db").write_bytes(b"")
    with pytest.raises(BackupRefused, match="exists"):
        backup_sqlite(f"sqlite+aiosqlite:///{tmp_path / 'live.db'}", tmp_path / "taken.db")
