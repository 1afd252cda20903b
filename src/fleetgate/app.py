"""The application factory: nothing runs at import time."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI

from fleetgate.api import (
    docs,
    fallback,
    media,
    sandbox,
    sandbox_chats,
    sandbox_groups,
    system,
    unavailable,
)
from fleetgate.api.admin import client_token, dead_letters
from fleetgate.api.console import events as console_events
from fleetgate.api.console import instances as console_instances
from fleetgate.api.console import pages as console_pages
from fleetgate.api.console import partner as console_partner
from fleetgate.api.greenapi import (
    account,
    buttons,
    calls,
    chats,
    extras,
    files,
    groups,
    journals,
    partner,
    receiving,
    sending,
    statuses,
)
from fleetgate.api.middleware import (
    MethodCaseMiddleware,
    MetricsMiddleware,
    SecurityHeadersMiddleware,
    ShutdownMiddleware,
)
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.zapi import actions as zapi_actions
from fleetgate.api.zapi import chats as zapi_chats
from fleetgate.api.zapi import contacts as zapi_contacts
from fleetgate.api.zapi import events as zapi_events
from fleetgate.api.zapi import groups as zapi_groups
from fleetgate.api.zapi import instance as zapi_instance
from fleetgate.api.zapi import partner as zapi_partner
from fleetgate.api.zapi import sending as zapi_sending
from fleetgate.api.zapi import sending_media as zapi_media
from fleetgate.api.zapi import sending_more as zapi_more
from fleetgate.api.zapi import webhooks as zapi_webhooks
from fleetgate.background import start_background
from fleetgate.context import Context
from fleetgate.settings import Settings


def create_app(settings: Settings | None = None, *, context: Context | None = None) -> FastAPI:
    """Build the ASGI app; its lifespan migrates the database, starts the background work the
    settings enable (runner, delivery worker), and stops it and closes the database at the end."""
    ctx = context or Context.from_settings(settings or Settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await ctx.db.migrate()
        await ctx.signals.start()
        async with AsyncExitStack() as stack:
            stack.push_async_callback(ctx.db.dispose)
            stack.push_async_callback(ctx.signals.stop)
            await start_background(ctx, stack)
            _settle_heap()
            yield

    app = FastAPI(
        title="fleetgate",
        summary="Self-hosted messenger API gateway (GREEN-API and Z-API wire formats)",
        version="0.1.0",
        lifespan=lifespan,
        default_response_class=OrjsonResponse,
        # Served by api/docs.py from packaged assets instead of a CDN.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # also api/docs.py's: built off the event loop
    )
    app.state.ctx = ctx
    fallback.install(app)
    docs.install(app)
    unavailable.install(app)
    app.include_router(system.router)
    app.include_router(partner.router)
    app.include_router(account.router)
    app.include_router(receiving.router)
    app.include_router(sending.router)
    app.include_router(files.router)
    app.include_router(media.router)
    app.include_router(journals.router)
    app.include_router(groups.router)
    for router in (chats.router, calls.router, buttons.router):
        app.include_router(router)
    app.include_router(statuses.router)
    app.include_router(extras.router)
    app.include_router(sandbox.router)
    app.include_router(sandbox_groups.router)
    app.include_router(sandbox_chats.router)
    app.include_router(dead_letters.router)
    app.include_router(client_token.router)
    for router in (zapi_partner.router, zapi_instance.router, zapi_webhooks.router):
        app.include_router(router)
    app.include_router(zapi_sending.router)
    app.include_router(zapi_media.router)
    app.include_router(zapi_more.router)
    app.include_router(zapi_actions.router)
    app.include_router(zapi_events.router)
    for router in (zapi_chats.router, zapi_groups.router, zapi_contacts.router):
        app.include_router(router)
    console = (console_pages, console_instances, console_partner, console_events)
    for module in console:
        app.include_router(module.router)
    app.mount(console_pages.STATIC, console_pages.static_files(), name="console-static")
    # Outermost first: names are folded before routing, so metrics see the matched route.
    app.add_middleware(MetricsMiddleware, registry=ctx.registry)
    facade = (
        *(partner, account, receiving, sending, files, journals),
        *(groups, chats, calls, buttons, statuses, extras),
    )
    app.add_middleware(
        MethodCaseMiddleware, method_names=[name for m in facade for name in m.METHODS]
    )
    # It answers for whatever is cut off inside (see the class).
    app.add_middleware(ShutdownMiddleware)
    # Outermost of all, so that even the shutdown answer carries the hardening headers.
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def _settle_heap() -> None:
    """Move everything made at start-up out of the garbage collector's sight.

    The app, its routes, models and the ORM metadata are some 150,000 objects that live as long
    as the process. A full collection walks them all (about 70 ms here), stalling every request
    in flight; frozen, they are never walked again and requests see no such pause.
    """
    gc.collect()
    gc.freeze()
