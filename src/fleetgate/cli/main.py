"""The `fleetgate` command: serve the API and manage partners."""

from __future__ import annotations

import itertools
import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import IntegrityError

from fleetgate.cli import dead_letters, keys, live_check, roles, rotation
from fleetgate.cli.common import check_engine, err, run_on_db
from fleetgate.cli.roles import Role, for_role, run_background
from fleetgate.clock import green_time
from fleetgate.context import Context
from fleetgate.domain.instances import InstanceSummary
from fleetgate.domain.partners import Partner
from fleetgate.logs import configure_logging
from fleetgate.services import instances, partners
from fleetgate.settings import Settings

app = typer.Typer(no_args_is_help=True, help="fleetgate: a self-hosted messenger API gateway.")
partner_app = typer.Typer(no_args_is_help=True, help="Manage partner accounts and their tokens.")
app.add_typer(partner_app, name="partner")
instance_app = typer.Typer(no_args_is_help=True, help="Look up instances.")
app.add_typer(instance_app, name="instance")
app.add_typer(dead_letters.dead_app, name="dead-letters")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(live_check.whatsapp_app, name="whatsapp")
app.command("delivery")(roles.delivery)
partner_app.command("rotate-instance-tokens")(rotation.rotate_instance_tokens)
partner_app.command("new-token")(rotation.new_token)


async def _first_partner(ctx: Context) -> tuple[str, str] | None:
    """Create a partner when none is active (`default`, or `default-N` if that name is taken)."""
    for attempt in range(2):
        try:
            async with ctx.db.transaction() as session:
                if await partners.count_active_partners(session=session) > 0:
                    return None
                taken = {p.name for p in await partners.list_partners(session=session)}
                name = next(n for n in _default_names() if n not in taken)
                _, token = await partners.create_partner(session=session, name=name)
                return name, token
        except IntegrityError:
            # Another API process starting at the same time created it first: look again.
            if attempt:
                raise
    return None


def _default_names() -> Iterator[str]:
    yield "default"
    yield from (f"default-{n}" for n in itertools.count(2))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (FLEETGATE_HTTP__HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (FLEETGATE_HTTP__PORT).")] = None,
    role: Annotated[
        Role,
        typer.Option(
            case_sensitive=False,
            help="all: everything in one process; api: HTTP only; runner: engine sessions only; "
            "delivery: webhook delivery only. Split roles need PostgreSQL.",
        ),
    ] = Role.ALL,
) -> None:
    """Run fleetgate: by default the HTTP API, the runner and the delivery worker in one process."""
    settings = for_role(Settings(), role)
    check_engine(settings.instances.default_engine, "FLEETGATE_INSTANCES__DEFAULT_ENGINE")
    if role is not Role.ALL and settings.resolved_database_url().startswith("sqlite"):
        err.print(
            f"[red]error:[/red] --role {role.value} needs PostgreSQL (FLEETGATE_DATABASE_URL): "
            "a SQLite deployment is one process, so run `fleetgate serve` (--role all)."
        )
        raise typer.Exit(2)
    if not role.serves_http:
        run_background(settings)
        return
    if host is not None:
        settings.http.host = host
    if port is not None:
        settings.http.port = port
    configure_logging(settings)
    created = run_on_db(settings, _first_partner)
    if created is not None:
        name, token = created
        print(f"No partner was active, so partner {name!r} was created. Its token (shown once):")
        print(token, flush=True)
    import uvicorn

    from fleetgate.app import create_app
    from fleetgate.httpserver import guarded_protocol

    # On SIGTERM uvicorn stops accepting at once, lets requests in flight finish within the
    # grace, runs the lifespan's shutdown (delivery worker, runner, database), and then raises
    # the signal again: this handler turns that into exit status 0, as the other roles end.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    # uvicorn's access log would print partner and instance tokens, which sit in URL paths.
    # log_config=None: uvicorn's loggers write through the handler configure_logging set up.
    uvicorn.run(
        create_app(settings),
        host=settings.http.host,
        port=settings.http.port,
        http=guarded_protocol(settings.http),
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=settings.http.grace_s,
        timeout_keep_alive=settings.http.keep_alive_s,
    )


def _exit_cleanly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


@partner_app.command("create")
def partner_create(
    name: str,
    engine: Annotated[
        str | None,
        typer.Option(
            help="Engine of the partner's new instances (sandbox, whatsapp); "
            "default: FLEETGATE_INSTANCES__DEFAULT_ENGINE."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Create a partner and print its token (the last line; it is never shown again)."""
    if engine is not None:
        check_engine(engine, "--engine")

    async def work(ctx: Context) -> str:
        async with ctx.db.transaction() as session:
            _, token = await partners.create_partner(session=session, name=name, engine=engine)
        return token

    token = run_on_db(Settings(), work)
    if as_json:
        print(orjson.dumps({"name": name, "partnerToken": token}).decode())
    else:
        print(f"Partner {name!r} created. Its token (shown once):")
        print(token)


@partner_app.command("list")
def partner_list() -> None:
    """List partners (tokens are stored only as hashes and cannot be shown)."""

    async def work(ctx: Context) -> list[Partner]:
        async with ctx.db.reading() as session:
            return await partners.list_partners(session=session)

    settings = Settings()
    table = Table("name", "created (UTC)", "status", "engine")
    for column in table.columns:
        column.no_wrap = True
    for p in run_on_db(settings, work):
        status = "active" if p.revoked_ms is None else f"revoked {green_time(p.revoked_ms)}"
        engine = p.default_engine or f"{settings.instances.default_engine} (default)"
        table.add_row(p.name, green_time(p.created_ms), status, engine)
    # Piped output must not be cut to 80 columns: names are read back from it.
    Console(width=None if sys.stdout.isatty() else 10_000).print(table)


@partner_app.command("revoke")
def partner_revoke(
    name: str,
    rotate_instance_tokens: Annotated[
        bool,
        typer.Option(
            "--rotate-instance-tokens",
            help="Also give every instance of the partner a new token (the token leaked).",
        ),
    ] = False,
    batch_size: rotation.BatchSize = 500,
) -> None:
    """Revoke a partner's token at once (its instance tokens keep working unless rotated)."""

    async def work(ctx: Context) -> None:
        async with ctx.db.transaction() as session:
            await partners.revoke_partner(session=session, name=name)

    settings = Settings()
    run_on_db(settings, work)
    print(f"Partner {name!r} revoked.")
    if rotate_instance_tokens:
        rotation.rotate(settings, name, batch_size=batch_size, max_batches=None)


@partner_app.command("client-token")
def partner_client_token(
    name: str,
    disable: Annotated[
        bool, typer.Option("--disable", help="Stop requiring a Client-Token.")
    ] = False,
) -> None:
    """Turn on the account Client-Token (a new one, printed once) or turn it off."""

    async def work(ctx: Context) -> str | None:
        async with ctx.db.transaction() as session:
            partner = await partners.partner_named(session=session, name=name)
            if disable:
                await partners.disable_client_token(session=session, partner=partner)
                return None
            return await partners.enable_client_token(session=session, partner=partner)

    token = run_on_db(Settings(), work)
    if token is None:
        print(f"Partner {name!r} no longer needs a Client-Token.")
    else:
        print(f"Z-API instance routes of {name!r} now need this Client-Token (shown once):")
        print(token)


@instance_app.command("show")
def instance_show(id_instance: int) -> None:
    """Print one instance as JSON: its partner, name, engine and state (never its token)."""

    async def work(ctx: Context) -> InstanceSummary:
        async with ctx.db.reading() as session:
            return await instances.summary(session=session, id_instance=id_instance)

    found = run_on_db(Settings(), work)
    print(
        orjson.dumps(
            {
                "idInstance": found.id_instance,
                "partner": found.partner,
                "name": found.name,
                "engine": found.engine,
                "stateInstance": found.state.value,
                "wid": found.wid,
                "created": green_time(found.created_ms),
                "deleted": None if found.deleted_ms is None else green_time(found.deleted_ms),
            }
        ).decode()
    )


def main() -> None:
    app()
