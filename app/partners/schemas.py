"""Request and answer bodies of the partners API (API.md "Organisations" and "Resource, need and
project lists"); the shapes of values come from app.core.fields."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from app.core.fields import Count, Filled, Id, Name, Text

Kind = Literal["partner", "provider"]
Year = Annotated[int, Meta(ge=2000, le=2100)]
Cents = Annotated[int, Meta(ge=1, le=2**53 - 1)]
Lat = Annotated[float, Meta(ge=-90, le=90)]
Lng = Annotated[float, Meta(ge=-180, le=180)]


class MemberIn(msgspec.Struct):
    phone: Filled
    display_name: Name
    password: Text | None = None


class OrganisationIn(msgspec.Struct):
    name: Name
    kinds: Annotated[list[Kind], Meta(min_length=1, max_length=2)]
    members: Annotated[list[MemberIn], Meta(min_length=1, max_length=50)]
    category: Text | None = None
    address: Text | None = None
    lat: Lat | None = None
    lng: Lng | None = None


class MemberAdded(msgspec.Struct):
    user_id: int


class OrganisationCreated(msgspec.Struct):
    id: int
    member_user_ids: list[int]


class Commitments(msgspec.Struct):
    wishes: Count | None = None
    volunteer_hours: Count | None = None
    resources: Count | None = None
    projects: Count | None = None


class TaskIn(msgspec.Struct):
    title: Filled
    due_on: date


class AgreementIn(msgspec.Struct):
    organisation_id: Id
    year: Year
    commitments: Commitments
    # Around the contract: the annual task list may come with the agreement.
    tasks: list[TaskIn] = []


class Created(msgspec.Struct):
    id: int


class Progress(msgspec.Struct):
    wishes: int
    volunteer_hours: int
    resources: int
    projects: int


class FullCommitments(msgspec.Struct):
    wishes: int
    volunteer_hours: int
    resources: int
    projects: int


class TaskOut(msgspec.Struct):
    id: int
    title: str
    due_on: date
    done: bool


class AgreementOut(msgspec.Struct):
    id: int
    community_id: int
    year: int
    commitments: FullCommitments
    progress: Progress
    organisation_id: int = 0
    community_name: str = ""
    tasks: list[TaskOut] = []


class AgreementsOut(msgspec.Struct):
    items: list[AgreementOut]


class ResourceIn(msgspec.Struct):
    community_id: Id
    title: Filled
    category: Filled
    description: Text | None = None


class NeedIn(msgspec.Struct):
    title: Filled
    category: Filled
    description: Text | None = None


class ProjectIn(msgspec.Struct):
    title: Filled
    owner_user_id: Id
    due_on: date
    need_ids: Annotated[list[Id], Meta(max_length=100)] | None = None
    resource_ids: Annotated[list[Id], Meta(max_length=100)] | None = None
    funding_goal_cents: Cents | None = None


class ProjectCreated(msgspec.Struct):
    id: int
    status: str


class ProjectStepIn(msgspec.Struct):
    status: Literal["in_progress", "done", "followed_up"]
    note: Filled


class ProjectStatusOut(msgspec.Struct):
    status: str


class ListItem(msgspec.Struct):
    id: int
    title: str
    status: str
    category: str = ""
    organisation_id: int | None = None
    organisation_name: str | None = None
    due_on: date | None = None
    funding_goal_cents: int | None = None


class ListOut(msgspec.Struct):
    items: list[ListItem]


class RegistrationIn(msgspec.Struct):
    community_id: Id
    organisation_id: Id


class RegistrationOut(msgspec.Struct):
    id: int
    status: str


class DecisionIn(msgspec.Struct):
    decision: Literal["confirm", "reject"]
