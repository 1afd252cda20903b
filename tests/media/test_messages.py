"""File messages in the rest of the API: forwarding, journals, downloadFile's refusals."""

from __future__ import annotations

import httpx

from tests.sending import eventually, inbox, new_phone, send
from tests.support import LiveServer, MakeInstance, authorize

PDF = b"%PDF-1.4\n" + b"report " * 500


async def _file_at(client: httpx.AsyncClient, phone: str, token: str) -> bytes:
    async def arrived() -> list[dict[str, object]] | None:
        return await inbox(client, phone, token) or None

    (message,) = await eventually(arrived, f"a file at {phone}")
    data = message["messageData"]
    assert isinstance(data, dict)
    r = await client.get(data["fileMessageData"]["downloadUrl"])
    assert r.status_code == 200, r.text
    return r.content


async def test_a_forwarded_file_is_the_same_stored_file(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    await authorize(client, inst, new_phone())
    first, second = new_phone(), new_phone()
    r = await client.post(
        inst.url("sendFileByUpload"),
        data={"chatId": f"{first}@c.us", "caption": "q3"},
        files={"file": ("q3.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 200, r.text
    id_message = r.json()["idMessage"]
    assert await _file_at(client, first, inst.partner_token) == PDF
    r = await client.post(
        inst.url("forwardMessages"),
        json={"chatId": f"{second}@c.us", "chatIdFrom": f"{first}@c.us", "messages": [id_message]},
    )
    assert r.status_code == 200, r.text
    assert await _file_at(client, second, inst.partner_token) == PDF


async def test_journals_show_files_with_fresh_links(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    await authorize(client, inst, new_phone())
    to = new_phone()
    r = await client.post(
        inst.url("sendFileByUpload"),
        data={"chatId": f"{to}@c.us", "fileName": "Q3 report.pdf"},
        files={"file": ("upload.bin", PDF, "application/octet-stream")},
    )
    id_message = r.json()["idMessage"]
    await _file_at(client, to, inst.partner_token)
    r = await client.post(inst.url("getChatHistory"), json={"chatId": f"{to}@c.us"})
    (item,) = r.json()
    assert (item["typeMessage"], item["fileName"], item["mimeType"]) == (
        "documentMessage",
        "Q3 report.pdf",
        "application/pdf",
    )
    assert (await client.get(item["downloadUrl"])).content == PDF
    r = await client.post(
        inst.url("downloadFile"), json={"chatId": f"{to}@c.us", "idMessage": id_message}
    )
    assert (await client.get(r.json()["downloadUrl"])).content == PDF


async def test_download_file_refuses_what_is_not_a_file_message(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    to = f"{new_phone()}@c.us"
    id_message = await send(client, inst, "sendMessage", {"chatId": to, "message": "hi"})
    r = await client.post(inst.url("downloadFile"), json={"chatId": to, "idMessage": id_message})
    assert r.status_code == 400
    assert r.json()["description"].startswith("File message encrypted url not found by chatId")
    r = await client.post(inst.url("downloadFile"), json={"chatId": to, "idMessage": "NOPE"})
    assert r.status_code == 404
    r = await client.post(inst.url("downloadFile"), json={"chatId": to})
    assert r.status_code == 400


async def test_a_file_name_in_any_script_survives_the_form(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    await authorize(client, inst, new_phone())
    to = new_phone()
    name = "\u043e\u0442\u0447\u0451\u0442 \u0444\u0438\u043d\u0430\u043b \U0001f4c4.pdf"
    r = await client.post(
        inst.url("sendFileByUpload"),
        data={"chatId": f"{to}@c.us"},
        files={"file": (name, PDF, "application/pdf")},
    )
    assert r.status_code == 200, r.text
    assert await _file_at(client, to, inst.partner_token) == PDF
    (message,) = await inbox(client, to, inst.partner_token)
    assert message["messageData"]["fileMessageData"]["fileName"] == name
