"""Bad uploads and download links on a live fleetgate, on each database and media store: what
is refused stores nothing (no media row, no object), links are bound to their instance and
expire, byte ranges are exact, and active content is never served as a page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from fleetgate.clock import now_ms
from tests.media.conftest import MAX_FILE_BYTES, MediaServer
from tests.media.samples import pdf, png
from tests.sending import new_phone
from tests.support import Instance

BOUNDARY = "fleetgateboundary"
FORM_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
async def inst(media_server: MediaServer, media_client: httpx.AsyncClient) -> Instance:
    return await media_server.new_instance(media_client)


def form(*parts: tuple[str, str | None, bytes]) -> bytes:
    """A multipart/form-data body of (field name, file name or None for text, content)."""
    out = b""
    for name, file_name, content in parts:
        disposition = f'form-data; name="{name}"'
        if file_name is not None:
            disposition += f'; filename="{file_name}"'
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += content + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


async def unsized(body: bytes, chunk: int = 16 * 1024) -> AsyncIterator[bytes]:
    """``body`` sent chunked, with no Content-Length for the server to refuse up front."""
    for start in range(0, len(body), chunk):
        yield body[start : start + chunk]


async def stores_nothing(media_server: MediaServer, act: Callable[[], Awaitable[None]]) -> None:
    """Run ``act`` and check the media table and the media store are as they were."""
    rows, objects = await media_server.rows(), sorted(await media_server.objects())
    await act()
    assert await media_server.rows() == rows
    assert sorted(await media_server.objects()) == objects


def assert_green_error(r: httpx.Response, code: int, text: str) -> None:
    assert r.status_code == code, r.text
    body = r.json()
    assert body["code"] == code and text in body["description"], body


async def test_an_upload_is_stored_in_the_configured_store(
    media_server: MediaServer, media_client: httpx.AsyncClient, inst: Instance
) -> None:
    """The store the other tests count in is the one the server writes to."""
    before = set(await media_server.objects())
    r = await media_client.post(
        inst.url("uploadFile"), content=png(), headers={"Content-Type": "image/png"}
    )
    assert r.status_code == 200, r.text
    assert len(set(await media_server.objects()) - before) == 1
    if media_server.backend == "s3":  # and nothing went to the local folder
        local = media_server.server.settings.data_dir / "media"
        assert not local.exists() or not any(local.iterdir())


@pytest.mark.parametrize("sized", [True, False], ids=["declared", "streamed"])
async def test_an_upload_over_the_limit_is_413_and_stores_nothing(
    media_server: MediaServer, media_client: httpx.AsyncClient, inst: Instance, sized: bool
) -> None:
    big = b"%PDF-" + b"x" * MAX_FILE_BYTES

    async def upload_file() -> None:
        content = big if sized else unsized(big)
        r = await media_client.post(
            inst.url("uploadFile"),
            content=content,
            headers={"Content-Type": "application/pdf", "GA-Filename": "big.pdf"},
        )
        assert_green_error(r, 413, f"larger than the limit of {MAX_FILE_BYTES} bytes")

    async def send_file_by_upload() -> None:
        body = form(("chatId", None, b"79001234567@c.us"), ("file", "big.pdf", big))
        r = await media_client.post(
            inst.url("sendFileByUpload"),
            content=body if sized else unsized(body),
            headers={"Content-Type": FORM_TYPE},
        )
        assert_green_error(r, 413, "larger than the limit")

    await stores_nothing(media_server, upload_file)
    await stores_nothing(media_server, send_file_by_upload)


# Text fields between two file parts: the first file is stored and recorded in full before
# the server reads on to the second (a small body would arrive, and be refused, in one piece).
PADDING = [(f"pad{i}", None, b"x" * 60_000) for i in range(4)]
CHAT = ("chatId", None, b"79001234567@c.us")


@pytest.mark.parametrize(
    ("method", "parts", "why"),
    [
        ("uploadFile", [("caption", None, b"no file")], "no file part"),
        ("sendFileByUpload", [CHAT], "field file is required"),
        (
            "sendFileByUpload",
            [CHAT, ("file", "a.pdf", pdf("one")), ("file", "b.pdf", pdf())],
            "one file only",
        ),
        (
            "sendFileByUpload",
            [CHAT, ("file", "a.pdf", pdf("one")), *PADDING, ("file", "b.pdf", pdf("two"))],
            "one file only",
        ),
        (
            "uploadFile",
            [("file", "a.png", png()), *PADDING, ("other", "b.png", png(seed=3))],
            "one file only",
        ),
        ("sendFileByUpload", [("chatId", None, b"not-a-chat"), ("file", "a.png", png())], "chatId"),
        (
            "sendFileByUpload",
            [("file", "a.png", png()), *PADDING, ("chatId", None, b"1@x")],
            "chatId",
        ),
    ],
    ids=[
        "upload-no-file",
        "send-no-file",
        "send-two-files",
        "send-two-files-apart",
        "upload-two-files-apart",
        "bad-chat-id",
        "bad-chat-id-after-file",
    ],
)
async def test_a_bad_form_is_400_and_stores_nothing(
    media_server: MediaServer,
    media_client: httpx.AsyncClient,
    inst: Instance,
    method: str,
    parts: list[tuple[str, str | None, bytes]],
    why: str,
) -> None:
    async def post() -> None:
        r = await media_client.post(
            inst.url(method), content=form(*parts), headers={"Content-Type": FORM_TYPE}
        )
        assert_green_error(r, 400, why)

    await stores_nothing(media_server, post)


async def upload(client: httpx.AsyncClient, inst: Instance, data: bytes, name: str) -> str:
    r = await client.post(
        inst.url("uploadFile"),
        content=data,
        headers={"Content-Type": "application/octet-stream", "GA-Filename": name},
    )
    assert r.status_code == 200, r.text
    url: str = r.json()["urlFile"]
    return url


async def test_a_link_works_only_as_given(
    media_server: MediaServer, media_client: httpx.AsyncClient, inst: Instance
) -> None:
    data = pdf("linked")
    link = await upload(media_client, inst, data, "doc.pdf")
    assert (await media_client.get(link)).content == data
    parts = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    _, _, owner, key, name = parts.path.split("/")
    assert owner == str(inst.id)
    other = await media_server.new_instance(media_client)
    cipher = media_server.ctx.cipher

    def signed(owner: str, key: str, expires: int) -> str:
        signature = cipher.sign_link(f"{owner}/{key}/{expires}")
        return f"/media/{owner}/{key}/{name}?expires={expires}&signature={signature}"

    expires = int(query["expires"])
    wrong = [
        f"/media/{owner}/{key}/{name}?expires={expires}&signature={'0' * 64}",
        f"/media/{owner}/{key}/{name}?expires={expires + 1}&signature={query['signature']}",
        f"/media/{other.id}/{key}/{name}?expires={expires}&signature={query['signature']}",
        f"/media/{owner}/{key}/{name}",
        # Signed by this server, but for another instance, or for a key that is not a file.
        signed(str(other.id), key, expires),
        signed(owner, "A" * 22, expires),
    ]
    for url in wrong:
        r = await media_client.get(url)
        assert r.status_code == 404, (url, r.text)
        assert r.content != data
    # Rightly signed, but past its time.
    r = await media_client.get(signed(owner, key, now_ms() // 1000 - 1))
    assert r.status_code == 404 and "expired" in r.text, r.text
    # The name in the path is for display only: any name serves the file.
    r = await media_client.get(f"/media/{owner}/{key}/x.bin?{parts.query}")
    assert r.status_code == 200 and r.content == data


async def test_byte_ranges(media_client: httpx.AsyncClient, inst: Instance) -> None:
    data = bytes(range(256)) * 40  # 10,240 bytes; starts as no known type
    size = len(data)
    link = await upload(media_client, inst, data, "blob.bin")

    async def get(range_header: str) -> httpx.Response:
        return await media_client.get(link, headers={"Range": range_header})

    whole = await media_client.get(link)
    assert (whole.status_code, whole.content) == (200, data)
    assert whole.headers["accept-ranges"] == "bytes"
    cases = {
        "bytes=100-199": (100, 200),
        "bytes=10000-": (10000, size),
        "bytes=-240": (size - 240, size),
        "bytes=10200-99999": (10200, size),  # an end past the file is cut to it
        "bytes=0-0": (0, 1),
    }
    for header, (start, end) in cases.items():
        r = await get(header)
        assert r.status_code == 206, (header, r.status_code)
        assert r.headers["content-range"] == f"bytes {start}-{end - 1}/{size}", header
        assert r.content == data[start:end], header
        assert r.headers["content-length"] == str(end - start)
    for header in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}", "bytes=-0"):
        r = await get(header)
        assert r.status_code == 416, (header, r.status_code)
        assert r.headers["content-range"] == f"bytes */{size}"
    # Several ranges are not served as such: the whole file comes.
    r = await get("bytes=0-1,5-6")
    assert (r.status_code, r.content) == (200, data)


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>", "text/html"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
            b"<script>alert(1)</script></svg>",
            "image/svg+xml",
        ),
    ],
    ids=["html", "svg"],
)
async def test_active_content_is_served_as_an_inert_attachment(
    media_client: httpx.AsyncClient, inst: Instance, content: bytes, mime: str
) -> None:
    extension = "html" if mime == "text/html" else "svg"
    link = await upload(media_client, inst, content, f"page.{extension}")
    r = await media_client.get(link)
    assert r.status_code == 200 and r.content == content
    assert r.headers["content-type"].split(";")[0] == mime
    assert r.headers["content-disposition"] == f"attachment; filename*=UTF-8''page.{extension}"
    assert r.headers["x-content-type-options"] == "nosniff"
    csp = r.headers["content-security-policy"]
    assert "sandbox" in csp and "default-src 'none'" in csp


async def test_a_phone_file_form_with_a_bad_chat_id_stores_nothing(
    media_server: MediaServer, media_client: httpx.AsyncClient, inst: Instance
) -> None:
    phone = new_phone()

    async def post() -> None:
        r = await media_client.post(
            f"/sandbox/phones/{phone}/messages",
            content=form(("chatId", None, b"not-a-chat"), ("file", "a.png", png())),
            headers={"Content-Type": FORM_TYPE, "Authorization": f"Bearer {inst.partner_token}"},
        )
        assert r.status_code == 400 and "chatId" in r.json()["error"], r.text

    await stores_nothing(media_server, post)
