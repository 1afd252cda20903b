"""The official GREEN-API Python client against a live fleetgate, on each database: the
documented showMessagesQueue form for every send type and a forward, sendLink, the retired
methods, the contacts group and setProfilePicture."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from whatsapp_api_client_python.API import GreenAPI

from tests.media.samples import fetched, png
from tests.sending import inbox, new_phone, wait_inbox
from tests.support import LiveServer, MakeInstance, authorize, wait_for_state

PICTURE = png(width=6, height=6, seed=9)


async def test_queue_items_show_the_request_that_queued_them(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance, tmp_path: Path
) -> None:
    inst = await make_instance()
    await wait_for_state(client, inst, "notAuthorized")  # nothing leaves: all stay queued
    api = GreenAPI(str(inst.id), inst.token, host=server.url, media=server.url)
    call = asyncio.to_thread
    chat, other = f"{new_phone()}@c.us", f"{new_phone()}@c.us"
    picture = tmp_path / "p.png"
    picture.write_bytes(PICTURE)

    text = (await call(api.sending.sendMessage, chat, "hi", None, True, False)).data["idMessage"]
    quoted = await call(api.sending.sendMessage, chat, "re", text)
    url = (await call(api.sending.uploadFile, str(picture))).data["urlFile"]
    by_url = await call(api.sending.sendFileByUrl, chat, url, "p.png", "cap")
    upload = await call(api.sending.sendFileByUpload, chat, str(picture), "up.png", "c2")
    poll = await call(
        api.sending.sendPoll, chat, "which?", [{"optionName": "a"}, {"optionName": "b"}], True
    )
    location = await call(api.sending.sendLocation, chat, 55.75, 37.62, "Red Sq", "Moscow")
    contact = {"phoneContact": 79001234567, "firstName": "Ann", "company": "Co"}
    card = await call(api.sending.sendContact, chat, contact)
    link = await call(api.sending.sendLink, chat, "https://example.com/x")
    forward = await call(api.sending.forwardMessages, other, chat, [text, by_url.data["idMessage"]])
    for answer in (quoted, by_url, upload, poll, location, card, link, forward):
        assert answer.code == 200, answer.error

    shown = await call(api.queues.showMessagesQueue)
    assert shown.code == 200, shown.error
    items = shown.data
    assert [i["type"] for i in items] == [
        "sendMessage",
        "sendMessage",
        "sendFileByUrl",
        "sendFileByUrl",
        "sendPoll",
        "sendLocation",
        "sendContact",
        "sendLink",
        "ForwardMessages",
    ]
    singles, fwd = items[:-1], items[-1]
    assert all(set(i) == {"messageID", "type", "body"} for i in singles)
    assert [i["messageID"] for i in singles] == [
        text,
        quoted.data["idMessage"],
        by_url.data["idMessage"],
        upload.data["idMessage"],
        poll.data["idMessage"],
        location.data["idMessage"],
        card.data["idMessage"],
        link.data["idMessage"],
    ]
    assert singles[0]["body"] == {
        "chatId": chat,
        "message": "hi",
        "linkPreview": False,
        "archive": True,
    }
    assert singles[1]["body"] == {
        "chatId": chat,
        "message": "re",
        "quotedMessageId": text,
        "linkPreview": True,
        "archive": False,
    }
    assert singles[2]["body"] == {
        "chatId": chat,
        "urlFile": url,
        "fileName": "p.png",
        "caption": "cap",
        "archive": False,
    }
    upload_body = singles[3]["body"]
    assert (upload_body["urlFile"], upload_body["fileName"], upload_body["caption"]) == (
        upload.data["urlFile"],
        "up.png",
        "c2",
    )
    assert await fetched(upload_body["urlFile"]) == PICTURE
    assert singles[4]["body"] == {
        "chatId": chat,
        "message": "which?",
        "options": [{"optionName": "a"}, {"optionName": "b"}],
        "multipleAnswers": True,
        "archive": False,
    }
    assert singles[5]["body"] == {
        "chatId": chat,
        "latitude": 55.75,
        "longitude": 37.62,
        "nameLocation": "Red Sq",
        "address": "Moscow",
        "archive": False,
    }
    assert singles[6]["body"]["contact"] == contact
    assert singles[7]["body"] == {"chatId": chat, "urlLink": "https://example.com/x"}
    assert set(fwd) == {"messagesIDs", "type", "body"}
    assert fwd["messagesIDs"] == forward.data["messages"]
    assert fwd["body"] == {
        "chatId": other,
        "chatIdFrom": chat,
        "messages": [text, by_url.data["idMessage"]],
    }
    assert (await call(api.queues.clearMessagesQueue)).data == {"isCleared": True}
    assert (await call(api.queues.showMessagesQueue)).data == []


async def test_retired_methods_answer_as_green_api_does(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    own, other = new_phone(), new_phone()
    await inbox(client, other, inst.partner_token)
    await authorize(client, inst, own)
    api = GreenAPI(str(inst.id), inst.token, host=server.url)
    call = asyncio.to_thread
    chat = f"{other}@c.us"

    buttons = await call(
        api.sending.sendButtons, chat, "pick", [{"buttonId": 1, "buttonText": "yes"}]
    )
    template = await call(
        api.sending.sendTemplateButtons,
        chat,
        "pick",
        [{"index": 1, "urlButton": {"displayText": "site", "url": "https://example.com"}}],
    )
    listed = await call(
        api.sending.sendListMessage,
        chat,
        "pick",
        "open",
        [{"title": "s", "rows": [{"title": "r", "rowId": "1"}]}],
    )
    for answer in (buttons, template, listed):
        assert answer.code == 403, answer.error
    device = await call(api.device.getDeviceInfo)
    assert device.code == 405

    # sendLink still sends: the phone gets the link as a text.
    sent = await call(api.sending.sendLink, chat, "https://example.com/page")
    assert sent.code == 200, sent.error
    got = await wait_inbox(client, other, inst.partner_token, 1, 15.0)
    assert [(m["idMessage"], m["text"]) for m in got] == [
        (sent.data["idMessage"], "https://example.com/page")
    ]
    assert (await client.get(f"/waInstance{inst.id}/getButtons/{inst.token}")).status_code == 404


async def test_contacts_and_profile_picture(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance, tmp_path: Path
) -> None:
    inst = await make_instance()
    own, friend = new_phone(), new_phone()
    await inbox(client, friend, inst.partner_token)  # the network knows the friend
    api = GreenAPI(str(inst.id), inst.token, host=server.url)
    call = asyncio.to_thread
    chat = f"{friend}@c.us"

    # Before linking, no account to set a picture on.
    picture = tmp_path / "me.jpg"
    picture.write_bytes(PICTURE)
    early = await call(api.account.setProfilePicture, str(picture))
    assert early.code == 400

    await authorize(client, inst, own)
    assert (await call(api.account.getWaSettings)).data["avatar"] == ""
    set_picture = await call(api.account.setProfilePicture, str(picture))
    assert set_picture.code == 200, set_picture.error
    assert set(set_picture.data) == {"reason", "urlAvatar", "setProfilePicture"}
    assert set_picture.data["reason"] is None and set_picture.data["setProfilePicture"] is True
    assert await fetched(set_picture.data["urlAvatar"]) == PICTURE
    avatar = (await call(api.account.getWaSettings)).data["avatar"]
    assert await fetched(avatar) == PICTURE
    own_avatar = await call(api.serviceMethods.getAvatar, f"{own}@c.us")
    assert own_avatar.code == 200, own_avatar.error
    assert await fetched(own_avatar.data["urlAvatar"]) == PICTURE
    assert (await call(api.serviceMethods.getAvatar, chat)).data["urlAvatar"] == ""
    not_image = tmp_path / "x.jpg"
    not_image.write_bytes(b"just some text")
    assert (await call(api.account.setProfilePicture, str(not_image))).code == 400
    empty = tmp_path / "e.jpg"
    empty.write_bytes(b"")
    refused = await call(api.account.setProfilePicture, str(empty))
    assert refused.code == 400 and "File is empty" in str(refused.error)

    added = await call(api.contacts.addContact, chat, "Ann", "Lee")
    assert added.code == 200 and added.data == {"addContact": True}, added.error
    twice = await call(api.contacts.addContact, chat, "Ann")
    assert twice.code == 400 and f"Contact {chat} already exists" in str(twice.error)
    nobody = f"{new_phone()}@c.us"
    unknown = await call(api.contacts.addContact, nobody, "Nobody")
    assert unknown.code == 404 and f"{nobody} is not on WhatsApp" in str(unknown.error)
    raw = await client.post(inst.url("addContact"), json={"chatId": chat, "firstName": "A"})
    assert (raw.status_code, raw.json()) == (400, {"message": f"Contact {chat} already exists"})
    edited = await call(api.contacts.editContact, chat, "Anna", None, False)
    assert edited.code == 200 and edited.data == {"editContact": True}, edited.error
    assert (await call(api.contacts.editContact, nobody, "X")).code == 404
    removed = await call(api.contacts.deleteContact, chat)
    assert removed.code == 200 and removed.data == {"deleteContact": True}, removed.error
    assert (await call(api.contacts.deleteContact, chat)).code == 404
    assert (await call(api.contacts.addContact, chat, "Ann")).data == {"addContact": True}
