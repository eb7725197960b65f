"""Organisations and their members, co-building agreements with their tasks, in-service
registrations, and the resource, need and project lists."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.core import form_keys
from app.core.database import Base

KINDS = ("partner", "provider")
PROJECT_STATUSES = ("open", "in_progress", "done", "followed_up")
REGISTRATION_STATUSES = ("pending", "confirmed", "rejected")


class Organisation(Base):
    """A partner unit (共建单位) or a provider of the service circle, or both. It may act in the
    community it was created in (`community_id`) and in those it has an agreement with for the
    current year (app.partners.services.may_act_in)."""

    __tablename__ = "organisations"
    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        CheckConstraint(
            "cardinality(kinds) >= 1 AND kinds <@ ARRAY['partner','provider']::varchar[]", name="kinds"
        ),
        CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="lat"),
        CheckConstraint("lng IS NULL OR (lng >= -180 AND lng <= 180)", name="lng"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kinds: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    category: Mapped[str] = mapped_column(String(50), default="", server_default="")
    address: Mapped[str] = mapped_column(String(200), default="", server_default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OrganisationMember(Base):
    """A user acting for an organisation. Membership gives the organisation no power over the
    account: an organisation never changes a member's name, password or cards."""

    __tablename__ = "organisation_members"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Agreement(Base):
    """A co-building agreement (共建协议) of one organisation with one community for one year,
    with its commitments. Progress is counted from what happened, never stored."""

    __tablename__ = "agreements"
    __table_args__ = (
        UniqueConstraint("organisation_id", "community_id", "year"),
        CheckConstraint("year >= 2000 AND year <= 2100", name="year"),
        CheckConstraint(
            "wishes >= 0 AND volunteer_hours >= 0 AND resources >= 0 AND projects >= 0",
            name="commitments",
        ),
        Index("ix_agreements_community_id_year", "community_id", "year"),
        form_keys.unique_index("agreements", "created_by"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    year: Mapped[int] = mapped_column(Integer)
    wishes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    volunteer_hours: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    resources: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    projects: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    form_key: Mapped[str | None] = mapped_column(String(form_keys.LENGTH))  # of the page form that made it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AgreementTask(Base):
    """One line of an agreement's annual task list (年度任务清单)."""

    __tablename__ = "agreement_tasks"
    __table_args__ = (form_keys.unique_index("agreement_tasks", "created_by"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    form_key: Mapped[str | None] = mapped_column(String(form_keys.LENGTH))  # of the page form that made it


class Registration(Base):
    """In-service registration (在职党员双报到): a user names their work unit and registers
    with the community where they live; an admin confirms. Once confirmed, their hours there
    count for the unit's agreement with that community."""

    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("user_id", "community_id"),
        CheckConstraint("status IN ('pending','confirmed','rejected')", name="status"),
        Index("ix_registrations_organisation_id_status", "organisation_id", "status"),
        Index("ix_registrations_community_id_status", "community_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Resource(Base):
    """What a partner can give a community (资源清单)."""

    __tablename__ = "resources"
    __table_args__ = (
        Index("ix_resources_community_id_category", "community_id", "category"),
        form_keys.unique_index("resources", "created_by"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    form_key: Mapped[str | None] = mapped_column(String(form_keys.LENGTH))  # of the page form that made it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Need(Base):
    """What the community needs (需求清单), listed by grid workers and staff from visits or calls."""

    __tablename__ = "needs"
    __table_args__ = (
        Index("ix_needs_community_id_category", "community_id", "category"),
        form_keys.unique_index("needs", "created_by"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    form_key: Mapped[str | None] = mapped_column(String(form_keys.LENGTH))  # of the page form that made it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Project(Base):
    """A matched need and resources (项目清单) with an owner and a deadline; its status moves
    open -> in_progress -> done -> followed_up, each step with a note (ProjectStep)."""

    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("status IN ('open','in_progress','done','followed_up')", name="status"),
        CheckConstraint("funding_goal_cents IS NULL OR funding_goal_cents > 0", name="funding_goal"),
        Index("ix_projects_community_id_status", "community_id", "status"),
        form_keys.unique_index("projects", "created_by"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    title: Mapped[str] = mapped_column(String(200))
    owner_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_on: Mapped[date] = mapped_column(Date)
    funding_goal_cents: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="open", server_default="open")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    form_key: Mapped[str | None] = mapped_column(String(form_keys.LENGTH))  # of the page form that made it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProjectNeed(Base):
    __tablename__ = "project_needs"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    need_id: Mapped[int] = mapped_column(
        ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ProjectResource(Base):
    __tablename__ = "project_resources"

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ProjectStep(Base):
    """A project's move to a status, with the note written at that step (who, when)."""

    __tablename__ = "project_steps"
    __table_args__ = (
        CheckConstraint("status IN ('open','in_progress','done','followed_up')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
