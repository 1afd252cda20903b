"""Statuses with the official GREEN-API Python client against a live fleetgate, on each
database: the instance posts text, voice and media statuses that its contacts (or the named
participants) see, a phone's view shows in the statistic, a phone's status reaches the
instance, and deleted statuses go."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from whatsapp_api_client_python.API import GreenAPI

from tests.media.samples import fetched, png, sha256
from tests.sending import Json, bearer, eventually, inbox, new_phone, phone_sends
from tests.support import LiveServer, MakeInstance, MakePartner, authorize

PICTURE = png(width=4, height=7, seed=3)
# A tiny WAV file (RIFF header + 8 bytes of silence): what a voice status carries.
VOICE = (
    b"RIFF"
    + (44).to_bytes(4, "little")
    + b"WAVEfmt "
    + (16).to_bytes(4, "little")
    + (1).to_bytes(2, "little")
    + (1).to_bytes(2, "little")
    + (8000).to_bytes(4, "little")
    + (8000).to_bytes(4, "little")
    + (1).to_bytes(2, "little")
    + (8).to_bytes(2, "little")
    + b"data"
    + (8).to_bytes(4, "little")
    + b"\x80" * 8
)


async def phone_statuses(client: httpx.AsyncClient, phone: str, token: str) -> list[Json]:
    r = await client.get(f"/sandbox/phones/{phone}/statuses", headers=bearer(token))
    assert r.status_code == 200, r.text
    items: list[Json] = r.json()["statuses"]
    return items


async def test_statuses_both_ways(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance, tmp_path: Path
) -> None:
    inst = await make_instance()
    token = inst.partner_token
    own, friend, stranger, named = new_phone(), new_phone(), new_phone(), new_phone()
    for phone in (stranger, named):
        await inbox(client, phone, token)  # the partner holds them; they never wrote
    await authorize(client, inst, own)
    await phone_sends(client, token, friend, own, "hello")  # friend becomes a contact
    api = GreenAPI(str(inst.id), inst.token, host=server.url, media=server.url)
    call = asyncio.to_thread

    text = await call(api.statuses.sendTextStatus, "out today", "#112233", "SERIF")
    assert text.code == 200, text.error
    assert set(text.data) == {"idMessage"}
    text_id = text.data["idMessage"]
    seen = await phone_statuses(client, friend, token)
    assert [(s["idMessage"], s["chatId"], s["text"]) for s in seen] == [
        (text_id, f"{own}@c.us", "out today")
    ]
    assert await phone_statuses(client, stranger, token) == []  # not a contact

    # Only the named participant sees this one (the friend does not).
    picture = tmp_path / "status.png"
    picture.write_bytes(PICTURE)
    uploaded = await call(api.sending.uploadFile, str(picture))
    assert uploaded.code == 200, uploaded.error
    media = await call(
        api.statuses.sendMediaStatus,
        uploaded.data["urlFile"],
        "status.png",
        "a picture",
        [f"{named}@c.us"],
    )
    assert media.code == 200, media.error
    media_id = media.data["idMessage"]
    [got] = await phone_statuses(client, named, token)
    assert (got["idMessage"], got["typeMessage"], got["text"]) == (
        media_id,
        "imageMessage",
        "a picture",
    )
    assert await fetched(got["messageData"]["fileMessageData"]["downloadUrl"]) == PICTURE
    assert [s["idMessage"] for s in await phone_statuses(client, friend, token)] == [text_id]

    voice_file = tmp_path / "voice.wav"
    voice_file.write_bytes(VOICE)
    voice_url = (await call(api.sending.uploadFile, str(voice_file))).data["urlFile"]
    voice = await call(api.statuses.sendVoiceStatus, voice_url, "voice.wav", "#000000")
    assert voice.code == 200, voice.error
    voice_id = voice.data["idMessage"]

    # The friend views the text status: the statistic shows it read.
    r = await client.post(
        f"/sandbox/phones/{friend}/statuses/read",
        json={"chatId": f"{own}@c.us", "idMessage": text_id},
        headers=bearer(token),
    )
    assert r.json() == {"read": True}, r.text
    stats = await call(api.statuses.getStatusStatistic, text_id)
    assert stats.code == 200, stats.error
    assert [(s["participant"], s["status"]) for s in stats.data] == [(f"{friend}@c.us", "read")]
    assert isinstance(stats.data[0]["timestamp"], int)
    media_stats = (await call(api.statuses.getStatusStatistic, media_id)).data
    assert [(s["participant"], s["status"]) for s in media_stats] == [
        (f"{named}@c.us", "delivered")
    ]

    outgoing = await call(api.statuses.getOutgoingStatuses, 60)
    assert outgoing.code == 200, outgoing.error
    by_id = {s["idMessage"]: s for s in outgoing.data}
    assert [s["idMessage"] for s in outgoing.data] == [voice_id, media_id, text_id]
    t = by_id[text_id]
    assert (t["type"], t["typeMessage"], t["statusMessage"], t["sendByApi"]) == (
        "outgoing",
        "extendedTextMessage",
        "read",
        True,
    )
    assert t["textMessage"] == "out today"
    assert t["extendedTextMessage"] == {
        "text": "out today",
        "backgroundColor": "#112233",
        "font": "SERIF",
        "participants": [],
    }
    m = by_id[media_id]
    assert (m["typeMessage"], m["caption"], m["participants"]) == (
        "imageMessage",
        "a picture",
        [f"{named}@c.us"],
    )
    assert sha256(await fetched(m["downloadUrl"])) == sha256(PICTURE)
    assert by_id[voice_id]["typeMessage"] == "audioMessage"
    assert await fetched(by_id[voice_id]["downloadUrl"]) == VOICE

    # A phone's status reaches the instance (its phone wrote with the friend).
    r = await client.post(
        f"/sandbox/phones/{friend}/statuses",
        json={"message": "friend's news", "backgroundColor": "#445566"},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    friend_status = r.json()["idMessage"]
    assert (await call(api.contacts.addContact, f"{friend}@c.us", "Best", "Friend")).code == 200
    incoming = await call(api.statuses.getIncomingStatuses)
    assert incoming.code == 200, incoming.error
    [item] = incoming.data
    assert item["idMessage"] == friend_status
    assert (item["type"], item["typeMessage"], item["chatId"], item["senderId"]) == (
        "incoming",
        "extendedTextMessage",
        f"{friend}@c.us",
        f"{friend}@c.us",
    )
    assert item["textMessage"] == "friend's news"
    assert (item["senderName"], item["senderContactName"]) == (friend, "Best Friend")
    assert item["extendedTextMessage"]["backgroundColor"] == "#445566"

    # A phone's file status too, with a link the instance can download.
    r = await client.post(
        f"/sandbox/phones/{friend}/statuses",
        files={"file": ("sun.png", PICTURE, "image/png")},
        data={"caption": "sunny"},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    newest = (await call(api.statuses.getIncomingStatuses, 5)).data[0]
    assert (newest["typeMessage"], newest["caption"]) == ("imageMessage", "sunny")
    assert await fetched(newest["downloadUrl"]) == PICTURE

    # Deleting: an empty answer; the status is gone for its viewers and from the lists.
    deleted = await call(api.statuses.deleteStatus, text_id)
    assert deleted.code == 200, deleted.error
    assert [s["idMessage"] for s in await phone_statuses(client, friend, token)] == [voice_id]
    outgoing_ids = [s["idMessage"] for s in (await call(api.statuses.getOutgoingStatuses)).data]
    assert outgoing_ids == [voice_id, media_id]
    again = await call(api.statuses.deleteStatus, text_id)
    assert again.code == 400
    unknown = await client.get(inst.url("getStatusStatistic"), params={"idMessage": "NOPE"})
    assert unknown.status_code == 400 and "ID message notfound" in unknown.text


async def test_statuses_need_an_authorized_account_and_valid_bodies(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()

    async def check() -> bool | None:
        r = await client.get(inst.url("getStateInstance"))
        return r.json()["stateInstance"] == "notAuthorized" or None

    await eventually(check, "notAuthorized")
    r = await client.post(inst.url("sendTextStatus"), json={"message": "hi"})
    assert r.status_code == 400 and "not authorized" in r.text
    bad = [
        {"message": ""},
        {"message": "x" * 501},
        {"message": "hi", "backgroundColor": "red"},
        {"message": "hi", "font": "COMIC"},
        {"message": "hi", "participants": ["123"]},
    ]
    for body in bad:
        r = await client.post(inst.url("sendTextStatus"), json=body)
        assert r.status_code == 400, (body, r.text)
    r = await client.get(inst.url("getIncomingStatuses"), params={"minutes": "zero"})
    assert r.status_code == 400


async def test_only_the_partner_holding_a_phone_acts_as_it_for_statuses(
    client: httpx.AsyncClient, make_instance: MakeInstance, make_partner: MakePartner
) -> None:
    inst = await make_instance()
    token, other_token = inst.partner_token, await make_partner()
    own, friend = new_phone(), new_phone()
    await authorize(client, inst, own)
    await phone_sends(client, token, friend, own, "hi")
    posted = await client.post(
        f"/sandbox/phones/{friend}/statuses", json={"message": "mine"}, headers=bearer(token)
    )
    assert posted.status_code == 200, posted.text
    id_message = posted.json()["idMessage"]
    sent = await client.post(inst.url("sendTextStatus"), json={"message": "to friend"})
    assert sent.status_code == 200, sent.text

    # Another partner can neither post as the phone, nor read nor view what it received.
    not_yours = {"error": "this number is not one of your phones"}
    refused = [
        await client.post(
            f"/sandbox/phones/{friend}/statuses", json={"message": "x"}, headers=bearer(other_token)
        ),
        await client.get(f"/sandbox/phones/{friend}/statuses", headers=bearer(other_token)),
        await client.post(
            f"/sandbox/phones/{friend}/statuses/read",
            json={"chatId": f"{own}@c.us", "idMessage": sent.json()["idMessage"]},
            headers=bearer(other_token),
        ),
    ]
    assert [(r.status_code, r.json()) for r in refused] == [(404, not_yours)] * 3
    stats = await client.get(
        inst.url("getStatusStatistic"), params={"idMessage": sent.json()["idMessage"]}
    )
    assert [s["status"] for s in stats.json()] == ["delivered"]  # nobody viewed it
    incoming = (await client.get(inst.url("getIncomingStatuses"))).json()
    assert [s["idMessage"] for s in incoming] == [id_message]  # nothing posted by the other
    # A status the phone never received cannot be viewed.
    r = await client.post(
        f"/sandbox/phones/{friend}/statuses/read",
        json={"chatId": f"{own}@c.us", "idMessage": "NOPE"},
        headers=bearer(token),
    )
    assert r.status_code == 404
