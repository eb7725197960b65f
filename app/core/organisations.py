"""What a domain may ask about organisations (partner units, providers) without importing the
domain that keeps them. The assembly (app.domains) fills this seam with the organisations
domain's answers; a domain below it (micro-wishes, and later the service circle) only asks.

    await organisations.may_act_in(session, organisation_id, community_id) -> bool
    await organisations.is_member(session, organisation_id, user_id) -> bool
    await organisations.of_user(session, user_id) -> list[OrganisationRef]
    await organisations.acting_in(session, organisation_id) -> list[int]  (where it may act now)
    await organisations.serves_in(session, user_id, community_id) -> bool  (a confirmed 双报到)

and, for the service circle, on a session or a request's asyncpg connection (`db`):

    await organisations.providers(db, ids) -> dict[int, ProviderRef]   # only kind `provider`
    await organisations.providers_in(db, community_id) -> list[ProviderRef]  # that may act there
    await organisations.acts_for(db, user_id) -> dict[int, bool]  # organisation id -> is its admin
    await organisations.set_place(session, actor_id, organisation_id, address, lat, lng, category=None)

A statement that must ask inside itself (a voucher's redemption, a purchase) reads the same
answers from two SQL functions of migration 0034, which the partners' answers read too:
`organisation_acted_for(user)` (organisation_id, is_admin) and `organisation_may_act(organisation,
community, at)` (a row when it may act there at that instant). PostgreSQL inlines both.

Until it is filled (a process that never assembled the app) every answer is "no": nobody acts
for an organisation that nobody said exists. The partners give their answers at the import of
`app.partners.answers`, which the assembly makes (app.domains.connect_organisations).

Other domains add to what an organisation is, each at the import of its own module (the
assembly imports `app.<domain>.partner_progress` and `app.<domain>.partner_office`):

    counts_progress("wishes", counter)  # counts an agreement's commitment (app.partners.progress)
    office_part(kind)(hook)  # a section of the office page of an organisation of that kind
    category_words_by(hook)  # how a stored category reads (the service circle knows its codes)

and the partners' pages ask `category_words(stored, gettext)` for the words to show."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class OrganisationRef:
    id: int
    name: str
    kinds: tuple[str, ...] = ()  # partner, provider


@dataclass(frozen=True)
class ProviderRef:
    """A provider of the service circle as other domains see it."""

    id: int
    community_id: int  # its home community
    name: str
    category: str
    address: str
    lat: float | None
    lng: float | None


MayAct = Callable[[AsyncSession, int, int], Awaitable[bool]]
IsMember = Callable[[AsyncSession, int, int], Awaitable[bool]]
OfUser = Callable[[AsyncSession, int], Awaitable[list[Any]]]
ServesIn = Callable[[AsyncSession, int, int], Awaitable[bool]]
ActingIn = Callable[[AsyncSession, int], Awaitable[list[int]]]
Providers = Callable[[Any, list[int]], Awaitable[dict[int, ProviderRef]]]
ProvidersIn = Callable[[Any, int], Awaitable[list[ProviderRef]]]
ActsFor = Callable[[Any, int], Awaitable[dict[int, bool]]]
SetPlace = Callable[..., Awaitable[None]]  # as set_place below


@dataclass
class _Answers:
    may_act_in: MayAct | None = None
    is_member: IsMember | None = None
    of_user: OfUser | None = None
    serves_in: ServesIn | None = None
    acting_in: ActingIn | None = None
    providers: Providers | None = None
    providers_in: ProvidersIn | None = None
    acts_for: ActsFor | None = None
    set_place: SetPlace | None = None


_answers = _Answers()


def provide(
    *,
    may_act_in: MayAct,
    is_member: IsMember,
    of_user: OfUser,
    serves_in: ServesIn | None = None,
    acting_in: ActingIn | None = None,
) -> None:
    """Called once by the assembly. `of_user` returns objects with `organisation_id`, `name`
    and `kinds`."""
    _answers.may_act_in = may_act_in
    _answers.is_member = is_member
    _answers.of_user = of_user
    _answers.serves_in = serves_in
    _answers.acting_in = acting_in


def provide_providers(
    *, providers: Providers, providers_in: ProvidersIn, acts_for: ActsFor, set_place: SetPlace
) -> None:
    """Called once by the assembly: the service circle's questions."""
    _answers.providers = providers
    _answers.providers_in = providers_in
    _answers.acts_for = acts_for
    _answers.set_place = set_place


async def may_act_in(session: AsyncSession, organisation_id: int, community_id: int) -> bool:
    if _answers.may_act_in is None:
        return False
    return await _answers.may_act_in(session, organisation_id, community_id)


async def is_member(session: AsyncSession, organisation_id: int, user_id: int) -> bool:
    if _answers.is_member is None:
        return False
    return await _answers.is_member(session, organisation_id, user_id)


async def of_user(session: AsyncSession, user_id: int) -> list[OrganisationRef]:
    if _answers.of_user is None:
        return []
    return [
        OrganisationRef(o.organisation_id, o.name, tuple(o.kinds))
        for o in await _answers.of_user(session, user_id)
    ]


async def acting_in(session: AsyncSession, organisation_id: int) -> list[int]:
    """The communities the organisation may act in now (each as may_act_in would answer)."""
    if _answers.acting_in is None:
        return []
    return await _answers.acting_in(session, organisation_id)


async def serves_in(session: AsyncSession, user_id: int, community_id: int) -> bool:
    """Whether the user is an in-service member (在职党员) whose registration with the community
    its admin confirmed: they serve there as a person, like a volunteer."""
    if _answers.serves_in is None:
        return False
    return await _answers.serves_in(session, user_id, community_id)


async def providers(db: Any, ids: list[int]) -> dict[int, ProviderRef]:
    """The organisations of kind `provider` among `ids`, by id."""
    if _answers.providers is None or not ids:
        return {}
    return await _answers.providers(db, ids)


async def providers_in(db: Any, community_id: int) -> list[ProviderRef]:
    """The providers that may act in the community now, by name."""
    if _answers.providers_in is None:
        return []
    return await _answers.providers_in(db, community_id)


async def acts_for(db: Any, user_id: int) -> dict[int, bool]:
    """The organisations the user is a member of: id -> whether they are its admin."""
    if _answers.acts_for is None:
        return {}
    return await _answers.acts_for(db, user_id)


async def set_place(
    session: AsyncSession,
    actor_id: int,
    organisation_id: int,
    address: str,
    lat: float | None,
    lng: float | None,
    *,
    category: str | None = None,
) -> None:
    """Sets where an organisation is, and its category unless None (the caller has checked the
    actor's right to)."""
    if _answers.set_place is None:
        return
    await _answers.set_place(session, actor_id, organisation_id, address, lat, lng, category=category)


# ---------------------------------------------------------------- what other domains add

# await counter(session, organisation_id=, community_id=, start=, end=, user_ids=) -> int
ProgressCounter = Callable[..., Awaitable[int]]
# (session, actor, organisation_id, community ids where it may act now) -> a part
# (`template` and `context`), or None
OfficeHook = Callable[[AsyncSession, Any, int, list[int]], Awaitable[Any]]

_progress_counters: dict[str, ProgressCounter] = {}
# each hook with the kind of organisation (partner, provider) whose office page shows its section
_office_parts: list[tuple[str, OfficeHook]] = []


def counts_progress(name: str, counter: ProgressCounter | None) -> None:
    """Makes `counter` the one that counts an agreement's commitment `name` (None: none does)."""
    if counter is None:
        _progress_counters.pop(name, None)
    else:
        _progress_counters[name] = counter


def progress_counter(name: str) -> ProgressCounter | None:
    return _progress_counters.get(name)


def office_part(kind: str) -> Callable[[OfficeHook], OfficeHook]:
    """Registers a section of the office page of an organisation of the `kind` (partner,
    provider), once: a provider's members see no partner unit's wishes, and a partner unit no
    shop."""

    def register(hook: OfficeHook) -> OfficeHook:
        if (kind, hook) not in _office_parts:
            _office_parts.append((kind, hook))
        return hook

    return register


def office_parts(kinds: Iterable[str]) -> tuple[OfficeHook, ...]:
    """The sections of an organisation of these kinds, in the order registered."""
    wanted = set(kinds)
    return tuple(hook for kind, hook in _office_parts if kind in wanted)


# (stored category, gettext) -> the words a reader sees
CategoryWords = Callable[[str, Callable[[str], str]], str]
_category_words: list[CategoryWords] = []


def category_words_by(hook: CategoryWords) -> CategoryWords:
    """Registers how a stored category reads; the last registered decides."""
    _category_words[:] = [hook]
    return hook


def category_words(stored: str, gettext: Callable[[str], str]) -> str:
    """A stored category in the reader's words; as it is while nobody registered a hook."""
    return _category_words[0](stored, gettext) if _category_words else stored
