"""Events, sign-ups, check-ins (one row per in/out stay) and claimed or honour hours."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.core import form_keys
from app.core.database import Base

CATEGORIES = ("service", "cleanup", "council", "suggestion", "other")
EVENT_STATUSES = ("open", "cancelled", "closed")
SIGNUP_STATUSES = ("signed_up", "waitlisted", "cancelled")
# none: still open; awarded: points in the wallet; zero: nothing to award;
# pending: waits for an admin's approval; unconfirmed: kiosk stay waiting for the organiser's
# headcount; rejected: refused by an admin.
AWARD_STATUSES = ("none", "awarded", "zero", "pending", "unconfirmed", "rejected")


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("category IN ('service','cleanup','council','suggestion','other')", name="category"),
        CheckConstraint("status IN ('open','cancelled','closed')", name="status"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity"),
        CheckConstraint("points_per_attendance >= 0 AND points_per_hour >= 0", name="points"),
        CheckConstraint("max_points IS NULL OR max_points >= 0", name="max_points"),
        CheckConstraint("attendee_count >= 0", name="attendee_count"),
        Index("ix_events_community_id_starts_at", "community_id", "starts_at"),
        # A page form sent twice creates once: its key, once per creator (migration 0038).
        Index(
            "uq_events_form_key",
            "created_by",
            "form_key",
            unique=True,
            postgresql_where=text("form_key IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    title: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    place: Mapped[str] = mapped_column(String(200), default="", server_default="")
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int | None] = mapped_column(Integer)
    signup_required: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    points_per_attendance: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    points_per_hour: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    max_points: Mapped[int | None] = mapped_column(Integer)
    auto_award: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    kiosk_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    # Kiosk stays wait for the organiser's headcount before any points move.
    kiosk_confirmation: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    reentry_allowed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    organiser_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), default=list, server_default="{}")
    status: Mapped[str] = mapped_column(String(12), default="open", server_default="open")
    # Distinct people checked in; the counter that enforces capacity without sign-up.
    attendee_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    series_id: Mapped[str | None] = mapped_column(String(32), index=True)
    headcount: Mapped[int | None] = mapped_column(Integer)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    form_key: Mapped[str | None] = mapped_column(String(40))  # of the page form that created it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Signup(Base):
    __tablename__ = "event_signups"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        CheckConstraint("status IN ('signed_up','waitlisted','cancelled')", name="status"),
        Index("ix_event_signups_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Checkin(Base):
    """One stay: in, and (later) out. `seq` numbers a person's stays at an event; without
    re-entry only seq 1 may exist, and at most one stay per person is open (both unique)."""

    __tablename__ = "event_checkins"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", "seq"),
        Index(
            "uq_event_checkins_one_open",
            "event_id",
            "user_id",
            unique=True,
            postgresql_where="checked_out_at IS NULL",
        ),
        CheckConstraint("method_in IN ('kiosk','witnessed')", name="method_in"),
        CheckConstraint(
            "award_status IN ('none','awarded','zero','pending','unconfirmed','rejected')",
            name="award_status",
        ),
        CheckConstraint("minutes >= 0 AND points >= 0", name="non_negative"),
        Index("ix_event_checkins_user_id", "user_id"),
        # The dashboards' figures read a community's stays by when they began or ended (a stay
        # still open has no entry of the second: a check-in writes one index entry fewer).
        Index("ix_event_checkins_community_id_checked_in_at", "community_id", "checked_in_at"),
        Index(
            "ix_event_checkins_community_id_checked_out_at",
            "community_id",
            "checked_out_at",
            postgresql_where="checked_out_at IS NOT NULL",
        ),
        Index(
            "ix_event_checkins_queue",
            "community_id",
            "award_status",
            postgresql_where="award_status IN ('pending','unconfirmed')",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(BigInteger)
    # No foreign keys (migration 0043): each check-in's check share-locked its event's row, one
    # row for everyone at the event; events and users are never deleted.
    event_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(Integer, default=1)
    checked_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    method_in: Mapped[str] = mapped_column(String(10))
    method_out: Mapped[str | None] = mapped_column(String(10))
    in_by: Mapped[int | None] = mapped_column(BigInteger)
    out_by: Mapped[int | None] = mapped_column(BigInteger)
    minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    award_status: Mapped[str] = mapped_column(String(12), default="none", server_default="none")
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    flag_reason: Mapped[str] = mapped_column(String(40), default="", server_default="")
    transfer_id: Mapped[int | None] = mapped_column(BigInteger)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decision_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")


class HourClaim(Base):
    """Hours outside an event: claimed by a volunteer (then approved) or entered by an admin
    (honour hours, which may be marked as not converting to points)."""

    __tablename__ = "hour_claims"
    __table_args__ = (
        CheckConstraint("status IN ('pending','approved','rejected')", name="status"),
        CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes"),
        CheckConstraint("points >= 0", name="points"),
        CheckConstraint("category IN ('service','cleanup','council','suggestion','other')", name="category"),
        Index("ix_hour_claims_community_id_status", "community_id", "status"),
        Index("ix_hour_claims_user_id", "user_id"),
        form_keys.unique_index("hour_claims", "entered_by"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    what: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(20), default="service", server_default="service")
    worked_on: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    witness: Mapped[str] = mapped_column(String(100), default="", server_default="")
    honour: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    converts_to_points: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    transfer_id: Mapped[int | None] = mapped_column(BigInteger)
    entered_by: Mapped[int | None] = mapped_column(BigInteger)
    form_key: Mapped[str | None] = mapped_column(String(form_keys.LENGTH))  # of the page form that made it
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decision_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
