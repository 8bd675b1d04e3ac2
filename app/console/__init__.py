"""The web console at /console/: server-rendered pages over the same services as the API."""

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from app.console import admin, dashboard, intake, signin, work
from app.console.render import STATIC


def install(app: FastAPI) -> None:
    """Mount the console's pages under /console and its vendored assets under /console/static."""
    router = APIRouter(prefix="/console", include_in_schema=False)
    for module in (signin, work, intake, dashboard, admin):
        router.include_router(module.router)
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
