"""Restore drill: back up, restore into a fresh database, serve it, read the same answers.

    .venv/bin/python ops/restore_drill.py        (run by .ci/run; under a minute)

PostgreSQL: pg_dump -Fc of a database with months of demo history, pg_restore into a new
database, the app started on the copy without migrating (--no-setup): tickets, one ticket's
history and the SLA report must read the same as on the original. SQLite: `hotline db backup`
(the online backup API) while the app is serving, then the same comparison on the copy.
Procedures: docs/operations.md.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
HOTLINE = str(REPO / ".venv" / "bin" / "hotline")
PORT = 18031
SUPERVISOR = ("supervisor", "supervisor1022")


def step(text: str) -> None:
    print(f"== {text}", flush=True)


def run(*command: str, env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"FAILED: {' '.join(command)}\n{done.stdout}\n{done.stderr}")


def psql(sql: str) -> None:
    run(
        "psql",
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-qXc",
        sql,
        env=dict(os.environ),
    )


def _timeless(value: object) -> object:
    """Drop what depends on the moment of reading (SLA state now, as_of)."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in ("sla", "as_of")}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def read_everything(env: dict[str, str], work: Path) -> dict[str, object]:
    """Serve the database of `env` and read tickets, a history and the SLA report."""
    log = open(work / f"serve-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [HOTLINE, "serve", "--no-setup", "--port", str(PORT)], env=env, stdout=log, stderr=log
    )
    try:
        base = f"http://127.0.0.1:{PORT}"
        with httpx.Client(base_url=base, timeout=30) as c:
            for _ in range(120):
                try:
                    if c.get("/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.25)
            else:
                raise SystemExit("FAILED: the app did not start on the database")
            token = c.post(
                "/api/v1/auth/token",
                data={"username": SUPERVISOR[0], "password": SUPERVISOR[1]},
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            tickets = c.get("/api/v1/tickets", params={"limit": 200}, headers=auth).json()
            first = tickets["items"][0]["id"]
            return _timeless(
                {
                    "tickets": tickets,
                    "one": c.get(f"/api/v1/tickets/{first}", headers=auth).json(),
                    "events": c.get(f"/api/v1/tickets/{first}/events", headers=auth).json(),
                    "report": c.get(
                        "/api/v1/reports/sla",
                        params={"group_by": "unit", "from": "2020-01-01"},
                        headers=auth,
                    ).json(),
                }
            )  # type: ignore[return-value]
    finally:
        server.terminate()
        server.wait()
        log.close()


def compare(original: dict[str, object], restored: dict[str, object], what: str) -> None:
    if not original["tickets"]["items"]:  # type: ignore[index]
        raise SystemExit(f"FAILED: {what}: the original had no tickets")
    for key in original:
        if original[key] != restored[key]:
            raise SystemExit(f"FAILED: {what}: {key} differs after the restore")
    count = len(original["tickets"]["items"])  # type: ignore[index]
    print(f"   {what}: {count} tickets, a history and the SLA report read the same")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="hotline-restore-"))
    base_env = {
        **os.environ,
        "HOTLINE_ENV": "development",
        "HOTLINE_RULES_POLL_SECONDS": "0",
        "HOTLINE_SLA_SCAN_SECONDS": "0",
        "HOTLINE_LOG_LEVEL": "WARNING",
    }
    base_env.pop("PROMETHEUS_MULTIPROC_DIR", None)

    step("PostgreSQL: pg_dump, pg_restore into a fresh database, serve the copy")
    original, copy = f"hotline_backup_{os.getpid()}", f"hotline_restored_{os.getpid()}"
    server = "postgresql+asyncpg://postgres@127.0.0.1:5432"
    psql(f"CREATE DATABASE {original}")
    try:
        env = {**base_env, "HOTLINE_DATABASE_URL": f"{server}/{original}"}
        run(HOTLINE, "demo", "generate", "--tickets", "150", "--months", "2", env=env)
        before = read_everything(env, work)
        dump = work / "hotline.dump"
        run(
            "pg_dump",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-Fc",
            "-f",
            str(dump),
            original,
            env=env,
        )
        psql(f"CREATE DATABASE {copy}")
        run(
            "pg_restore",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "--no-owner",
            "--exit-on-error",
            "-d",
            copy,
            str(dump),
            env=env,
        )
        after = read_everything({**base_env, "HOTLINE_DATABASE_URL": f"{server}/{copy}"}, work)
        compare(before, after, "PostgreSQL")
    finally:
        psql(f"DROP DATABASE IF EXISTS {original} WITH (FORCE)")
        psql(f"DROP DATABASE IF EXISTS {copy} WITH (FORCE)")

    step("SQLite: hotline db backup (online backup API) while serving, serve the copy")
    live = f"sqlite+aiosqlite:///{work / 'live.db'}"
    env = {**base_env, "HOTLINE_DATABASE_URL": live}
    run(HOTLINE, "demo", "generate", "--tickets", "150", "--months", "2", env=env)
    before = read_everything(env, work)
    # Backed up with the app serving (and holding the file) meanwhile.
    log = open(work / "serving.log", "wb")  # noqa: SIM115
    serving = subprocess.Popen(
        [HOTLINE, "serve", "--no-setup", "--port", str(PORT + 1)], env=env, stdout=log, stderr=log
    )
    try:
        time.sleep(3)
        run(HOTLINE, "db", "backup", str(work / "copy.db"), env=env)
    finally:
        serving.terminate()
        serving.wait()
        log.close()
    after = read_everything(
        {**base_env, "HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'copy.db'}"}, work
    )
    compare(before, after, "SQLite")
    step("restore drill passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
