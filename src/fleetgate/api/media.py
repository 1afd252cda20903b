"""Downloads of stored files: ``GET /media/<idInstance>/<key>/<name>?expires=..&signature=..``.

The link itself is the permission (services/media.py makes and checks it). A file is always
served as an attachment, with its stored type, ``nosniff`` and a policy that lets nothing in
it run, so an uploaded HTML or SVG file can never act as a page of this origin. One byte
range per request is served (206), so players can seek and interrupted downloads resume.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from fleetgate.api.deps import ContextDep
from fleetgate.api.errors import PlainRoute
from fleetgate.errors import NotFound

router = APIRouter(prefix="/media", tags=["Files"], route_class=PlainRoute)

_RANGE = re.compile(r"bytes=(\d{0,19})-(\d{0,19})")
_HEADERS = {
    "Accept-Ranges": "bytes",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, max-age=3600",
}


@router.get("/{owner}/{key}/{name}")
@router.head("/{owner}/{key}/{name}", include_in_schema=False)
async def download(
    owner: str,
    key: str,
    name: str,
    request: Request,
    ctx: ContextDep,
    expires: str = "",
    signature: str = "",
) -> Response:
    """A stored file, by the link fleetgate gave out for it (downloadFile, notifications)."""
    if not owner.isdigit() or len(owner) > 20 or len(key) > 32 or len(signature) > 128:
        raise NotFound("no such file")
    file = await ctx.media.linked(int(owner), key, expires, signature)
    headers = _HEADERS | {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file.file_name)}",
        "ETag": f'"{file.sha256}"',
    }
    span = _span(request.headers.get("range", ""), file.size)
    if span is None:
        return Response(
            status_code=416, headers=headers | {"Content-Range": f"bytes */{file.size}"}
        )
    start, end = span
    status = 200
    if (start, end) != (0, file.size):
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{file.size}"
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD" or end == start:
        return Response(status_code=status, headers=headers, media_type=file.mime_type)
    read = await ctx.media.blobs.read(file.key, start=start, end=end)
    return StreamingResponse(
        read.chunks, status_code=status, headers=headers, media_type=file.mime_type
    )


def _span(header: str, size: int) -> tuple[int, int] | None:
    """The bytes to send, end exclusive: the whole file without a ``Range`` (or with one this
    server does not serve: several ranges, other units); None if the range is unsatisfiable."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or match[1] == match[2] == "":
        return (0, size)
    if match[1] == "":  # the last N bytes
        suffix = int(match[2])
        return (max(size - suffix, 0), size) if suffix > 0 and size > 0 else None
    start = int(match[1])
    end = size if match[2] == "" else min(int(match[2]) + 1, size)
    if start >= size or end <= start:
        return None
    return (start, end)
