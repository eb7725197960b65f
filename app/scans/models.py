"""Every scan, failed ones too, with a reason code (pretix-style audit of the door)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base


class Scan(Base):
    """Written by every scan. Read only for a scanner's wrong typed digits, by a partial index
    of those rows: a scan of a QR code writes one index entry, its primary key's (migration
    0043 dropped two indexes by event and by community that no statement read)."""

    __tablename__ = "scans"
    __table_args__ = (
        # A scanner's wrong typed digits (app.scans.services: typed digits past a number of them
        # are refused for a while).
        Index(
            "ix_scans_wrong_digits",
            "scanner_id",
            "at",
            postgresql_where=text("kind = 'digits' AND result = 'code_invalid'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    community_id: Mapped[int | None] = mapped_column(BigInteger)
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    scanner_id: Mapped[int | None] = mapped_column(BigInteger)
    subject_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    action: Mapped[str | None] = mapped_column(String(10))
    # The outcome ("checked_in", "checked_out") or the refusal's code ("code_expired", ...).
    result: Mapped[str] = mapped_column(String(30))
    # A digest of the code, never the code itself (a member code is a credential for 30 s).
    code_digest: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(64))


class ScanReply(Base):
    """The answer to a scan that succeeded, kept under its scanner and idempotency key: the same
    scan sent again is answered with it (app.scans.services.run_keyed_scan). The row is the key's
    claim, made before the scan runs in its transaction (a copy sent at once waits on it), and
    the answer is written into it when the scan succeeds; a pickup's or a voucher's claim keeps
    none (`{}`), since its own row answers."""

    __tablename__ = "scan_replies"

    scanner_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(150), primary_key=True)
    code_digest: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str | None] = mapped_column(String(10))
    # The answer's JSON as it was sent (json, not jsonb: its keys keep their order).
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
