"""The composition root: one runtime, built once, handed to the app (and commands)."""

from datetime import UTC, datetime

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.main import create_app
from app.runtime import build_runtime


async def test_an_app_handed_a_runtime_serves_on_it_and_leaves_it_open(settings):
    runtime = build_runtime(settings, datetime.now(UTC))
    app = create_app(runtime=runtime)
    try:
        async with app.router.lifespan_context(app):
            assert app.state.runtime is runtime
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                ready = (await client.get("/readyz")).json()
            assert ready["ruleset"] == runtime.rules.current.version
            assert ready["units"] == len(runtime.catalog.units)
        # The app stopped; the runtime it was handed is its owner's, still open.
        async with runtime.engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await runtime.close()


async def test_what_is_reloaded_is_read_through_one_source(settings):
    """router, sla and sla_keeper are views of the live ruleset and sla.yaml, not copies that
    a reload would have to update one by one; a command's runtime has one pool, direct."""
    runtime = build_runtime(settings, datetime.now(UTC), command=True)
    try:
        assert runtime.sla is runtime.sla_live.current
        assert runtime.sla_keeper is runtime.sla_live.keeper
        assert runtime.router.__self__ is runtime.rules  # bound to the live ruleset
        assert runtime.session_factory is runtime.read_session_factory
        assert runtime.engine.url.database == make_url(settings.direct_url).database
    finally:
        await runtime.close()
