"""Answers for requests no route takes (unknown method name, wrong HTTP verb), per façade."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from fleetgate.api.responses import OrjsonResponse

_GREEN_PREFIXES = ("/partner/", "/waInstance")
_GREEN_TEXT = {404: "Not found", 405: "Method Not Allowed"}
_ZAPI_PREFIX = "/instances"


async def http_exception(request: Request, exc: Exception) -> Response:
    """GREEN-API paths get `{"code", "description"}`, Z-API paths `{"error"}`, the rest
    FastAPI's `{"detail"}`."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    path = request.url.path
    if path == _ZAPI_PREFIX or path.startswith(_ZAPI_PREFIX + "/"):
        body: dict[str, object] = {"error": _GREEN_TEXT.get(exc.status_code, str(exc.detail))}
    elif path.startswith(_GREEN_PREFIXES):
        description = _GREEN_TEXT.get(exc.status_code, str(exc.detail))
        body = {"code": exc.status_code, "description": description}
    else:
        body = {"detail": exc.detail}
    return OrjsonResponse(body, exc.status_code, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_exception)
