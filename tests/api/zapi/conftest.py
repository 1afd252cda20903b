"""Fixtures of the Z-API route tests: factories of Z-API partners and instances on the shared
live server (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.zapi.instances import Made, MakeZapi
from tests.api.zapi.partners import NewPartner
from tests.support import Instance, MakePartner
from tests.zapi_client import ZapiInstance, ZapiPartner


@pytest.fixture
def new_partner(client: httpx.AsyncClient, make_partner: MakePartner) -> NewPartner:
    """Factory: a Z-API client for a fresh partner."""

    async def make() -> ZapiPartner:
        return ZapiPartner(client, await make_partner())

    return make


@pytest.fixture
def make_zapi(client: httpx.AsyncClient, make_partner: MakePartner) -> MakeZapi:
    """Factory: a Z-API instance (of a new partner unless one is given) with create options."""

    async def make(
        partner: ZapiPartner | None = None, name: str = "zapi test", **options: Any
    ) -> Made:
        partner = partner or ZapiPartner(client, await make_partner())
        r = await partner.create(name, **options)
        assert r.status_code == 200, r.text
        body = r.json()
        z = ZapiInstance(client, body["id"], body["token"])
        return Made(z, Instance(int(body["id"]), body["token"], partner.token), partner, body)

    return make
