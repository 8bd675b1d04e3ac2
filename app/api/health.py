"""Liveness and readiness for load balancers and docker-compose healthchecks."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.checked_route import CheckedRoute
from app.api.deps import runtime_of

router = APIRouter(route_class=CheckedRoute, tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "The database does not answer", "model": dict[str, str]}},
)
async def readyz(request: Request) -> JSONResponse:
    """The primary database answers, the reference data and a routing ruleset are loaded.

    Deliberately not part of readiness: how far behind the SLA scan is (a metric with an
    alert, docs/operations.md). A lag shared by every instance must not take them all out of
    the load balancer, which would stop intake too."""
    state = runtime_of(request)
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means not ready
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status_code=503
        )
    ruleset = getattr(state.rules, "current", None)
    if ruleset is None or not ruleset.version:
        return JSONResponse({"status": "unavailable", "ruleset": "not loaded"}, status_code=503)
    catalog = state.catalog
    return JSONResponse(
        {
            "status": "ok",
            "areas": len(catalog.areas),
            "units": len(catalog.units),
            "ruleset": ruleset.version,
        }
    )
