"""A notice to one person, the kinds a person turned off, a community's outgoing webhook and its
deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base

DELIVERY_STATUSES = ("pending", "delivered", "failed")


class Notice(Base):
    """One notice: its kind and the kind's parameters, never a sentence (app.notices.words puts
    it into the reader's language). `key` makes each trigger emit once however often it runs."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_user_id_id", "user_id", "id"),
        Index("ix_notices_unread", "user_id", postgresql_where="read_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    key: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(300), server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NoticeMute(Base):
    """A kind of notice this person chose not to get."""

    __tablename__ = "notice_mutes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)


class NoticeWebhook(Base):
    """Where a community's notices are also POSTed, signed with its secret (docs/webhooks.md)."""

    __tablename__ = "notice_webhooks"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="true")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NoticeDelivery(Base):
    """One notice on its way to the community's webhook: tried by a job until it is answered 2xx
    or has failed `MAX_ATTEMPTS` times (app.notices.webhooks)."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
        Index("ix_notice_deliveries_due", "next_attempt_at", postgresql_where="status = 'pending'"),
        Index("ix_notice_deliveries_community_id_id", "community_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(200), server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
