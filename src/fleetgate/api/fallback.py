"""Answers for requests no route takes (unknown method name, wrong HTTP verb), per façade."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from fleetgate.api.errors import HTTP_TEXT, format_of_path
from fleetgate.api.responses import OrjsonResponse


async def http_exception(request: Request, exc: Exception) -> Response:
    """A façade's paths get its error format (api/errors.py), the rest FastAPI's ``{"detail"}``."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    fmt = format_of_path(request.url.path)
    if fmt is None:
        return OrjsonResponse({"detail": exc.detail}, exc.status_code, headers=headers)
    text = HTTP_TEXT.get(exc.status_code, str(exc.detail))
    return fmt.answer(exc.status_code, text, headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_exception)
