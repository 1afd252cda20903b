"""``/docs`` and ``/redoc`` from assets an installed package ships, so they render offline.

FastAPI's own pages load Swagger UI and ReDoc from a CDN: on a machine without internet they
are blank. The fastapi-offline distribution ships those assets; they are served here from this
origin, and nothing on either page reaches another origin (ReDoc's web fonts stay off, and
Swagger UI's online validator badge, which would call out to a validator service, is off).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS = "/docs-assets"
_PACKAGE = "fastapi_offline"


def install(app: FastAPI) -> None:
    """Serve the two pages and their assets (the app is built with ``docs_url=None``)."""
    app.mount(ASSETS, StaticFiles(packages=[(_PACKAGE, "static")]), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
