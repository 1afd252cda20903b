"""A partner's deleted instances, a page at a time (the console's "deleted" view).

Deleted instances stay in the table (GREEN-API's getInstances lists them with
``deleted: true``); the Z-API list shows live ones only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.partners import Partner
from fleetgate.errors import InvalidInput
from fleetgate.storage.repos import instances as repo

PAGE_SIZE_MAX = 100


@dataclass(frozen=True, slots=True)
class DeletedInstance:
    id_instance: int
    name: str
    created_ms: int
    deleted_ms: int


@dataclass(frozen=True, slots=True)
class DeletedPage:
    total: int
    total_pages: int
    items: list[DeletedInstance]


async def deleted_page(
    *, session: AsyncSession, partner: Partner, page: int, page_size: int
) -> DeletedPage:
    """One page of the partner's deleted instances, the latest deletion first."""
    if page < 1:
        raise InvalidInput("page must be 1 or more")
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise InvalidInput(f"pageSize must be from 1 to {PAGE_SIZE_MAX}")
    total, rows = await repo.deleted_page(
        session, partner_id=partner.id, offset=(page - 1) * page_size, limit=page_size
    )
    # deleted_ms is never None here: the query takes deleted rows only.
    items = [DeletedInstance(i, name, created, deleted or 0) for i, name, created, deleted in rows]
    return DeletedPage(total, -(-total // page_size), items)
