"""What every CLI command shares: run async work on a migrated database, report errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from fleetgate.context import Context
from fleetgate.engines.registry import installed_engine_names
from fleetgate.errors import FleetgateError
from fleetgate.settings import Settings

T = TypeVar("T")
err = Console(stderr=True)


def check_engine(name: str, where: str) -> None:
    """Exit with status 2 unless an engine called ``name`` is installed."""
    installed = sorted(installed_engine_names())
    if name not in installed:
        err.print(
            f"[red]error:[/red] {where}: no engine {escape(name)!r} is installed "
            f"(installed: {', '.join(installed)})"
        )
        raise typer.Exit(2)


def run_on_db(settings: Settings, work: Callable[[Context], Awaitable[T]]) -> T:
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
        err.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(1) from None
