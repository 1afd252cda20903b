"""markIncomingMessagesReaded and markIncomingMessagesReadedOnReply: when a reader's messages
are read, as the writer sees it."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.support import Instance, MakeInstance, authorize


async def _status(client: httpx.AsyncClient, writer: Instance, id_message: str) -> str:
    out = (await client.get(writer.url("lastOutgoingMessages"))).json()
    return next((m["statusMessage"] for m in out if m["idMessage"] == id_message), "")


async def _reaches(
    client: httpx.AsyncClient, writer: Instance, id_message: str, status: str
) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if await _status(client, writer, id_message) == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{id_message} is {await _status(client, writer, id_message)!r}")


async def _pair(
    client: httpx.AsyncClient, make_instance: MakeInstance, phones: tuple[str, str], **reader: str
) -> tuple[Instance, Instance]:
    first, second = await make_instance(**reader), await make_instance()
    await asyncio.gather(authorize(client, first, phones[0]), authorize(client, second, phones[1]))
    return first, second


async def _send(client: httpx.AsyncClient, inst: Instance, phone: str, text: str) -> str:
    r = await client.post(
        inst.url("sendMessage"), json={"chatId": f"{phone}@c.us", "message": text}
    )
    assert r.status_code == 200, r.text
    id_message: str = r.json()["idMessage"]
    return id_message


async def test_reading_at_once(client: httpx.AsyncClient, make_instance: MakeInstance) -> None:
    phones = ("79000000611", "79000000612")
    _reader, writer = await _pair(client, make_instance, phones, markIncomingMessagesReaded="yes")
    id_message = await _send(client, writer, phones[0], "read me")
    await _reaches(client, writer, id_message, "read")


async def test_reading_on_reply(client: httpx.AsyncClient, make_instance: MakeInstance) -> None:
    phones = ("79000000621", "79000000622")
    reader, writer = await _pair(
        client, make_instance, phones, markIncomingMessagesReadedOnReply="yes"
    )
    id_message = await _send(client, writer, phones[0], "answer me")
    await _reaches(client, writer, id_message, "delivered")
    # A marker: the reader takes in its messages in order, so once the next one is delivered,
    # a read mark for the first (given when it came in) would have reached the writer.
    marker = await _send(client, writer, phones[0], "and me")
    await _reaches(client, writer, marker, "delivered")
    assert await _status(client, writer, id_message) == "delivered"  # not read until answered
    await _send(client, reader, phones[1], "here is my answer")
    await _reaches(client, writer, id_message, "read")


async def test_no_read_marks_by_default(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    phones = ("79000000631", "79000000632")
    reader, writer = await _pair(client, make_instance, phones)
    id_message = await _send(client, writer, phones[0], "leave me unread")
    await _reaches(client, writer, id_message, "delivered")
    await _send(client, reader, phones[1], "an answer does not read it either")
    # A marker: the reader sends its messages one after another, and would mark the chat read
    # right after sending the answer; the writer takes both in in order, so once the marker is
    # delivered, such a read mark would have reached the writer first.
    marker = await _send(client, reader, phones[1], "and a second line")
    await _reaches(client, reader, marker, "delivered")
    assert await _status(client, writer, id_message) == "delivered"
    r = await client.post(reader.url("readChat"), json={"chatId": f"{phones[1]}@c.us"})
    assert r.json() == {"setRead": True}
    await _reaches(client, writer, id_message, "read")
