"""CPU seconds of a server and of its PostgreSQL backends, from /proc (Linux), for the benches.

CPU per request moves far less than requests/s when other work shares the machine: it is the
measure to compare builds with on a busy machine (docs/performance.md).
"""

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds so far of one process (all its threads), None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_seconds(parent: int | None) -> float:
    """User + system CPU seconds so far of process `parent` and its children (the server's
    workers); 0.0 without a parent."""
    if parent is None:
        return 0.0
    pids, total = [parent], 0.0
    while pids:
        pid = pids.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
            for task in Path(f"/proc/{pid}/task").iterdir():
                pids += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return total


async def backend_pids(dsn: str) -> list[int]:
    """The PostgreSQL backends connected to the database of `dsn` (a postgresql:// URL),
    this query's own left out. The backends' CPU is read from /proc, so the bench must run on
    the database's machine."""
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


async def backends_cpu(dsn: str) -> dict[int, float]:
    """CPU seconds so far of each backend connected to the database of `dsn`, by pid."""
    seconds = {pid: process_cpu(pid) for pid in await backend_pids(dsn)}
    return {pid: s for pid, s in seconds.items() if s is not None}


def backends_delta(before: dict[int, float], after: dict[int, float]) -> tuple[float, int, int]:
    """CPU seconds the backends spent between two readings of backends_cpu; with how many
    backends came and went between them (a backend that went is counted up to `before` only,
    so the figure is exact only when none went)."""
    spent = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
    return spent, len(after.keys() - before.keys()), len(before.keys() - after.keys())
