"""Z-API instance settings setters (per-event webhooks and options) and the one settings model
behind both façades, on a live server on both databases.
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.zapi.instances import (
    BAD_URLS,
    CALLBACK_KEYS,
    METHODS,
    URL_SETTERS,
    MakeZapi,
    assert_error,
    green_listing_item,
    green_settings,
)

# --- webhook setters --------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("route", "key"), list(URL_SETTERS.items()))
async def test_webhook_setter_sets_clears_and_refuses_bad_urls(
    client: httpx.AsyncClient, make_zapi: MakeZapi, method: str, route: str, key: str
) -> None:
    made = await make_zapi()
    url = f"https://hooks.example.com/{route}?n=1"
    r = await made.call(method, route, {"value": url})
    assert (r.status_code, r.json()) == (200, {"value": True})
    data = await made.me()
    assert data[key] == url
    assert {k: data[k] for k in CALLBACK_KEYS if k != key} == dict.fromkeys(
        (k for k in CALLBACK_KEYS if k != key), ""
    )

    for bad in BAD_URLS:
        r = await made.call(method, route, {"value": bad})
        assert r.status_code == 400, (bad, r.text)
        assert_error(r, 400)
    assert_error(await made.call(method, route, {}), 400)
    assert (await made.me())[key] == url

    r = await made.call(method, route, {"value": ""})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())[key] == ""


async def test_webhook_setters_each_set_their_own_url(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    expected: dict[str, str] = {}
    for route, key in URL_SETTERS.items():
        if route in ("update-webhook-receive", "update-webhook-status"):
            continue
        url = f"https://hooks.example.com:8443/{key}"
        r = await made.z.set_webhook(route.removeprefix("update-webhook-"), url)
        assert (r.status_code, r.json()) == (200, {"value": True})
        expected[key] = url
    data = await made.me()
    assert {k: data[k] for k in CALLBACK_KEYS} == expected


@pytest.mark.parametrize("method", METHODS)
async def test_update_every_webhooks_sets_all_and_notify_sent_by_me(
    client: httpx.AsyncClient, make_zapi: MakeZapi, method: str
) -> None:
    made = await make_zapi()
    url = "https://hooks.example.com/all"
    r = await made.call(method, "update-every-webhooks", {"value": url})
    assert (r.status_code, r.json()) == (200, {"value": True})
    data = await made.me()
    assert {k: data[k] for k in CALLBACK_KEYS} == dict.fromkeys(CALLBACK_KEYS, url)
    assert data["receiveCallbackSentByMe"] is False

    other = "https://hooks.example.com/other"
    r = await made.call(method, "update-every-webhooks", {"value": other, "notifySentByMe": True})
    assert (r.status_code, r.json()) == (200, {"value": True})
    data = await made.me()
    assert {k: data[k] for k in CALLBACK_KEYS} == dict.fromkeys(CALLBACK_KEYS, other)
    assert data["receiveCallbackSentByMe"] is True

    for bad in [
        {"value": "not a url"},
        {"value": 1},
        {"value": other, "notifySentByMe": "yes"},
        {},
    ]:
        assert_error(await made.call(method, "update-every-webhooks", bad), 400)
    data = await made.me()
    assert {k: data[k] for k in CALLBACK_KEYS} == dict.fromkeys(CALLBACK_KEYS, other)
    assert data["receiveCallbackSentByMe"] is True

    r = await made.call(method, "update-every-webhooks", {"value": ""})
    assert (r.status_code, r.json()) == (200, {"value": True})
    data = await made.me()
    assert {k: data[k] for k in CALLBACK_KEYS} == dict.fromkeys(CALLBACK_KEYS, "")


@pytest.mark.parametrize("method", METHODS)
async def test_update_notify_sent_by_me_needs_a_received_url(
    client: httpx.AsyncClient, make_zapi: MakeZapi, method: str
) -> None:
    made = await make_zapi()
    assert_error(await made.call(method, "update-notify-sent-by-me", {"notifySentByMe": True}), 400)
    assert (await made.me())["receiveCallbackSentByMe"] is False

    await made.z.set_webhook("received", "https://hooks.example.com/received")
    r = await made.call(method, "update-notify-sent-by-me", {"notifySentByMe": True})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())["receiveCallbackSentByMe"] is True

    for bad in [{"notifySentByMe": "true"}, {"notifySentByMe": 1}, {}, {"value": True}]:
        assert_error(await made.call(method, "update-notify-sent-by-me", bad), 400)
    assert (await made.me())["receiveCallbackSentByMe"] is True

    r = await made.call(method, "update-notify-sent-by-me", {"notifySentByMe": False})
    assert (r.status_code, r.json()) == (200, {"value": False})
    assert (await made.me())["receiveCallbackSentByMe"] is False


async def test_update_every_webhooks_cannot_notify_sent_by_me_without_a_url(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    # The rule of update-notify-sent-by-me: "sent by me" goes to a received URL, so one
    # must be set; clearing every URL while asking for it is refused the same way.
    made = await make_zapi()
    r = await made.z.put("update-every-webhooks", {"value": "", "notifySentByMe": True})
    assert_error(r, 400)
    assert (await made.me())["receiveCallbackSentByMe"] is False


async def test_update_notify_sent_by_me_takes_a_received_delivery_url(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await made.z.set_webhook("received-delivery", "https://hooks.example.com/rd")
    r = await made.z.put("update-notify-sent-by-me", {"notifySentByMe": True})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())["receiveCallbackSentByMe"] is True


# (route, a good value, the me key it shows in, a bad value)
OPTION_SETTERS = [
    ("update-call-reject-auto", True, "callRejectAuto", "yes"),
    ("update-call-reject-message", "call me later", "callRejectMessage", "a" * 1001),
    ("update-auto-read-message", True, "autoReadMessage", 1),
    ("update-auto-read-status", True, "autoReadStatus", None),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("route", "value", "key", "bad"), OPTION_SETTERS)
async def test_option_setters(
    client: httpx.AsyncClient,
    make_zapi: MakeZapi,
    method: str,
    route: str,
    value: object,
    key: str,
    bad: object,
) -> None:
    made = await make_zapi()
    r = await made.call(method, route, {"value": value})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())[key] == value

    assert_error(await made.call(method, route, {"value": bad}), 400)
    assert_error(await made.call(method, route, {}), 400)
    assert (await made.me())[key] == value

    off: object = "" if isinstance(value, str) else False
    r = await made.call(method, route, {"value": off})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())[key] == off


# --- one settings model behind both façades ---------------------------------------------------


async def test_green_settings_show_through_zapi_me(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    url = "https://green.example.com/hook"
    r = await client.post(
        made.green.url("setSettings"),
        json={"webhookUrl": url, "incomingWebhook": "yes", "markIncomingMessagesReaded": "yes"},
    )
    assert (r.status_code, r.json()) == (200, {"saveSettings": True})
    data = await made.me()
    assert data["receivedCallbackUrl"] == url
    assert data["autoReadMessage"] is True

    # An own received URL wins over the GREEN one; cleared, the GREEN one shows again.
    await made.z.set_webhook("received", "https://own.example.com/r")
    assert (await made.me())["receivedCallbackUrl"] == "https://own.example.com/r"
    await made.z.set_webhook("received", "")
    assert (await made.me())["receivedCallbackUrl"] == url

    # The GREEN URL counts as a received URL for notify-sent-by-me.
    r = await made.z.put("update-notify-sent-by-me", {"notifySentByMe": True})
    assert (r.status_code, r.json()) == (200, {"value": True})

    # Turning the GREEN switch off hides it again.
    r = await client.post(made.green.url("setSettings"), json={"incomingWebhook": "no"})
    assert r.status_code == 200, r.text
    assert (await made.me())["receivedCallbackUrl"] == ""


async def test_zapi_settings_show_through_green(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi(autoReadMessage=True)
    assert (await green_settings(client, made.green))["markIncomingMessagesReaded"] == "yes"

    r = await made.z.put("update-auto-read-message", {"value": False})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await green_settings(client, made.green))["markIncomingMessagesReaded"] == "no"
    assert (await made.me())["autoReadMessage"] is False

    r = await made.z.put("update-auto-read-message", {"value": True})
    assert r.status_code == 200, r.text
    assert (await green_settings(client, made.green))["markIncomingMessagesReaded"] == "yes"

    r = await made.z.put("update-name", {"value": "renamed by zapi"})
    assert r.status_code == 200, r.text
    assert (await green_listing_item(client, made.green))["name"] == "renamed by zapi"
