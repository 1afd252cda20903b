"""Request bodies that carry a file, read as they stream in and stored as they arrive.

A raw body (uploadFile) streams straight into the media store. A multipart/form-data body
(sendFileByUpload, and uploadFile from clients that send a form) is parsed as it arrives:
its text fields are kept (small, bounded), its one file part streams into the store. Neither
ever holds the whole file in memory or on a temporary disk, and both stop at the size limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect, Request

from fleetgate.domain.files import StoredFile
from fleetgate.errors import InvalidInput
from fleetgate.services.media import FileTooLarge, Media

FIELD_MAX_BYTES = 64 * 1024
FIELDS_MAX = 32


@dataclass(slots=True)
class Form:
    """A multipart form: its text fields, and its file (stored) if it had one."""

    fields: dict[str, str] = field(default_factory=dict)
    file: StoredFile | None = None


def header_text(request: Request, name: str) -> str:
    """A header's value as the UTF-8 text clients send (HTTP hands it over as Latin-1)."""
    value = request.headers.get(name, "")
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def store_body(
    request: Request, media: Media, *, id_instance: int | None, file_name: str
) -> StoredFile:
    """Store the raw request body as a file."""
    _refuse_declared_size(request, media.max_bytes)
    try:
        return await media.store(request.stream(), id_instance=id_instance, file_name=file_name)
    except ClientDisconnect:
        raise InvalidInput("the request body ended early") from None


async def store_form(
    request: Request, media: Media, *, id_instance: int | None, file_field: str = "file"
) -> Form:
    """Parse a multipart/form-data body, storing its file part ``file_field`` as it arrives."""
    _refuse_declared_size(request, media.max_bytes + FIELDS_MAX * FIELD_MAX_BYTES)
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not is_form(request) or not boundary:
        raise InvalidInput("the body must be multipart/form-data with a boundary")
    reader = _FormReader(boundary, file_field, request.stream())
    try:
        await reader.until_file()
        if reader.file_name is not None:
            name = reader.file_name
            reader.form.file = await media.store(
                reader.file_bytes(), id_instance=id_instance, file_name=name
            )
        await reader.until_end()
    except MultipartParseError:
        raise InvalidInput("the body is not valid multipart/form-data") from None
    except ClientDisconnect:
        raise InvalidInput("the request body ended early") from None
    except BaseException:
        # The file may already be recorded (a fault after its part ended): drop row and bytes.
        if reader.form.file is not None:
            await media.forget(reader.form.file)
        raise
    return reader.form


def _refuse_declared_size(request: Request, limit: int) -> None:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise FileTooLarge(f"file is larger than the limit of {limit} bytes")


class _FormReader:
    """Feeds the body to a push parser and hands on the file part's bytes as a stream."""

    def __init__(self, boundary: bytes, file_field: str, body: AsyncIterator[bytes]) -> None:
        self.form = Form()
        self.file_name: str | None = None  # set once the file part's headers are read
        self._file_field = file_field
        self._body = body
        self._ended = False
        self._header_name = b""
        self._headers: dict[bytes, bytes] = {}
        self._part: str | None = None  # the field being read ("" for the file part)
        self._value = bytearray()
        self._pending: list[bytes] = []
        self._file_done = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    async def until_file(self) -> None:
        while self.file_name is None and await self._feed():
            pass

    async def until_end(self) -> None:
        while await self._feed():
            pass

    async def file_bytes(self) -> AsyncIterator[bytes]:
        while True:
            while self._pending:
                yield self._pending.pop(0)
            if self._file_done or not await self._feed():
                if self._pending:
                    continue
                if not self._file_done:
                    raise InvalidInput("the body ended inside its file part")
                return

    async def _feed(self) -> bool:
        """Parse the next chunk of the body; False once it has ended."""
        if self._ended:
            return False
        try:
            chunk = await anext(self._body)
        except StopAsyncIteration:
            self._ended = True
            self._parser.finalize()
            return False
        self._parser.write(chunk)
        return True

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        name = self._header_name.lower()
        self._headers[name] = self._headers.get(name, b"") + data[start:end]

    def _header_end(self) -> None:
        self._header_name = b""

    def _headers_finished(self) -> None:
        # Latin-1 maps every byte to one character and back: the parameters come out as the
        # bytes that were sent, UTF-8 names included.
        disposition = self._headers.get(b"content-disposition", b"").decode("latin-1")
        _, options = parse_options_header(disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options or name == self._file_field:
            if self.file_name is not None:
                raise InvalidInput("the form must carry one file only")
            self.file_name = options.get(b"filename", b"").decode("utf-8", "replace")
            self._part = ""
            return
        if len(self.form.fields) >= FIELDS_MAX:
            raise InvalidInput(f"the form has more than {FIELDS_MAX} fields")
        self._part = name
        self._value = bytearray()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._part == "":
            self._pending.append(data[start:end])
            return
        self._value += data[start:end]
        if len(self._value) > FIELD_MAX_BYTES:
            raise InvalidInput(f"form field {self._part} is longer than {FIELD_MAX_BYTES} bytes")

    def _part_end(self) -> None:
        if self._part == "":
            self._file_done = True
        elif self._part is not None:
            try:
                self.form.fields[self._part] = self._value.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(f"form field {self._part} is not UTF-8 text") from None
        self._part = None
