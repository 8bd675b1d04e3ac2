"""The pure cores import no database driver, ORM or web framework (issue 12, part 3)."""

import json
import subprocess
import sys

import pytest

FORBIDDEN = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "sqlmodel",
    "asyncpg",
    "aiosqlite",
    "app.db",
    "app.config",
)
PURE = (
    "app.catalog",
    "app.catalog.catalog",
    "app.catalog.codes",
    "app.catalog.loader",
    "app.catalog.resolver",
    "app.catalog.source",
    "app.catalog.vocabulary",
    "app.catalog.area_errors",
    "app.errors",
    "app.routing",
    "app.sla",
    "app.tickets.lifecycle",
)


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_database_or_web_framework(module):
    # A fresh interpreter: this test process has imported everything already.
    code = (
        f"import json, sys, {module}; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} "
        f"or m in {FORBIDDEN!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [], f"{module} pulls in a database or web module"
