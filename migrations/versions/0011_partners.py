"""partners: organisations and their members, co-building agreements and their tasks, in-service
registrations, and the resource, need and project lists

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def _user(name: str, nullable: bool = True, ondelete: str | None = "SET NULL") -> sa.Column:
    return sa.Column(name, sa.BigInteger(), sa.ForeignKey("users.id", ondelete=ondelete), nullable=nullable)


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False)


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kinds", sa.ARRAY(sa.String(10)), nullable=False),
        sa.Column("category", sa.String(50), server_default="", nullable=False),
        sa.Column("address", sa.String(200), server_default="", nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        _user("created_by"),
        _created_at(),
        sa.UniqueConstraint("community_id", "name"),
        sa.CheckConstraint(
            "cardinality(kinds) >= 1 AND kinds <@ ARRAY['partner','provider']::varchar[]", name="kinds"
        ),
        sa.CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="lat"),
        sa.CheckConstraint("lng IS NULL OR (lng >= -180 AND lng <= 180)", name="lng"),
    )
    op.create_index("ix_organisations_community_id", "organisations", ["community_id"])

    op.create_table(
        "organisation_members",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "organisation_id",
            sa.BigInteger(),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _user("user_id", nullable=False, ondelete="CASCADE"),
        sa.Column("is_admin", sa.Boolean(), server_default="false", nullable=False),
        _user("added_by"),
        _created_at(),
        sa.UniqueConstraint("organisation_id", "user_id"),
    )
    op.create_index("ix_organisation_members_user_id", "organisation_members", ["user_id"])

    op.create_table(
        "agreements",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "organisation_id",
            sa.BigInteger(),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("wishes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("volunteer_hours", sa.Integer(), server_default="0", nullable=False),
        sa.Column("resources", sa.Integer(), server_default="0", nullable=False),
        sa.Column("projects", sa.Integer(), server_default="0", nullable=False),
        _user("created_by"),
        _created_at(),
        sa.UniqueConstraint("organisation_id", "community_id", "year"),
        sa.CheckConstraint("year >= 2000 AND year <= 2100", name="year"),
        sa.CheckConstraint(
            "wishes >= 0 AND volunteer_hours >= 0 AND resources >= 0 AND projects >= 0",
            name="commitments",
        ),
    )
    op.create_index("ix_agreements_community_id_year", "agreements", ["community_id", "year"])

    op.create_table(
        "agreement_tasks",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "agreement_id", sa.BigInteger(), sa.ForeignKey("agreements.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        _user("done_by"),
    )
    op.create_index("ix_agreement_tasks_agreement_id", "agreement_tasks", ["agreement_id"])

    op.create_table(
        "registrations",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        _user("user_id", nullable=False, ondelete="CASCADE"),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column(
            "organisation_id",
            sa.BigInteger(),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(10), server_default="pending", nullable=False),
        _created_at(),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        _user("decided_by"),
        sa.UniqueConstraint("user_id", "community_id"),
        sa.CheckConstraint("status IN ('pending','confirmed','rejected')", name="status"),
    )
    op.create_index(
        "ix_registrations_organisation_id_status", "registrations", ["organisation_id", "status"]
    )
    op.create_index("ix_registrations_community_id_status", "registrations", ["community_id", "status"])

    op.create_table(
        "resources",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column(
            "organisation_id",
            sa.BigInteger(),
            sa.ForeignKey("organisations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("category", sa.String(50), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        _user("created_by"),
        _created_at(),
    )
    op.create_index("ix_resources_community_id_category", "resources", ["community_id", "category"])
    op.create_index("ix_resources_organisation_id", "resources", ["organisation_id"])

    op.create_table(
        "needs",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("category", sa.String(50), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        _user("created_by"),
        _created_at(),
    )
    op.create_index("ix_needs_community_id_category", "needs", ["community_id", "category"])

    op.create_table(
        "projects",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("community_id", sa.BigInteger(), sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        _user("owner_user_id", nullable=False, ondelete=None),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("funding_goal_cents", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(12), server_default="open", nullable=False),
        _user("created_by"),
        _created_at(),
        sa.CheckConstraint("status IN ('open','in_progress','done','followed_up')", name="status"),
        sa.CheckConstraint("funding_goal_cents IS NULL OR funding_goal_cents > 0", name="funding_goal"),
    )
    op.create_index("ix_projects_community_id_status", "projects", ["community_id", "status"])

    op.create_table(
        "project_needs",
        sa.Column(
            "project_id", sa.BigInteger(), sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("need_id", sa.BigInteger(), sa.ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_project_needs_need_id", "project_needs", ["need_id"])

    op.create_table(
        "project_resources",
        sa.Column(
            "project_id", sa.BigInteger(), sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "resource_id", sa.BigInteger(), sa.ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_index("ix_project_resources_resource_id", "project_resources", ["resource_id"])

    op.create_table(
        "project_steps",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "project_id", sa.BigInteger(), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        _user("actor_id"),
        _created_at(),
        sa.CheckConstraint("status IN ('open','in_progress','done','followed_up')", name="status"),
    )
    op.create_index("ix_project_steps_project_id", "project_steps", ["project_id"])


def downgrade() -> None:
    for table in (
        "project_steps",
        "project_resources",
        "project_needs",
        "projects",
        "needs",
        "resources",
        "registrations",
        "agreement_tasks",
        "agreements",
        "organisation_members",
        "organisations",
    ):
        op.drop_table(table)
