"""Photo forms over the request limit, for every form that takes a photo (a store item's, a wish's
thank-you). A form with a photo may carry up to PHOTO_REQUEST_LIMIT
(the app's own limit), so that a photo over its own limit (photos.MAX_BYTES) is read and refused
next to its field with the other fields kept. A request over PHOTO_REQUEST_LIMIT must not be
kept in memory, yet answering before it is read to its end makes the browser, still sending,
show a network error instead of the answer. So `keep_fields_of_oversized` reads such a request
to its end, keeps only its text fields (the files stream past, unkept), and hands the route a
form of those fields marked `photo_too_large`: the route shows the form again with the fields
as typed and the photo's message. What it cannot read that way is sent back to the form
(the route's own `form_again`, given to `oversized_forms` and `too_large_handler`).

`read_photo` gives a route the chosen photo's bytes, or the photo's refusal. A form that takes a
spreadsheet (a list of residents to import) works the same way with its own limits
(`oversized_forms(form_again, TABLE_REQUEST_LIMIT)`): `read_table` gives the route the file's
bytes and what they are, sniffed from the bytes rather than taken from the name (CSV or .xlsx),
or a refusal a person understands."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Redirect
from litestar.types import ASGIApp, HTTPRequestEvent, Receive, ReceiveMessage, Scope, Send

from app.core import photos
from app.core.errors import Invalid
from app.core.i18n import lazy

PHOTO_REQUEST_LIMIT = 12 * 1024 * 1024
READ_AT_MOST = 64 * 1024 * 1024  # beyond this the request is not read on: it is cut off
TEXT_AT_MOST = 64 * 1024  # all text fields of a photo form together are far below this
TOO_LARGE_FIELD = "photo_too_large"


class TextParts:
    """Reads a multipart/form-data body chunk by chunk and keeps only its text parts: a file
    part's content is dropped as it passes, so memory stays small whatever the upload's size."""

    def __init__(self, boundary: bytes) -> None:
        self.boundary = boundary
        self.delimiter = b"\r\n--" + boundary
        self.buffer = b"\r\n"  # the body's first boundary has no CRLF before it
        self.state = "preamble"
        self.headers = b""
        self.content = bytearray()
        self.parts: list[tuple[bytes, bytes]] = []
        self.kept = 0
        self.failed = False
        self.done = False

    def feed(self, chunk: bytes) -> None:
        if self.failed or self.done:
            return
        self.buffer += chunk
        while not (self.failed or self.done) and self._step():
            pass

    def _step(self) -> bool:
        """One move of the state machine; False when it needs more bytes."""
        if self.state in ("preamble", "text", "file"):
            at = self.buffer.find(self.delimiter)
            if at < 0:
                # Keep what could be the start of a delimiter; the rest is content (or dropped).
                keep = len(self.delimiter) - 1
                self._content(self.buffer[:-keep] if len(self.buffer) > keep else b"")
                self.buffer = self.buffer[-keep:] if len(self.buffer) > keep else self.buffer
                return False
            self._content(self.buffer[:at])
            if self.state == "text":
                self.parts.append((self.headers, bytes(self.content)))
            self.buffer = self.buffer[at + len(self.delimiter) :]
            self.state = "after_delimiter"
            return True
        if self.state == "after_delimiter":
            if len(self.buffer) < 2:
                return False
            if self.buffer.startswith(b"--"):
                self.done = True
                return False
            if not self.buffer.startswith(b"\r\n"):
                self.failed = True
                return False
            self.buffer = self.buffer[2:]
            self.state = "headers"
            return True
        # headers
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            self.failed = len(self.buffer) > 8192
            return False
        self.headers = self.buffer[:end]
        self.buffer = self.buffer[end + 4 :]
        self.content = bytearray()
        self.state = "file" if b"filename=" in self.headers.lower() else "text"
        if self.state == "text":
            # A text part's headers are kept too: they count against the same bound.
            self.kept += len(self.headers)
            self.failed = self.kept > TEXT_AT_MOST
        return True

    def _content(self, data: bytes) -> None:
        if self.state != "text" or not data:
            return
        self.kept += len(data)
        if self.kept > TEXT_AT_MOST:
            self.failed = True
            return
        self.content += data

    def body(self, extra: dict[str, str]) -> bytes:
        """The kept text parts and `extra` as a multipart body of their own."""
        out = bytearray()
        for headers, content in self.parts:
            out += b"--" + self.boundary + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n"
        for name, value in extra.items():
            out += b"--" + self.boundary + b"\r\n"
            out += f'Content-Disposition: form-data; name="{name}"'.encode() + b"\r\n\r\n"
            out += value.encode() + b"\r\n"
        out += b"--" + self.boundary + b"--\r\n"
        return bytes(out)


def _boundary(content_type: bytes) -> bytes | None:
    kind, _, params = content_type.partition(b";")
    if kind.strip().lower() != b"multipart/form-data":
        return None
    for param in params.split(b";"):
        key, _, value = param.strip().partition(b"=")
        if key.lower() == b"boundary" and value:
            value = value.strip(b'"')
            return value if 0 < len(value) <= 200 else None
    return None


# Where a form that came too large goes back to, from the request's path parameters.
FormAgain = Callable[[dict[str, Any]], str]


def too_large_handler(form_again: FormAgain) -> Callable[[Request, RequestEntityTooLarge], Response]:
    """A body longer than it said (no length, or a wrong one): back to the form."""

    def too_large(request: Request, exc: RequestEntityTooLarge) -> Response:
        return Redirect(form_again(request.path_params), status_code=303)

    return too_large


async def read_photo(request: Request, name: str = "photo") -> bytes | None:
    """The chosen photo's bytes (one more than the limit at most, so the limit can be told), None
    when none was chosen; refused when the form came too large."""
    form = await request.form()
    if form.get(TOO_LARGE_FIELD):
        raise Invalid(photos.TOO_LARGE, field=name)
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return await upload.read(photos.MAX_BYTES + 1)


def oversized_forms(form_again: FormAgain, limit: int = PHOTO_REQUEST_LIMIT) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware of a route whose form takes a photo (or a spreadsheet, with its limit)."""
    return lambda app: keep_fields_of_oversized(app, form_again, limit)


def keep_fields_of_oversized(
    app: ASGIApp, form_again: FormAgain, limit: int = PHOTO_REQUEST_LIMIT
) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", ())) if scope["type"] == "http" else {}
        length = headers.get(b"content-length", b"")
        if not length.isdigit() or int(length) <= limit:
            await app(scope, receive, send)
            return
        boundary = _boundary(headers.get(b"content-type", b""))
        parts = TextParts(boundary) if boundary else None
        seen = 0
        while seen <= READ_AT_MOST:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if parts is not None:
                parts.feed(chunk)
            if not message.get("more_body", False):
                break
        if parts is None or parts.failed or not parts.done:
            await _redirect(send, form_again(scope.get("path_params") or {}))
            return
        body = parts.body({TOO_LARGE_FIELD: "1"})
        replay: list[HTTPRequestEvent] = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive_again() -> ReceiveMessage:
            return replay.pop() if replay else await receive()

        fields = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        fields.append((b"content-length", str(len(body)).encode()))
        # The same scope, changed in place: what the app keeps in it for this request (its
        # database session among others) must be found again when the answer is sent.
        scope["headers"] = fields
        await app(scope, receive_again, send)

    return middleware


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b"", "more_body": False})


# ---------------------------------------------------------------- spreadsheets (CSV or .xlsx)

TABLE_MAX_BYTES = 5 * 1024 * 1024
# The form around the file: a little more than the file itself.
TABLE_REQUEST_LIMIT = TABLE_MAX_BYTES + 256 * 1024
# A workbook is a zip: what it unpacks to is bounded too, so a small file cannot fill the memory.
XLSX_UNPACKED_AT_MOST = 20 * TABLE_MAX_BYTES

TABLE_TOO_LARGE = lazy("The file is too large to upload: at most 5 MB. Please split it into smaller files.")
TABLE_MISSING = lazy("Please choose a CSV or Excel (.xlsx) file to upload.")
TABLE_EMPTY = lazy("The file is empty.")
TABLE_OLD_EXCEL = lazy(
    "This is an old Excel file (.xls). Please save it as an Excel workbook (.xlsx) or as CSV and upload that."
)
TABLE_UNKNOWN = lazy("This file is neither CSV nor an Excel workbook (.xlsx). Please upload one of those.")

TableKind = Literal["csv", "xlsx"]


@dataclass(frozen=True)
class TableFile:
    kind: TableKind
    data: bytes
    filename: str


def sniff_table(data: bytes) -> TableKind:
    """What the bytes are, whatever the file was called: an .xlsx workbook (a zip holding a
    workbook, not too large unpacked) or text that reads as CSV (UTF-8 or GB18030, which Excel
    in China writes; no NUL). Anything else is refused with a sentence that says why."""
    if not data:
        raise Invalid(TABLE_EMPTY, field="file")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Invalid(TABLE_OLD_EXCEL, field="file")
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                unpacked = sum(info.file_size for info in archive.infolist())
        except zipfile.BadZipFile as exc:
            raise Invalid(TABLE_UNKNOWN, field="file") from exc
        if "xl/workbook.xml" not in names:
            raise Invalid(TABLE_UNKNOWN, field="file")
        if unpacked > XLSX_UNPACKED_AT_MOST:
            raise Invalid(TABLE_TOO_LARGE, field="file")
        return "xlsx"
    if b"\x00" in data:
        raise Invalid(TABLE_UNKNOWN, field="file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return "csv"
    raise Invalid(TABLE_UNKNOWN, field="file")


def table_text(data: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without the byte-order mark Excel writes) or GB18030."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


async def read_table(request: Request, name: str = "file") -> TableFile:
    """The chosen spreadsheet, sniffed; refused when none was chosen, when it (or the form) is too
    large, or when it is neither CSV nor .xlsx."""
    form = await request.form()
    if form.get(TOO_LARGE_FIELD):
        raise Invalid(TABLE_TOO_LARGE, field=name)
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Invalid(TABLE_MISSING, field=name)
    data = await upload.read(TABLE_MAX_BYTES + 1)
    if len(data) > TABLE_MAX_BYTES:
        raise Invalid(TABLE_TOO_LARGE, field=name)
    return TableFile(sniff_table(data), data, upload.filename[:200])
