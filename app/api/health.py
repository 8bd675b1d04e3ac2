"""Liveness and readiness for load balancers and docker-compose healthchecks."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.checked_route import CheckedRoute

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
    """The database answers and the reference data is loaded."""
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means not ready
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status_code=503
        )
    catalog = request.app.state.catalog
    return JSONResponse({"status": "ok", "areas": len(catalog.areas), "units": len(catalog.units)})
