"""The console's pages (Jinja2 templates) and their scripts and style sheets.

The pages carry no partner data: the scripts fetch it with the token the person signed in
with, kept in the tab's session storage. Every page is sent with a strict Content-Security-
Policy: scripts and styles only from this origin's files (no inline code or style), images from
this origin or ``data:`` (the QR), requests to this origin only, no framing, no plugins, no
``<base>``. Templates escape every value (autoescape on); the scripts put user text in the
page through ``textContent`` only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from fleetgate.ids import parse_instance_id

router = APIRouter(prefix="/console", include_in_schema=False)
STATIC = "/console/static"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'"
)
# Sent with the pages besides the policy (SecurityHeadersMiddleware adds the same to every answer
# of the server; they are stated here too so that the console never depends on it).
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}

_templates = Environment(
    loader=PackageLoader("fleetgate.api.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def static_files() -> StaticFiles:
    """The scripts and style sheets, mounted at ``STATIC``."""
    return StaticFiles(packages=[("fleetgate.api.console", "static")])


def _page(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = _templates.get_template(template).render(static=STATIC, **values)
    return HTMLResponse(html, status, headers=PAGE_HEADERS)


@router.get("")
async def instances_page() -> Response:
    """The partner's instances: sign in, list, search, create, delete."""
    return _page("instances.html", title="Instances", page="instances")


@router.get("/instances/{idInstance}")
async def instance_page(idInstance: str) -> Response:
    """One instance: state, QR, settings, messages, queues, dead letters, token."""
    id_instance = parse_instance_id(idInstance)
    if id_instance is None:
        return _page("missing.html", 404, title="Not found", page="missing", what=idInstance)
    return _page(
        "instance.html", title=f"Instance {id_instance}", page="instance", id_instance=id_instance
    )


@router.get("/sandbox")
async def sandbox_page() -> Response:
    """The sandbox network for a person: link instances to virtual phones (QR or pairing code)
    and act as a contact: write, react, vote, edit, delete, make groups, call, block, post
    statuses. ``/sandbox`` redirects here."""
    return _page("sandbox.html", title="Sandbox", page="sandbox")
