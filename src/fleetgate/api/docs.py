"""``/docs`` and ``/redoc`` from assets an installed package ships, so they render offline.

FastAPI's own pages load Swagger UI and ReDoc from a CDN: on a machine without internet they
are blank. The fastapi-offline distribution ships those assets; they are served here from this
origin, and nothing on either page reaches another origin (ReDoc's web fonts stay off, and
Swagger UI's online validator badge, which would call out to a validator service, is off).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from fleetgate.api.responses import OrjsonResponse

ASSETS = "/docs-assets"
SCHEMA_URL = "/openapi.json"
_PACKAGE = "fastapi_offline"
# Both pages may only reach this origin. ReDoc's sidebar links its maker's logo from their CDN
# (the bundle has no option to leave it out): the browser refuses that image here, before any
# request leaves, and ReDoc then shows the link without it. The pages' own inline start-up
# script and styles (FastAPI's page templates, and ReDoc's generated styles) need
# 'unsafe-inline'; ReDoc runs its search index in a worker made from a blob: URL.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def install(app: FastAPI) -> None:
    """Serve the schema, the two pages and their assets (the app is built without FastAPI's
    own: ``openapi_url``, ``docs_url`` and ``redoc_url`` None)."""
    _finish_schema(app)
    app.mount(ASSETS, StaticFiles(packages=[(_PACKAGE, "static")]), name="docs-assets")
    building = asyncio.Lock()

    @app.get(SCHEMA_URL, include_in_schema=False)
    async def schema() -> OrjsonResponse:
        """The OpenAPI document, built once on first request in a thread: building it takes
        about a second for every route of both façades, which FastAPI's own route would spend
        on the event loop, holding up every other request meanwhile."""
        if app.openapi_schema is None:
            async with building:
                if app.openapi_schema is None:
                    await asyncio.to_thread(app.openapi)
        return OrjsonResponse(app.openapi_schema)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _pinned(
            get_swagger_ui_html(
                openapi_url=SCHEMA_URL,
                title=f"{app.title} - Swagger UI",
                swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS}/favicon.png",
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _pinned(
            get_redoc_html(
                openapi_url=SCHEMA_URL,
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{ASSETS}/redoc.standalone.js",
                redoc_favicon_url=f"{ASSETS}/favicon.png",
                with_google_fonts=False,
            )
        )


def _pinned(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = DOCS_POLICY
    return page


_LOCAL_REF = "#/$defs/"
_COMPONENT_REF = "#/components/schemas/"
# FastAPI's answer to a request its parameters refuse. Every route takes its parameters as
# plain strings and reads its body itself, so it is never sent (errors come in the route's
# façade format, declared by its route class: api/errors.py).
_NEVER_SENT = "422"
_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _finish_schema(app: FastAPI) -> None:
    """Make the schema's references resolvable from the document root, and leave out the 422.

    Routes that read their body themselves describe it with a model's JSON schema
    (``openapi_extra``); pydantic puts a nested model under that schema's own ``$defs`` and
    refers to it as ``#/$defs/Name``, which a reader resolves from the document's root and
    does not find (ReDoc stops rendering at the first one). The definitions are moved to
    ``components/schemas``, where FastAPI keeps the rest.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = build()
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            app.openapi_schema = _without_validation_errors(_moved(doc, schemas, {}))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _moved(node: Any, schemas: dict[str, Any], names: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_moved(item, schemas, names) for item in node]
    if not isinstance(node, dict):
        return node
    local = node.get("$defs", {})
    if local:
        names = {**names, **_component_names(local, schemas)}
        for name, schema in local.items():
            schemas.setdefault(names[name], _moved(schema, schemas, names))
    moved = {key: _moved(value, schemas, names) for key, value in node.items() if key != "$defs"}
    ref = moved.get("$ref")
    if isinstance(ref, str) and ref.startswith(_LOCAL_REF):
        name = ref.removeprefix(_LOCAL_REF)
        moved["$ref"] = _COMPONENT_REF + names.get(name, name)
    return moved


def _component_names(local: dict[str, Any], schemas: dict[str, Any]) -> dict[str, str]:
    """Each local definition's name in ``components/schemas``.

    Its own name, unless a different model already has it there (two façades each have an
    ``ActionButton``, say): then the name with the first free number after it.
    """
    same = {name: name for name in local}
    names: dict[str, str] = {}
    for name, schema in local.items():
        found = _moved(schema, {}, same)
        candidate, number = name, 1
        while candidate in schemas and schemas[candidate] != found:
            number += 1
            candidate = f"{name}{number}"
        names[name] = candidate
    return names


def _without_validation_errors(doc: dict[str, Any]) -> dict[str, Any]:
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop(_NEVER_SENT, None)
    schemas = doc.get("components", {}).get("schemas", {})
    for name in _VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    return doc
