"""The `fleetgate` command: serve the API and manage partners."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import orjson
import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from fleetgate.app import create_app
from fleetgate.clock import green_time
from fleetgate.context import Context
from fleetgate.errors import FleetgateError
from fleetgate.services import partners
from fleetgate.settings import Settings

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, help="fleetgate: a self-hosted messenger API gateway.")
partner_app = typer.Typer(no_args_is_help=True, help="Manage partner accounts and their tokens.")
app.add_typer(partner_app, name="partner")
err = Console(stderr=True)


def _run(settings: Settings, work: Callable[[Context], Awaitable[T]]) -> T:
    """Migrate the database, run one piece of work on it, and close it."""

    async def main() -> T:
        ctx = Context.from_settings(settings)
        try:
            await ctx.db.migrate()
            return await work(ctx)
        finally:
            await ctx.db.dispose()

    try:
        return asyncio.run(main())
    except FleetgateError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None


async def _first_partner(ctx: Context) -> str | None:
    """Create a `default` partner when there is none yet; its token, or None."""
    async with ctx.db.transaction() as session:
        if await partners.count_active_partners(session=session) > 0:
            return None
        _, token = await partners.create_partner(session=session, name="default")
        return token


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (FLEETGATE_HTTP__HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (FLEETGATE_HTTP__PORT).")] = None,
) -> None:
    """Run the HTTP API (and, in later roles, the runner and delivery worker) in one process."""
    settings = Settings()
    if host is not None:
        settings.http.host = host
    if port is not None:
        settings.http.port = port
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    token = _run(settings, _first_partner)
    if token is not None:
        print("No partner existed, so partner 'default' was created. Its token (shown once):")
        print(token, flush=True)
    # uvicorn's access log would print partner and instance tokens, which sit in URL paths.
    uvicorn.run(
        create_app(settings),
        host=settings.http.host,
        port=settings.http.port,
        access_log=False,
        log_level="info",
    )


@partner_app.command("create")
def partner_create(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a partner and print its token (the last line; it is never shown again)."""

    async def work(ctx: Context) -> str:
        async with ctx.db.transaction() as session:
            _, token = await partners.create_partner(session=session, name=name)
        return token

    token = _run(Settings(), work)
    if as_json:
        print(orjson.dumps({"name": name, "partnerToken": token}).decode())
    else:
        print(f"Partner {name!r} created. Its token (shown once):")
        print(token)


@partner_app.command("list")
def partner_list() -> None:
    """List partners (tokens are stored only as hashes and cannot be shown)."""

    async def work(ctx: Context) -> list[partners.Partner]:
        async with ctx.db.reading() as session:
            return await partners.list_partners(session=session)

    table = Table("name", "created (UTC)", "status")
    for p in _run(Settings(), work):
        status = "active" if p.revoked_ms is None else f"revoked {green_time(p.revoked_ms)}"
        table.add_row(p.name, green_time(p.created_ms), status)
    Console().print(table)


@partner_app.command("revoke")
def partner_revoke(name: str) -> None:
    """Revoke a partner's token at once."""

    async def work(ctx: Context) -> None:
        async with ctx.db.transaction() as session:
            await partners.revoke_partner(session=session, name=name)

    _run(Settings(), work)
    print(f"Partner {name!r} revoked.")


def main() -> None:
    app()
