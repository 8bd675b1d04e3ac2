"""Interactive API docs (/docs: Swagger UI, /redoc: Redoc) served from this app, no CDN.

The assets are the ones vendored in the `fastapi-offline` package (pinned in pyproject.toml;
MIT; it bundles Swagger UI 5, Apache-2.0, and Redoc, MIT, with their licence headers), served
under /docs-assets/. FastAPI's own pages would load them from a CDN, which an office network
without internet access cannot reach.

Whether the docs and /openapi.json are served at all is the setting HOTLINE_API_DOCS (default:
on, except with HOTLINE_ENV=production).
"""

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/docs-assets"
OPENAPI_URL = "/openapi.json"


def install_docs(app: FastAPI) -> None:
    """Mount the assets and the two pages (call only when the docs are enabled)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title} — API",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
