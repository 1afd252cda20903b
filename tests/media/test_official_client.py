"""Files with the official GREEN-API Python client against a live fleetgate, on each database
and each media store: uploadFile, sendFileByUrl, sendFileByUpload, downloadFile, a phone's
file received as a notification, and files fetched by URL (and the ways that fails)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from whatsapp_api_client_python.API import GreenAPI

from fleetgate.clock import now_ms
from tests.media.conftest import MAX_FILE_BYTES, MediaServer
from tests.media.samples import fetched, pdf, png, sha256
from tests.sending import Json, bearer, inbox, new_phone, notifications_until, wait_inbox
from tests.support import Instance, authorize

WAIT_S = 15.0
PICTURE = png(seed=1)
FETCHED = png(width=5, height=4, seed=2)


@dataclass(frozen=True)
class Pair:
    """An instance linked to phone ``own``, another phone ``other`` of the same partner, and
    the official client on the instance (its host and media host both the live server)."""

    inst: Instance
    own: str
    other: str
    api: GreenAPI

    @property
    def chat(self) -> str:
        return f"{self.other}@c.us"


async def linked_pair(
    media_server: MediaServer, client: httpx.AsyncClient, **settings: object
) -> Pair:
    inst = await media_server.new_instance(client, **settings)
    own, other = new_phone(), new_phone()
    await inbox(client, other, inst.partner_token)  # the partner claims the other phone
    await authorize(client, inst, own)
    api = GreenAPI(str(inst.id), inst.token, host=media_server.url, media=media_server.url)
    return Pair(inst, own, other, api)


def by_id(messages: list[Json]) -> dict[str, Json]:
    return {m["idMessage"]: m for m in messages}


async def check_download_file(pair: Pair, chat_id: str, id_message: str, data: bytes) -> None:
    """downloadFile gives a link to the message's file, and it serves these bytes."""
    got = await asyncio.to_thread(pair.api.receiving.downloadFile, chat_id, id_message)
    assert got.code == 200, got.error
    assert sha256(await fetched(got.data["downloadUrl"])) == sha256(data)


async def test_upload_and_send_files(
    media_server: MediaServer, media_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    pair = await linked_pair(media_server, media_client)
    api = pair.api
    picture = tmp_path / "picture.png"
    picture.write_bytes(PICTURE)
    document = pdf("not a photo")
    disguised = tmp_path / "photo.jpg"  # a PDF under a picture's name goes as a document
    disguised.write_bytes(document)

    uploaded = await asyncio.to_thread(api.sending.uploadFile, str(picture))
    assert uploaded.code == 200, uploaded.error
    url_file = uploaded.data["urlFile"]
    assert url_file.startswith(f"{media_server.url}/media/{pair.inst.id}/")
    assert await fetched(url_file) == PICTURE

    by_url = await asyncio.to_thread(
        api.sending.sendFileByUrl, pair.chat, url_file, "picture.png", "sent by URL"
    )
    assert by_url.code == 200, by_url.error
    by_upload = await asyncio.to_thread(
        api.sending.sendFileByUpload, pair.chat, str(disguised), None, "sent by upload"
    )
    assert by_upload.code == 200, by_upload.error
    assert set(by_upload.data) == {"idMessage", "urlFile"}
    assert await fetched(by_upload.data["urlFile"]) == document

    got = await wait_inbox(media_client, pair.other, pair.inst.partner_token, 2, WAIT_S)
    received = by_id(got)
    image = received[by_url.data["idMessage"]]
    assert (image["typeMessage"], image["text"]) == ("imageMessage", "sent by URL")
    image_file = image["messageData"]["fileMessageData"]
    assert image_file["mimeType"] == "image/png"
    assert sha256(await fetched(image_file["downloadUrl"])) == sha256(PICTURE)

    doc = received[by_upload.data["idMessage"]]
    assert (doc["typeMessage"], doc["text"]) == ("documentMessage", "sent by upload")
    doc_file = doc["messageData"]["fileMessageData"]
    assert (doc_file["mimeType"], doc_file["fileName"]) == ("application/pdf", "photo.jpg")
    assert sha256(await fetched(doc_file["downloadUrl"])) == sha256(document)

    await check_download_file(pair, pair.chat, by_url.data["idMessage"], PICTURE)
    await check_download_file(pair, pair.chat, by_upload.data["idMessage"], document)


async def receive_until(pair: Pair, wanted: str, id_message: str) -> Json:
    """Receive (and delete) notifications with the official client until the one of type
    ``wanted`` about ``id_message``; its body."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        got = await asyncio.to_thread(pair.api.receiving.receiveNotification, 5)
        assert got.code == 200, got.error
        if got.data is None:
            continue
        deleted = await asyncio.to_thread(
            pair.api.receiving.deleteNotification, got.data["receiptId"]
        )
        assert deleted.data == {"result": True}
        body: Json = got.data["body"]
        if body["typeWebhook"] == wanted and body.get("idMessage") == id_message:
            return body
    raise AssertionError(f"no {wanted} about {id_message} within {WAIT_S:g} s")


async def test_a_phone_sends_a_file_to_the_instance(
    media_server: MediaServer, media_client: httpx.AsyncClient
) -> None:
    pair = await linked_pair(media_server, media_client, incomingWebhook="yes")
    document = pdf("from the phone")
    r = await media_client.post(
        f"/sandbox/phones/{pair.other}/messages",
        data={"chatId": f"{pair.own}@c.us", "caption": "the report"},
        files={"file": ("report.pdf", document, "application/pdf")},
        headers=bearer(pair.inst.partner_token),
    )
    assert r.status_code == 200, r.text
    id_message = r.json()["idMessage"]

    body = await receive_until(pair, "incomingMessageReceived", id_message)
    assert body["senderData"]["chatId"] == pair.chat
    assert body["messageData"]["typeMessage"] == "documentMessage"
    file_data = body["messageData"]["fileMessageData"]
    assert file_data["caption"] == "the report"
    assert file_data["fileName"] == "report.pdf"
    assert file_data["mimeType"] == "application/pdf"
    link = file_data["downloadUrl"]
    assert link.startswith(f"{media_server.url}/media/{pair.inst.id}/")
    assert sha256(await fetched(link)) == sha256(document)
    await check_download_file(pair, pair.chat, id_message, document)


# Files fetched by URL from a host of the test's own


_TOO_BIG = b"\0" * (MAX_FILE_BYTES + 1)
# path: (status, headers, body, whether Content-Length is sent)
_ROUTES: dict[str, tuple[int, dict[str, str], bytes, bool]] = {
    "/picture.png": (200, {"Content-Type": "image/png"}, FETCHED, True),
    "/missing.png": (404, {}, b"not here", True),
    "/moved.png": (302, {"Location": "/picture.png"}, b"", True),
    "/big.bin": (200, {}, _TOO_BIG, True),
    "/big-unsized.bin": (200, {}, _TOO_BIG, False),  # no Content-Length: counted as read
}


class _FileHost(BaseHTTPRequestHandler):
    """Serves the files of _ROUTES."""

    def do_GET(self) -> None:
        status, headers, body, sized = _ROUTES.get(self.path, (404, {}, b"", True))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if sized:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.close_connection = True
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # fleetgate hung up on a body over its limit: as it should

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def file_host() -> Iterator[str]:
    """A tiny HTTP server on 127.0.0.1 serving the files of _FileHost; its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FileHost)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="file-host", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/gone.png"


async def test_send_file_by_url_fetches_it_or_fails_the_message(
    media_server: MediaServer, media_client: httpx.AsyncClient, file_host: str
) -> None:
    pair = await linked_pair(media_server, media_client, outgoingWebhook="yes")
    api = pair.api
    rows_before = await media_server.rows()

    good = await asyncio.to_thread(
        api.sending.sendFileByUrl, pair.chat, f"{file_host}/picture.png", "fetched.png", "hi"
    )
    assert good.code == 200, good.error
    too_large = f"larger than the limit of {MAX_FILE_BYTES} bytes"
    failing = [
        (closed_port_url(), "cannot be fetched"),
        (f"{file_host}/missing.png", "HTTP 404"),
        (f"{file_host}/moved.png", "redirect"),
        (f"{file_host}/big.bin", too_large),
        (f"{file_host}/big-unsized.bin", too_large),
    ]
    ids: dict[str, str] = {}
    for url, why in failing:
        r = await asyncio.to_thread(api.sending.sendFileByUrl, pair.chat, url, "file.png")
        assert r.code == 200, r.error  # the request is accepted; the message fails later
        assert set(r.data) == {"idMessage"}
        ids[r.data["idMessage"]] = why

    def all_failed(bodies: list[Json]) -> bool:
        failed = {b["idMessage"] for b in bodies if b.get("status") == "failed"}
        return set(ids) <= failed

    bodies = await notifications_until(media_client, pair.inst, all_failed, WAIT_S)
    for body in bodies:
        if body["typeWebhook"] == "outgoingMessageStatus" and body["idMessage"] in ids:
            assert body["status"] == "failed", body
            assert ids[body["idMessage"]] in body["description"], body

    got = await wait_inbox(media_client, pair.other, pair.inst.partner_token, 1, WAIT_S)
    assert [m["idMessage"] for m in got] == [good.data["idMessage"]]  # nothing else arrived
    (message,) = got
    assert (message["typeMessage"], message["text"]) == ("imageMessage", "hi")
    file_data = message["messageData"]["fileMessageData"]
    assert file_data["fileName"] == "fetched.png"
    assert sha256(await fetched(file_data["downloadUrl"])) == sha256(FETCHED)
    await check_download_file(pair, pair.chat, good.data["idMessage"], FETCHED)
    assert await media_server.rows() == rows_before + 1  # the failed fetches kept nothing


async def test_own_links_are_read_from_the_store(
    media_server: MediaServer, media_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A link fleetgate gave this instance is sent from the store, even once expired; a link
    it gave another instance is refused."""
    pair = await linked_pair(media_server, media_client)
    picture = tmp_path / "own.png"
    picture.write_bytes(PICTURE)
    uploaded = await asyncio.to_thread(pair.api.sending.uploadFile, str(picture))
    url_file: str = uploaded.data["urlFile"]
    path = url_file.split("?")[0].removeprefix(media_server.url)
    _, _, owner, key, _ = path.split("/")
    expires = now_ms() // 1000 - 60
    signature = media_server.ctx.cipher.sign_link(f"{owner}/{key}/{expires}")
    expired = f"{media_server.url}{path}?expires={expires}&signature={signature}"
    assert (await media_client.get(expired)).status_code == 404

    sent = await asyncio.to_thread(
        pair.api.sending.sendFileByUrl, pair.chat, expired, "own.png", "old link"
    )
    assert sent.code == 200, sent.error
    (message,) = await wait_inbox(media_client, pair.other, pair.inst.partner_token, 1, WAIT_S)
    assert message["idMessage"] == sent.data["idMessage"]
    assert message["typeMessage"] == "imageMessage"
    link = message["messageData"]["fileMessageData"]["downloadUrl"]
    assert sha256(await fetched(link)) == sha256(PICTURE)

    stranger = await media_server.new_instance(media_client)
    r = await media_client.post(
        stranger.url("sendFileByUrl"),
        json={"chatId": pair.chat, "urlFile": url_file, "fileName": "own.png"},
    )
    assert r.status_code == 400, r.text
    assert "another instance" in r.json()["description"]
