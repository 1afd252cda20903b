"""Operator endpoints: /health, /metrics and the OpenAPI docs."""

from __future__ import annotations

import gc

import httpx
from pydantic import SecretStr

from fleetgate.storage.db import Database
from tests.support import LiveServer, MakePartner


async def test_health_reports_database_ok(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}


async def test_health_is_503_when_database_is_unreachable(server: LiveServer) -> None:
    ctx = server.app.state.ctx
    healthy = ctx.db
    # Nothing listens on port 9 of loopback: a real, unreachable PostgreSQL.
    ctx.db = Database("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            r = await client.get("/health")
        assert r.status_code == 503
        assert r.json() == {"status": "error", "database": "unreachable"}
    finally:
        unreachable, ctx.db = ctx.db, healthy
        await unreachable.dispose()


async def test_metrics_count_requests_by_route_without_tokens(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    await client.get(f"/partner/getInstances/{token}")
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'route="/partner/getInstances/{partnerToken}"' in text
    assert "fleetgate_http_request_duration_seconds_bucket" in text
    assert token not in text


async def test_openapi_documents_every_partner_method(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    assert "post" in paths["/partner/createInstance/{partnerToken}"]
    assert "get" in paths["/partner/getInstances/{partnerToken}"]
    assert "post" in paths["/partner/deleteInstanceAccount/{partnerToken}"]
    body = paths["/partner/createInstance/{partnerToken}"]["post"]["requestBody"]
    props = body["content"]["application/json"]["schema"]["properties"]
    assert "delaySendMessagesMilliseconds" in props and "stateWebhook" in props
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_unknown_paths_outside_facades_use_fastapi_format(client: httpx.AsyncClient) -> None:
    r = await client.get("/nothing-here")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}


async def test_the_start_up_heap_is_frozen_out_of_garbage_collection(server: LiveServer) -> None:
    # The live server runs in this process: its lifespan froze what start-up made (the app,
    # routes, ORM metadata), so full collections no longer walk it while requests wait.
    assert server.app.state.ctx is not None
    assert gc.get_freeze_count() > 50_000


async def test_metrics_behind_a_token_answer_401_without_it(server: LiveServer) -> None:
    metrics = server.app.state.ctx.settings.metrics
    metrics.token = SecretStr("metrics-secret")
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            for headers in (
                {},
                {"Authorization": "Bearer wrong"},
                {"Authorization": "Bearer metrics-secret-and-more"},
                {"Authorization": "Basic metrics-secret"},
            ):
                r = await client.get("/metrics", headers=headers)
                assert r.status_code == 401, headers
                assert r.headers["www-authenticate"] == "Bearer"
                assert "fleetgate_http_requests" not in r.text
            r = await client.get("/metrics", headers={"Authorization": "Bearer metrics-secret"})
            assert r.status_code == 200
            assert "fleetgate_http_requests" in r.text
    finally:
        metrics.token = None


async def test_metrics_switched_off_are_not_found(server: LiveServer) -> None:
    metrics = server.app.state.ctx.settings.metrics
    metrics.enabled = False
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            r = await client.get("/metrics")
        assert r.status_code == 404
        assert "fleetgate_http_requests" not in r.text
    finally:
        metrics.enabled = True


async def test_every_answer_carries_the_hardening_headers(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/partner/getInstances/nope", "/no/such/path"):
        r = await client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["referrer-policy"] == "no-referrer", path
