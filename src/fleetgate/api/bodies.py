"""Request bodies for every façade: read within a size limit, parse, validate with clear errors.

Also how such a body shows in the OpenAPI document, and the field types more than one façade's
bodies use: 64-bit ids, texts without control characters, the longest message text.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import orjson
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request

from fleetgate.errors import BodyTooLarge, InvalidInput

M = TypeVar("M", bound=BaseModel)

# Ids are 64-bit database integers: a number outside that range names nothing (and the
# database drivers refuse to bind it).
Int64 = Annotated[int, Field(ge=-(2**63), lt=2**63)]
# Strings looked up in the database: PostgreSQL text cannot hold NUL, so control characters
# are refused (no real message id, QR payload or pairing code has any).
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
MESSAGE_MAX = 20_000


async def read_body(request: Request, limit: int) -> bytes:
    """The raw request body, refused as soon as it grows past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> Any:
    """The request body parsed as JSON; an empty body is ``None``."""
    raw = await read_body(request, limit)
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("request body is not valid JSON") from None


def parse_body(model: type[M], data: Any) -> M:
    """Validate a parsed JSON body, turning the first problem into a clear InvalidInput."""
    try:
        return model.model_validate({} if data is None else data)
    except ValidationError as exc:
        raise InvalidInput(_describe(exc)) from None


def json_body(body: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` of a route that reads this JSON body itself (a model or a schema).

    FastAPI sees no body parameter in such a route, so without this the documentation pages
    and the schema's readers (fuzzers, client generators) would not know what it takes. Every
    such body is optional on the wire: an empty one is parsed as ``{}``.
    """
    schema = body if isinstance(body, dict) else body.model_json_schema()
    return {"requestBody": {"content": {"application/json": {"schema": schema}}, "required": False}}


def _describe(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"])
    if not where:
        return "request body must be a JSON object"
    kind = err["type"]
    ctx = err.get("ctx", {})
    simple = {
        "extra_forbidden": f"unknown field {where}",
        "missing": f"field {where} is required",
        "literal_error": f'{where} must be "yes" or "no"'
        if "'yes'" in err["msg"]
        else f"{where}: {err['msg']}",
        "string_too_short": f"{where} must not be empty",
        "string_too_long": f"{where} must be at most {ctx.get('max_length')} characters",
        "string_pattern_mismatch": f"{where} is not valid",
        "bool_type": f"{where} must be true or false",
        "list_type": f"{where} must be a list",
        "too_short": f"{where} must have at least {ctx.get('min_length')} items",
        "too_long": f"{where} must have at most {ctx.get('max_length')} items",
        "model_type": f"{where} must be an object",
        "dict_type": f"{where} must be an object",
    }
    if kind in simple:
        return simple[kind]
    if kind.startswith("int"):
        return f"{where} must be an integer"
    if kind.startswith("float"):
        return f"{where} must be a number"
    if kind.startswith("string"):
        return f"{where} must be a string"
    return f"{where}: {err['msg']}"
