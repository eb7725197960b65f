"""The results wall's stories (成果晾晒): what a community's admins write about what it achieved,
with at most one photo each (cleaned and stored by app.core.photos under a name the app chose)."""

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
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core import form_keys
from app.core.database import Base


class Story(Base):
    __tablename__ = "wall_stories"
    __table_args__ = (
        CheckConstraint("char_length(title) BETWEEN 1 AND 100", name="title"),
        CheckConstraint("char_length(body) <= 2000", name="body"),
        Index("ix_wall_stories_community_id_happened_on", "community_id", "happened_on"),
        form_keys.unique_index("wall_stories", "created_by"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="", server_default="")
    happened_on: Mapped[date] = mapped_column(Date)
    # A name app.core.photos.write made; None: no photo.
    photo: Mapped[str | None] = mapped_column(String(64))
    # Hidden stories stay for the admins and leave the public wall.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    form_key: Mapped[str | None] = mapped_column(String(form_keys.LENGTH))  # of the page form that made it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ExportRun(Base):
    """An export made by a job (app.reports.exporting): its progress while it runs, then its file,
    only for the admin who asked, until `expires_at`."""

    __tablename__ = "export_runs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("fmt IN ('csv', 'xlsx')", name="fmt"),
        Index("ix_export_runs_status", "status", postgresql_where="status IN ('queued', 'running')"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    fmt: Mapped[str] = mapped_column(String(8))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    lang: Mapped[str] = mapped_column(String(10), server_default="zh")
    status: Mapped[str] = mapped_column(String(10), server_default="queued")
    done_rows: Mapped[int] = mapped_column(Integer, server_default="0")
    total_rows: Mapped[int] = mapped_column(Integer, server_default="0")
    filename: Mapped[str] = mapped_column(String(120), server_default="")
    # Whether the file has the export's contact columns: decided from the asker's roles when the
    # run is asked for, and opened only by someone who may read them (exports.Export.shows_contacts).
    contacts: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The job's sign of life while it makes the run (its claim, each batch written): a run left
    # running without one for `exporting.STALE` is made again, up to `exporting.ATTEMPTS` times.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    failure: Mapped[str] = mapped_column(String(20), server_default="")  # why it failed: exporting.FAILURES
