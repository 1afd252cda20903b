"""Z-API contact routes (spec §12) on a live server, both databases: the contact list and one
contact, phone-exists (one and batch), profile pictures and blocking (the blocked side's
instance is told), and bad input refused in Z-API's error format with nothing changed."""

from __future__ import annotations

import httpx

from tests.api.zapi.zgroups import JPEG, ok, refused, value
from tests.sending import eventually, new_phone, notifications_until, phone_sends
from tests.support import MakeInstance, MakePartner, authorize
from tests.zapi_callbacks import Linked, linked


async def contacts(inst: Linked) -> dict[str, dict[str, object]]:
    return {c["phone"]: c for c in ok(await inst.zapi.list_contacts(1, 1000))}


async def test_contacts_phone_exists_and_profile_pictures(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {})
    zapi, writer, saved = inst.zapi, new_phone(), new_phone()
    await phone_sends(client, token, writer, inst.phone, "hello")
    await phone_sends(client, token, saved, inst.phone, "hi")
    r = await client.post(
        inst.green.url("addContact"),
        json={"chatId": f"{saved}@c.us", "firstName": "Ana", "lastName": "Lima"},
    )
    assert r.status_code == 200, r.text

    async def both() -> dict[str, dict[str, object]] | None:
        found = await contacts(inst)
        return found if writer in found and saved in found else None

    listed = await eventually(both, "both contacts listed")
    assert listed[writer] == {
        "name": None,
        "short": None,
        "notify": writer,  # a virtual phone's push name is its number
        "vname": None,
        "phone": writer,
    }
    assert (listed[saved]["name"], listed[saved]["short"]) == ("Ana Lima", "Ana")
    # Pages by number.
    first, second = sorted([writer, saved])
    assert [c["phone"] for c in ok(await zapi.list_contacts(1, 1))] == [first]
    assert [c["phone"] for c in ok(await zapi.list_contacts(2, 1))] == [second]

    one = ok(await zapi.contact(saved))
    assert set(one) == {"name", "short", "notify", "vname", "phone", "imgUrl", "about"}
    assert one["name"] == "Ana Lima" and one["phone"] == saved
    refused(await zapi.contact(new_phone()), 404)

    unknown = new_phone()
    assert ok(await zapi.phone_exists(writer)) == {"exists": True, "phone": writer, "lid": None}
    assert ok(await zapi.phone_exists(unknown)) == {"exists": False, "phone": None, "lid": None}
    assert ok(await zapi.phone_exists_batch([writer, unknown])) == [
        {"exists": True, "inputPhone": writer, "outputPhone": writer, "lid": None},
        {"exists": False, "inputPhone": unknown, "outputPhone": None, "lid": None},
    ]

    assert ok(await zapi.profile_picture(inst.phone)) == {"link": None}
    r = await client.post(
        inst.green.url("setProfilePicture"), files={"file": ("me.jpg", JPEG, "image/jpeg")}
    )
    assert r.status_code == 200, r.text
    link = ok(await zapi.profile_picture(inst.phone))["link"]
    assert isinstance(link, str) and link.startswith("http")
    got = await client.get(link)
    assert got.status_code == 200 and got.content == JPEG
    assert ok(await zapi.profile_picture(writer)) == {"link": None}


async def test_blocking_tells_the_blocked_instance(
    client: httpx.AsyncClient, make_partner: MakePartner, make_instance: MakeInstance
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {})
    other, their_phone = await make_instance(incomingBlockWebhook="yes"), new_phone()
    await authorize(client, other, their_phone)

    assert value(await inst.zapi.modify_blocked(their_phone, "block"))
    seen = await notifications_until(
        client, other, lambda bodies: any(b["typeWebhook"] == "incomingBlock" for b in bodies)
    )
    (block,) = [b for b in seen if b["typeWebhook"] == "incomingBlock"]
    assert block["chatId"] == f"{inst.phone}@c.us"
    assert value(await inst.zapi.modify_blocked(their_phone, "unblock"))


async def test_bad_contact_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {})
    zapi, phone = inst.zapi, new_phone()
    await phone_sends(client, token, phone, inst.phone, "hello")

    async def listed() -> dict[str, dict[str, object]] | None:
        found = await contacts(inst)
        return found if phone in found else None

    before = await eventually(listed, "the contact listed")
    for page, size in (("0", "1"), ("1", "0"), ("b", "1"), ("1", "1001"), ("", "")):
        refused(await zapi.list_contacts(page, size))
    refused(await zapi.contact("12ab"))
    refused(await zapi.phone_exists("+5511999999999"))
    refused(await zapi.phone_exists("123"))
    refused(await zapi.phone_exists_batch([]))
    refused(await zapi.phone_exists_batch([phone, "x"]))
    refused(await zapi.post("phone-exists-batch", {"phones": phone}))
    refused(await zapi.phone_exists_batch([phone] * 1001))
    refused(await client.get(zapi.path("profile-picture")))
    refused(await zapi.profile_picture("abc"))
    refused(await zapi.modify_blocked(phone, "maybe"))
    refused(await zapi.modify_blocked("abc", "block"))
    refused(await zapi.post("contacts/modify-blocked", {"phone": phone}))
    assert await contacts(inst) == before
