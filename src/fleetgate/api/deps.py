"""Dependencies shared by every façade: the process context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from fleetgate.context import Context


async def get_context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


ContextDep = Annotated[Context, Depends(get_context)]
