from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.database import Base


class Street(Base):
    __tablename__ = "streets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    district: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    communities: Mapped[list[Community]] = relationship(back_populates="street", lazy="raise")


class Community(Base):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("street_id", "name"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    # IANA name; every date rule and every time shown for this community is read in it.
    time_zone: Mapped[str] = mapped_column(String(64), server_default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    street: Mapped[Street] = relationship(back_populates="communities", lazy="raise")


class Compound(Base):
    __tablename__ = "compounds"
    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        CheckConstraint("lat IS NULL OR (lat >= -90 AND lat <= 90)", name="lat"),
        CheckConstraint("lng IS NULL OR (lng >= -180 AND lng <= 180)", name="lng"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")
    households: Mapped[int] = mapped_column(Integer, default=0)
    # Where it is (the service circle measures walking distances from here); None = not set.
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("compound_id", "name"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    leader_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
