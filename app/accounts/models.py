from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.core import form_keys
from app.core.database import Base
from app.core.roles import COMMUNITY_ROLES

# The roles an event's organisers are chosen among (app.events: ORGANISER_ROLES and volunteers).
ORGANISING_ROLES = ("volunteer", "grid_worker", "staff", "admin")
# A membership's roles hold admin, or one of ORGANISING_ROLES: the predicates of migration 0053's
# indexes of those members by name, spelled as they are (a query's condition must be the index's
# for PostgreSQL to read it).
_ADMIN_ARRAY = "ARRAY['admin']::varchar[]"
_ORGANISING_ARRAY = "ARRAY[" + ", ".join(f"'{r}'" for r in ORGANISING_ROLES) + "]::varchar[]"
_ADMINS = f"roles @> {_ADMIN_ARRAY}"
_ORGANISERS = f"roles && {_ORGANISING_ARRAY}"


class User(Base):
    __tablename__ = "users"
    # A search by a phone's digits (app.accounts.people, migration 0051).
    __table_args__ = (Index("ix_users_phone_grams", "phone_grams", postgresql_using="gin"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Elderly residents without a phone have no phone number and no password: their
    # printed member card and a grid worker act for them.
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The phone's characters and pairs of characters, kept by the database for a search.
    phone_grams: Mapped[list[str] | None] = mapped_column(
        ARRAY(Text), Computed("search_grams(phone)"), deferred=True
    )


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "community_id"),
        CheckConstraint(
            # The roles of app.core.roles, as migration 0001 wrote them.
            "roles <@ ARRAY[" + ",".join(f"'{role}'" for role in COMMUNITY_ROLES) + "]::varchar[]",
            name="known_roles",
        ),
        form_keys.unique_index("memberships", "added_by"),
        # A community's (a compound's, a building's) members by name, a page at a time (app.accounts.people).
        Index("ix_memberships_community_name", "community_id", "display_name", "user_id"),
        Index("ix_memberships_building_name", "building_id", "display_name", "user_id"),
        Index("ix_memberships_compound_name", "compound_id", "display_name", "user_id"),
        # A search by name (app.accounts.people, migration 0051).
        Index("ix_memberships_name_grams", "name_grams", postgresql_using="gin"),
        # A community's admins and its possible organisers by name (migration 0053).
        Index(
            "ix_memberships_admins_name",
            "community_id",
            "display_name",
            "user_id",
            postgresql_where=text(_ADMINS),
        ),
        Index(
            "ix_memberships_organisers_name",
            "community_id",
            "display_name",
            "user_id",
            postgresql_where=text(_ORGANISERS),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Indexed by ix_memberships_community_name (above), which its own index would only compete with.
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    room: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # The person's `User.display_name`, written by the database alone (migration 0049's triggers:
    # on every insert or change of the row, and when the person is renamed), so that the indexes
    # above give a community's members in the order every list shows them: name, then user id.
    display_name: Mapped[str] = mapped_column(String(50), server_default="")
    # Its characters and pairs of characters, kept by the database for a search (migration 0051).
    name_grams: Mapped[list[str]] = mapped_column(
        ARRAY(Text), Computed("search_grams(display_name)"), deferred=True
    )
    # Who enrolled the person through the residents form, and that form's key.
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    form_key: Mapped[str | None] = mapped_column(String(form_keys.LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set when an admin takes a resident who moved away off the community (app.accounts.moving,
    # migration 0055); the row stays for its history, and a move back clears it.
    moved_away_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    moved_away_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


def is_admin() -> ColumnElement[bool]:
    """The membership's roles hold admin: the condition migration 0053's index of a community's
    admins by name is made for."""
    return Membership.roles.op("@>", return_type=Boolean)(literal_column(_ADMIN_ARRAY))


def may_organise() -> ColumnElement[bool]:
    """The membership's roles hold one of ORGANISING_ROLES (migration 0053's other index)."""
    return Membership.roles.op("&&", return_type=Boolean)(literal_column(_ORGANISING_ARRAY))


class StreetRole(Base):
    __tablename__ = "street_roles"
    __table_args__ = (UniqueConstraint("user_id", "street_id", "role"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))


class MemberCard(Base):
    """A member's card. `phone` cards carry a secret from which the rotating code is derived;
    `printed` cards carry a static random code. Neither holds personal data."""

    __tablename__ = "member_cards"
    __table_args__ = (
        CheckConstraint("kind IN ('phone', 'printed')", name="kind"),
        Index(
            "uq_member_cards_one_active",
            "user_id",
            "kind",
            unique=True,
            postgresql_where="revoked_at IS NULL",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    secret: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuthSession(Base):
    """Browser sessions and API tokens. Only a digest of the token is stored."""

    __tablename__ = "auth_sessions"
    __table_args__ = (CheckConstraint("kind IN ('cookie', 'token')", name="kind"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    address: Mapped[str | None] = mapped_column(String(64))


class AttemptCounter(Base):
    """Attempts per key ("phone:…", "address:…", "join:…") within a window, in the database so a
    limit holds across worker processes. An attempt takes its place with one conditional upsert
    before the check it guards (accounts.attempts.claim_attempt), so simultaneous attempts
    queue on the row and at most the limit get through."""

    __tablename__ = "attempt_counters"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts"),)

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HouseholdHonour(Base):
    """A 邻里一家亲 (neighbourly family) honour an admin awards to a household for a year. A
    household is an address as memberships have it (compound, building, room): the honour stays
    with the address and everyone registered there shares it."""

    __tablename__ = "household_honours"
    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
        Index(
            "uq_household_honours_household_year",
            "community_id",
            "compound_id",
            text("COALESCE(building_id, 0)"),
            "room",
            "year",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    room: Mapped[str] = mapped_column(String(20), server_default="")
    year: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(200), server_default="")
    awarded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
