"""The `hotline` command answers expected failures with one line, never a traceback."""

import socket

import pytest

from app.cli import main
from app.config import get_settings


@pytest.fixture
def env(monkeypatch):
    """Set HOTLINE_* variables for one command; the cached settings are forgotten around it."""

    def setenv(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"HOTLINE_{name.upper()}", value)
        get_settings.cache_clear()

    yield setenv
    get_settings.cache_clear()


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err


@pytest.mark.parametrize(
    "argv, says",
    [
        (["--area", "nowhere at all"], "no area named 'nowhere at all'"),
        (["--topic", "no-such-topic"], "no topic 'no-such-topic'"),
        (["--channel", "fax"], "--channel must be one of phone"),
        (["--priority", "asap"], "--priority must be one of low"),
        (["--at", "yesterday"], "--at 'yesterday' is not a date and time"),
    ],
)
def test_rules_explain_refuses_what_the_api_refuses(capsys, argv, says):
    code, err = run(capsys, "rules", "explain", *argv)
    assert code == 1 and says in err


def test_a_postgresql_url_without_the_driver_says_which_to_use(capsys, env):
    env(database_url="postgresql://postgres@127.0.0.1/hotline")
    code, err = run(capsys, "users", "list")
    assert code == 1 and "postgresql+asyncpg://" in err


def test_an_unreachable_database_is_one_line(capsys, env):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    env(database_url=f"postgresql+asyncpg://postgres:pw@127.0.0.1:{port}/hotline")
    code, err = run(capsys, "users", "list")
    assert code == 1 and f"cannot reach PostgreSQL at 127.0.0.1:{port}/hotline" in err
    assert "pw" not in err


def test_an_unwritable_sqlite_path_is_one_line(capsys, env, tmp_path):
    env(database_url=f"sqlite+aiosqlite:///{tmp_path}/missing/folder/hotline.db")
    code, err = run(capsys, "db", "upgrade")
    assert code == 1 and "check that its folder exists and is writable" in err


def test_production_lists_every_problem_without_the_secret(capsys, env):
    env(env="production", secret_key="short-but-secret-value")
    code, err = run(capsys, "serve", "--no-setup")
    assert code == 1
    assert "HOTLINE_DATABASE_URL must point to PostgreSQL" in err
    assert "HOTLINE_SECRET_KEY must be set" in err
    assert "short-but-secret-value" not in err and "short-but" not in err


def test_a_taken_port_is_found_before_migrating(capsys, env, tmp_path):
    db = tmp_path / "untouched.db"
    env(database_url=f"sqlite+aiosqlite:///{db}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run(capsys, "serve", "--port", str(port))
    assert code == 1 and f"port {port} on 127.0.0.1 is taken" in err
    assert not db.exists()  # nothing was migrated


def test_demo_generate_refuses_production(capsys, env):
    env(env="production", secret_key="x" * 40, database_url="postgresql+asyncpg://h/db")
    code, err = run(capsys, "demo", "generate", "--tickets", "1")
    assert code == 1 and "HOTLINE_ENV=production" in err


def test_demo_generate_refuses_a_database_with_tickets_unless_forced(capsys, env, tmp_path):
    env(database_url=f"sqlite+aiosqlite:///{tmp_path}/demo.db")
    assert run(capsys, "demo", "generate", "--tickets", "3", "--months", "0.2")[0] == 0
    code, err = run(capsys, "demo", "generate", "--tickets", "3", "--months", "0.2")
    assert code == 1 and "holds 3 tickets already" in err and "--force" in err
    assert run(capsys, "demo", "generate", "--tickets", "2", "--months", "0.2", "--force")[0] == 0


def test_version_and_serve_help(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("hotline 0.")
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    help_text = capsys.readouterr().out
    assert "(default: 8000)" in help_text and "processes" in help_text


def test_db_downgrade_says_where_it_went(capsys, env, tmp_path):
    env(database_url=f"sqlite+aiosqlite:///{tmp_path}/down.db")
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["db", "downgrade"]) == 0
    out = capsys.readouterr().out
    # One step below the head (search lexemes with digits): the search lexemes.
    assert "now at 7060bbf944ad (search lexemes" in out


def test_a_missing_rules_file_names_the_file_not_the_database(capsys, env, tmp_path):
    # A FileNotFoundError is an OSError, as a refused connection is: it was reported as
    # "cannot reach PostgreSQL" while the database was fine and the rules folder was wrong.
    env(rules_dir=str(tmp_path / "nothing"))
    code, err = run(capsys, "rules", "check")
    assert code == 1
    assert "cannot reach" not in err
    assert str(tmp_path / "nothing" / "topics.yaml") in err and "HOTLINE_RULES_DIR" in err


def test_relay_nice_below_zero_without_the_right_says_so(capsys, monkeypatch):
    # A refused os.nice is a PermissionError, an OSError: it was reported as "cannot reach
    # PostgreSQL" before the relay had opened the database.
    def refused(_increment: int) -> int:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr("os.nice", refused)
    code, err = run(capsys, "webhooks", "relay", "--nice", "-5")
    assert code == 1
    assert "cannot reach" not in err and "--nice -5" in err
