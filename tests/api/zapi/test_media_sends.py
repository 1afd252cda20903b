"""Z-API media sends end to end, on both databases: files given by URL or as base64 reach a
virtual phone byte for byte, files a phone sends reach a Z-API callback byte for byte, and
refused sends store nothing.

The server here keeps files of at most MAX_FILE bytes, so the size limits are cheap to reach.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from fleetgate.context import Context
from fleetgate.services import partners
from fleetgate.storage.tables import MediaRow
from tests.receiver import Receiver, running_receiver
from tests.sending import bearer, eventually, new_phone, phone_sends, wait_inbox
from tests.support import LiveServer, server_fixture
from tests.zapi_callbacks import hook, linked, wait_body
from tests.zapi_client import ZapiInstance

Json = dict[str, Any]
MAX_FILE = 96 * 1024

media_server = server_fixture(
    "zapi-media",
    "A live server keeping files of at most MAX_FILE bytes.",
    media={"max_file_bytes": MAX_FILE},
    ratelimits={"enabled": False},
)


def _bytes(head: bytes, size: int = 3000) -> bytes:
    return head + secrets.token_bytes(size - len(head))


def png() -> bytes:
    return _bytes(b"\x89PNG\r\n\x1a\n")


def mp3() -> bytes:
    return _bytes(b"ID3\x04\x00")


def mp4() -> bytes:
    return _bytes(b"\x00\x00\x00\x18ftypmp42")


def pdf() -> bytes:
    return _bytes(b"%PDF-1.7\n")


def webp() -> bytes:
    return _bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 ")


# route, field, a file of its kind, its MIME type, the type it arrives as at the phone.
ROUTES = [
    ("send-image", "image", png, "image/png", "imageMessage"),
    ("send-audio", "audio", mp3, "audio/mpeg", "audioMessage"),
    ("send-video", "video", mp4, "video/mp4", "videoMessage"),
    ("send-document/pdf", "document", pdf, "application/pdf", "documentMessage"),
    ("send-sticker", "sticker", webp, "image/webp", "stickerMessage"),
    ("send-gif", "gif", mp4, "video/mp4", "videoMessage"),
    ("send-ptv", "ptv", mp4, "video/mp4", "videoMessage"),
]
ROUTE_IDS = [r[0].split("/")[0] for r in ROUTES]


def data_uri(mime: str, content: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(content).decode()}"


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
async def http(media_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=media_server.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
async def mctx(media_server: LiveServer) -> AsyncIterator[Context]:
    context = Context.from_settings(media_server.settings)
    yield context
    await context.db.dispose()


@pytest.fixture
async def token(mctx: Context) -> str:
    async with mctx.db.transaction() as session:
        _, made = await partners.create_partner(session=session, name=secrets.token_hex(6))
    return made


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


async def media_rows(ctx: Context, zapi: ZapiInstance) -> int:
    async with ctx.db.reading() as session:
        query = select(func.count()).select_from(MediaRow)
        count = await session.scalar(query.where(MediaRow.id_instance == int(zapi.id)))
    return int(count or 0)


def stored_objects(server: LiveServer) -> int:
    return sum(1 for p in Path(server.settings.data_dir, "media").rglob("*") if p.is_file())


async def download(http: httpx.AsyncClient, url: str) -> bytes:
    r = await http.get(url)
    assert r.status_code == 200, (url, r.status_code, r.text[:200])
    return r.content


async def file_of(http: httpx.AsyncClient, message: Json) -> bytes:
    """The bytes behind the downloadUrl of a message a virtual phone received."""
    return await download(http, message["messageData"]["fileMessageData"]["downloadUrl"])


async def sent(zapi: ZapiInstance, route: str, body: Json) -> Json:
    """A media send that must be accepted: the send triple."""
    r = await zapi.post(route, body)
    assert r.status_code == 200, r.text
    answer: Json = r.json()
    assert list(answer) == ["zaapId", "messageId", "id"], answer
    assert answer["id"] == answer["messageId"]
    assert len(answer["zaapId"]) == 32, answer
    return answer


async def arrived(http: httpx.AsyncClient, token: str, phone: str, id_message: str) -> Json:
    """The message ``id_message`` once the virtual phone has it."""

    async def found() -> Json | None:
        got = await wait_inbox(http, phone, token, 1)
        return next((m for m in got if m["idMessage"] == id_message), None)

    return await eventually(found, f"message {id_message} at {phone}")


@pytest.mark.parametrize(("route", "field", "make", "mime", "kind"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("given", ["data-uri", "url"])
async def test_a_file_reaches_the_phone_byte_for_byte(
    http: httpx.AsyncClient,
    token: str,
    receiver: Receiver,
    mctx: Context,
    route: str,
    field: str,
    make: Any,
    mime: str,
    kind: str,
    given: str,
) -> None:
    inst = await linked(http, token, {})
    contact = new_phone()
    content = make()
    value = data_uri(mime, content)
    if given == "url":
        value = receiver.serve(f"{secrets.token_hex(4)}-file", content)
    body: Json = {"phone": contact, field: value}
    if route in ("send-image", "send-video", "send-gif", "send-document/pdf"):
        body["caption"] = "look at this"
    if route.startswith("send-document"):
        body["fileName"] = "Report 2026"
    answer = await sent(inst.zapi, route, body)
    if given == "data-uri":  # stored before the answer
        assert await media_rows(mctx, inst.zapi) == 1
    message = await arrived(http, token, contact, answer["messageId"])
    data = message["messageData"]
    assert data["typeMessage"] == kind
    file = data["fileMessageData"]
    assert file["mimeType"] == mime
    assert sha(await download(http, file["downloadUrl"])) == sha(content)
    assert file["caption"] == body.get("caption", "")
    if route.startswith("send-document"):
        assert file["fileName"] == "Report 2026.pdf"


async def test_ptv_takes_its_file_from_video_too(
    http: httpx.AsyncClient, token: str, mctx: Context
) -> None:
    inst = await linked(http, token, {})
    contact, content = new_phone(), mp4()
    body = {"phone": contact, "video": data_uri("video/mp4", content)}
    answer = await sent(inst.zapi, "send-ptv", body)
    message = await arrived(http, token, contact, answer["messageId"])
    assert sha(await file_of(http, message)) == sha(content)


async def test_a_document_without_an_extension_keeps_its_name_or_gets_one(
    http: httpx.AsyncClient, token: str
) -> None:
    inst = await linked(http, token, {})
    contact = new_phone()
    named = await sent(
        inst.zapi,
        "send-document",
        {"phone": contact, "document": data_uri("application/pdf", pdf()), "fileName": "a.pdf"},
    )
    unnamed = await sent(
        inst.zapi, "send-document", {"phone": contact, "document": data_uri("x/y", pdf())}
    )
    first = await arrived(http, token, contact, named["messageId"])
    assert first["messageData"]["fileMessageData"]["fileName"] == "a.pdf"
    # No name at all: one from the file's key, its extension from the bytes (not the URI).
    second = await arrived(http, token, contact, unnamed["messageId"])
    assert second["messageData"]["typeMessage"] == "documentMessage"
    assert second["messageData"]["fileMessageData"]["fileName"].endswith(".pdf")


async def test_bare_base64_and_wrapped_base64_are_decoded(
    http: httpx.AsyncClient, token: str
) -> None:
    inst = await linked(http, token, {})
    contact, content = new_phone(), png()
    encoded = base64.b64encode(content).decode()
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)).rstrip("=")
    for value in (encoded, f"data:image/png;base64,{wrapped}"):
        answer = await sent(inst.zapi, "send-image", {"phone": contact, "image": value})
        message = await arrived(http, token, contact, answer["messageId"])
        assert message["messageData"]["typeMessage"] == "imageMessage"
        assert sha(await file_of(http, message)) == sha(content)


async def test_the_type_comes_from_the_bytes(http: httpx.AsyncClient, token: str) -> None:
    """A PDF given to send-image goes as a document; a sticker stays a sticker."""
    inst = await linked(http, token, {})
    contact = new_phone()
    answer = await sent(
        inst.zapi, "send-image", {"phone": contact, "image": data_uri("image/png", pdf())}
    )
    message = await arrived(http, token, contact, answer["messageId"])
    assert message["messageData"]["typeMessage"] == "documentMessage"


async def test_a_link_fleetgate_gave_the_instance_is_read_from_the_store(
    http: httpx.AsyncClient, token: str, mctx: Context
) -> None:
    inst = await linked(http, token, {})
    contact, content = new_phone(), png()
    first = await sent(
        inst.zapi, "send-image", {"phone": contact, "image": data_uri("image/png", content)}
    )
    message = await arrived(http, token, contact, first["messageId"])
    link = message["messageData"]["fileMessageData"]["downloadUrl"]
    again = await sent(inst.zapi, "send-image", {"phone": contact, "image": link})
    message = await arrived(http, token, contact, again["messageId"])
    assert sha(await file_of(http, message)) == sha(content)
    assert await media_rows(mctx, inst.zapi) == 1  # the same file, not a second copy
    other = await linked(http, token, {})
    r = await other.zapi.post("send-image", {"phone": contact, "image": link})
    assert r.status_code == 400, r.text
    assert "another instance" in r.json()["error"]


async def test_a_reply_quotes_the_message_and_delay_is_accepted(
    http: httpx.AsyncClient, token: str, mctx: Context, receiver: Receiver
) -> None:
    inst = await linked(http, token, {"received": receiver.hook("received")})
    contact = new_phone()
    asked = await phone_sends(http, token, contact, inst.phone, "a photo please?")
    await wait_body(receiver, "received", {"messageId": asked})  # the instance has it
    body = {
        "phone": contact,
        "image": data_uri("image/png", png()),
        "messageId": asked,
        "delayMessage": 1,
        "viewOnce": False,
    }
    answer = await sent(inst.zapi, "send-image", body)
    data = (await arrived(http, token, contact, answer["messageId"]))["messageData"]
    assert data["typeMessage"] == "imageMessage"
    assert data["quotedMessage"]["stanzaId"] == asked
    # A quote of a message this chat does not have stores nothing.
    before = await media_rows(mctx, inst.zapi)
    body = {"phone": new_phone(), "image": data_uri("image/png", png()), "messageId": asked}
    r = await inst.zapi.post("send-image", body)
    assert r.status_code == 400, r.text
    assert r.json() == {"error": "messageId must be the id of a message of this chat"}
    assert await media_rows(mctx, inst.zapi) == before


@pytest.mark.parametrize(
    ("route", "field", "kind", "content", "mime"),
    [
        ("send-image", "image", "image", png, "image/png"),
        ("send-document/pdf", "document", "document", pdf, "application/pdf"),
        ("send-audio", "audio", "audio", mp3, "audio/mpeg"),
        ("send-video", "video", "video", mp4, "video/mp4"),
    ],
    ids=["image", "document", "audio", "video"],
)
async def test_a_file_from_a_phone_is_a_received_callback_with_its_bytes(
    http: httpx.AsyncClient,
    token: str,
    receiver: Receiver,
    route: str,
    field: str,
    kind: str,
    content: Any,
    mime: str,
) -> None:
    inst = await linked(http, token, {"received": receiver.hook("received")})
    contact, file = new_phone(), content()
    r = await http.post(
        f"/sandbox/phones/{contact}/messages",
        data={"chatId": f"{inst.phone}@c.us", "caption": "from the phone"},
        files={"file": (f"thing.{mime.rsplit('/', 1)[-1]}", file)},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    body = await wait_body(receiver, "received", {"messageId": r.json()["idMessage"]})
    assert body["type"] == "ReceivedCallback" and body["phone"] == contact
    got = body[kind]
    assert got["mimeType"] == mime
    assert sha(await download(http, got[f"{kind}Url"])) == sha(file)
    if kind in ("image", "video"):
        assert got["caption"] == "from the phone"
    # The instance may send the file on by that URL: read from the store, not fetched.
    onward = await sent(inst.zapi, route, {"phone": new_phone(), field: got[f"{kind}Url"]})
    assert onward["messageId"]


# --- refused -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "body", "status", "error"),
    [
        ("send-image", {"image": "data:image/png;base64,@@@@"}, 400, "image must be an http"),
        ("send-image", {"image": "data:image/png,rawtext"}, 400, "base64 data URI"),
        ("send-audio", {"audio": "ftp://example.com/a.mp3"}, 400, "audio must be an http"),
        ("send-video", {"video": "data:video/mp4;base64,"}, 400, "video holds no data"),
        ("send-image", {}, 400, "field image is required"),
        ("send-ptv", {}, 400, "field ptv is required"),
        ("send-sticker", {"sticker": 5}, 400, "sticker must be a string"),
        ("send-document/p.df", {"document": "JVBERi0="}, 400, "extension"),
        ("send-image", {"image": "JVBERi0=", "phone": "abc"}, 400, "phone must be digits"),
        ("send-image", {"image": "JVBERi0=", "delayMessage": 99}, 400, "delayMessage"),
        ("send-document/pdf", {"document": "JVBERi0=", "editDocumentMessageId": "X"}, 400, "edit"),
        # The base64 of a file over the limit fits the body's slack but not the store.
        ("send-image", {"image": "iVBORw0KGgo" + "A" * (MAX_FILE * 4 // 3 + 8)}, 413, "limit"),
    ],
)
async def test_bad_input_answers_the_zapi_error_and_stores_nothing(
    http: httpx.AsyncClient,
    token: str,
    mctx: Context,
    media_server: LiveServer,
    route: str,
    body: Json,
    status: int,
    error: str,
) -> None:
    inst = await linked(http, token, {})
    objects = stored_objects(media_server)
    r = await inst.zapi.post(route, {"phone": new_phone()} | body)
    assert r.status_code == status, r.text
    assert list(r.json()) == ["error"] and error in r.json()["error"], r.json()
    assert await media_rows(mctx, inst.zapi) == 0
    assert stored_objects(media_server) == objects


async def test_a_body_over_the_limit_is_413_and_stores_nothing(
    http: httpx.AsyncClient, token: str, mctx: Context, media_server: LiveServer
) -> None:
    inst = await linked(http, token, {})
    objects = stored_objects(media_server)
    limit = max(media_server.settings.http.max_body_bytes, MAX_FILE * 4 // 3 + 64 * 1024)
    huge = base64.b64encode(png() * (limit // 3000 + 1)).decode()
    r = await inst.zapi.post("send-image", {"phone": new_phone(), "image": huge})
    assert r.status_code == 413, r.text
    assert list(r.json()) == ["error"]
    assert await media_rows(mctx, inst.zapi) == 0
    assert stored_objects(media_server) == objects


async def test_a_url_that_fails_fails_the_message_later(
    http: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    """A URL is fetched at send time: the send is accepted, its DeliveryCallback says why."""
    inst = await linked(http, token, {})
    await hook(inst.zapi, "delivery", receiver.hook("delivery"))
    answer = await sent(
        inst.zapi, "send-image", {"phone": new_phone(), "image": f"{receiver.url}/files/none"}
    )
    body = await wait_body(receiver, "delivery", {"messageId": answer["messageId"]})
    assert "404" in body["error"], body
