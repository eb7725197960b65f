"""The imports' JSON API shapes (msgspec, validated at the edge)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from app.core.uploads import TABLE_MAX_BYTES

# The file's bytes as standard base64 (at most the page's 5 MB once decoded).
Base64 = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
        max_length=(TABLE_MAX_BYTES + 2) // 3 * 4,
        description="The file (CSV or .xlsx, sniffed from its bytes) as standard base64.",
    ),
]
FileName = Annotated[str, Meta(pattern=r"^[^\x00]*$", max_length=200)]


class ImportRequest(msgspec.Struct):
    content_base64: Base64
    filename: FileName = "residents.csv"
    # True: check the file and answer what the import would do, writing nothing else.
    # False: check it and queue the import at once (its progress: GET .../imports/{id}).
    dry_run: bool = True


class ImportCounts(msgspec.Struct):
    created: int
    joined: int
    unchanged: int
    rejected: int
    total: int


class RowError(msgspec.Struct):
    row: int
    column: str
    code: str
    detail: str


Status = Literal["checked", "queued", "running", "done", "failed", "expired"]


class ImportOut(msgspec.Struct):
    id: int
    status: Status
    total_rows: int
    done_rows: int
    # What the import would do while `checked`; what it did once `done`.
    counts: ImportCounts
    # The refused rows (the first 200), each error with its column, code and sentence.
    rejected_rows: list[RowError]
