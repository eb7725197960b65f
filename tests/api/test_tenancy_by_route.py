"""Every route that names something by id, in its path or in its body, attacked from another
community: route-table driven, so a new route is covered by construction.

Community B ("theirs", tests/api/tenancy_world.py) holds one of everything; each role of
community A (its admin, a resident, a grid worker, a partner unit's member, a provider's member,
and the street admin of A's street, which is not B's) calls every GET and POST route of the app
with B's ids in its path (then with A's first ids beside B's last ones, and with A's own ids in
the body of a POST), and the routes that take ids in a body, form or query with B's ids there.
Each answer must be a refusal: 403 or 404 in API.md's shape on /api/v1, a page saying so
(403/404) elsewhere; never a 500, never B's data (every name in B carries MARK). And nothing may
change: the rows of both communities (their people, organisations and everything that carries
their community's id) are compared before and after each call, and the ledger's invariants hold
for both at the end.

A route with an id in its path and no case here fails test_every_id_route_has_a_case; the routes
that are not a tenant's (open to anyone, or reached by a secret in the address) are listed in
NOT_SCOPED, each with its reason, and checked to be open to a person signed in nowhere.

Within A too: a resident reaches none of another resident's things, and a member of a partner
unit (provider) acts for no other unit (provider) of the community."""

from __future__ import annotations

import inspect
import os
import re
import typing
from typing import Any

import msgspec
import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import domains
from app.circle import photos as circle_photos
from app.core import jobs
from app.ledger.verify import run_checks
from app.store import photos as store_photos
from tests.api import tenancy_world
from tests.api.tenancy_cases import (
    BODY_EXEMPT,
    BODY_ROUTES,
    PARAM,
    Case,
    body_cases,
    cases_for,
    fill,
    values_for,
)
from tests.api.tenancy_snapshot import snapshot_sql, take
from tests.api.tenancy_world import MARK, ROLES_OF_A, TenancyWorld
from tests.conftest import Factory
from tests.served_jobs import served_tick

# Routes with an id in their path that are no tenant's: (method, path) -> why.
NOT_SCOPED: dict[tuple[str, str], str] = {
    ("GET", "/c/{community_id:int}/wall"): "the public results wall (API.md): anyone, signed in or not",
    ("GET", "/c/{community_id:int}/wall/photos/{story_id:int}"): "a shown story's photo on the public wall",
    (
        "GET",
        "/verify/{token:str}",
    ): "a volunteer certificate's check: the signed token is the right to read it",
    ("GET", "/offline-stripe/pay/{checkout_session:str}"): "the offline test Stripe's payment page: "
    "reached by the Checkout session's secret id, as Stripe's own page is",
    ("POST", "/offline-stripe/pay/{checkout_session:str}"): "the offline test Stripe's payment page",
    ("GET", "/offline-stripe/v1/checkout/sessions/{session_id:str}"): "the offline test Stripe's API",
    ("GET", "/static/{file_path:path}"): "the app's own files",
    ("GET", "/schema/{path:str}"): "the OpenAPI document",
    (
        "GET",
        "/c/{community_id:int}/wish-pool",
    ): "the public wish pool (邻+圆梦池): published wishes, for anyone",
    ("GET", "/fund/wish/{wish_id:int}"): "a wish's funding page: a donation form open to anyone",
    ("POST", "/fund/wish/{wish_id:int}"): "a donation to a wish, open to anyone",
    ("GET", "/fund/project/{project_id:int}"): "a project's funding page: a donation form open to anyone",
    ("POST", "/fund/project/{project_id:int}"): "a donation to a project, open to anyone",
    ("POST", "/api/v1/wishes/{wish_id:int}/donations"): "a donation to a wish, open to anyone",
    ("POST", "/api/v1/projects/{project_id:int}/donations"): "a donation to a project, open to anyone",
}


def routes(app: Any) -> list[tuple[str, str, Any]]:
    out = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods or ()):
                if method in ("GET", "POST"):
                    out.append((method, route.path, handler))
    return sorted(out, key=lambda r: (r[1], r[0]))


def id_routes(app: Any) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _h in routes(app) if PARAM.search(p)]


def body_id_fields(handler: Any) -> list[str]:
    """The id fields of a JSON route's body, or of the form its page handler reads."""
    names: list[str] = []
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is not None:
        for struct in (data.annotation, *typing.get_args(data.annotation)):
            if isinstance(struct, type) and issubclass(struct, msgspec.Struct):
                names += [f for f in struct.__struct_fields__ if f.endswith(("_id", "_ids"))]
    source = inspect.getsource(handler.fn)
    names += re.findall(r"""["'](\w+_ids?)["']""", source)
    return sorted(set(names))


# Routes whose body or form names something by id, sent in A's own community (or naming no
# community) with B's ids in that body.
async def all_cases(client: Any, app: Any, world: TenancyWorld) -> list[Case]:
    out: list[Case] = []
    for method, path in id_routes(app):
        if (method, path) in NOT_SCOPED:
            continue
        out += cases_for(world, method, path)
    # The body cases first, the scans of rotating codes (a kiosk's, a delivery's: accepted for
    # 30 s) before the rest: on a busy machine the walk of one role takes longer than that.
    made = await body_cases(client, world)
    made.sort(key=lambda c: "scan" not in c.filled)
    return made + out


@pytest.fixture(scope="module")
async def tenancy(started: Any, engine: Any, settings: Any) -> Any:
    """The world on the test process's started app (tests/conftest.py `started`): starting the
    same app a second time beside it would run its pools on two event loops at once."""
    world = await tenancy_world.build(started, Factory(engine), engine, settings.uploads_dir)
    await run_every_job(engine)
    snap = await snapshot_sql(engine, world)
    yield started, world, snap


async def run_every_job(engine: Any) -> None:
    """Every periodic job once, as the session's live server runs them by the wall clock while
    the sweep runs (tests/served_jobs.py). Run before the snapshot, it settles the world: a held
    order told it is ready, say, so that a served run in the middle of a case is not taken for
    the case's doing."""
    domains.load_jobs()
    for job in jobs.registered().values():
        await served_tick(engine, job.func)


# ---------------------------------------------------------------- the tests


async def test_served_jobs_leave_the_world_as_it_is(tenancy: Any, engine: Any) -> None:
    """What a served app's jobs would still do to the world: nothing, or the sweep would blame a
    case for a job's row (an order's ready notice written while a case ran)."""
    _, _, snap = tenancy
    before = await take(engine, snap)
    await run_every_job(engine)
    assert await take(engine, snap) == before


async def test_every_id_route_has_a_case(tenancy: Any, app: Any) -> None:
    """By construction: a route with an id in its path is attacked (cases_for fills it from B's
    values) unless NOT_SCOPED says why not; a route whose body or form names something by id has
    body cases (BODY_ROUTES) unless BODY_EXEMPT says why not. A new route with a parameter B has
    no value for, or a new body id field, fails here until it is given one."""
    client, world, _snap = tenancy
    table = {(m, p): h for m, p, h in routes(app)}
    stale = [key for key in (*NOT_SCOPED, *BODY_ROUTES, *BODY_EXEMPT) if key not in table]
    assert stale == [], f"listed routes the app no longer has: {stale}"
    unfilled = []
    for method, path in id_routes(app):
        if (method, path) not in NOT_SCOPED:
            try:
                cases_for(world, method, path)
            except KeyError as exc:
                unfilled.append(f"{method} {path}: add a value for {exc} to tenancy_world")
    assert unfilled == []
    with_ids = {key for key, handler in table.items() if body_id_fields(handler)}
    missing = sorted(with_ids - set(BODY_ROUTES) - set(BODY_EXEMPT))
    assert missing == [], f"routes reading ids from their body with no body case: {missing}"
    made = {(c.method, c.path) for c in await body_cases(client, world)}
    assert sorted(BODY_ROUTES - made) == [], "BODY_ROUTES without a case in body_cases"
    assert sorted(set(BODY_ROUTES) & set(BODY_EXEMPT)) == [], "a body route both attacked and exempt"


async def _send(client: Any, world: TenancyWorld, role: str, case: Case) -> Any:
    return await _send_as(client, world.mine, world, role, case)


async def _send_as(client: Any, side: Any, world: TenancyWorld, role: str, case: Case) -> Any:
    if case.api:
        headers = side.people[role].headers
        if case.method == "GET":
            return await client.get(case.filled, headers=headers)
        return await client.post(case.filled, headers=headers, json=case.body)
    headers = {"Cookie": f"jl_session={side.cookies[role]}; jl_csrf={world.csrf_cookie}"}
    if case.method == "GET":
        return await client.get(case.filled, headers=headers, follow_redirects=False)
    return await client.post(
        case.filled,
        headers=headers,
        data={**(case.body or {}), "_csrf_token": world.csrf_token},
        follow_redirects=False,
    )


def judge(case: Case, answer: Any, marks: tuple[str, ...] = (MARK,)) -> str | None:
    """What is wrong with the answer, or None for a proper refusal."""
    status = answer.status_code
    if status >= 500:
        return f"{status} server error"
    shown = answer.text.replace(case.echo, "") if case.echo else answer.text
    if any(mark in shown for mark in marks):
        return f"{status} shows what is not theirs"
    allowed = (403, 404, *case.also)
    if status not in allowed:
        return f"{status} not a refusal"
    if case.api:
        try:
            shape = answer.json()
        except ValueError:
            return f"{status} without API.md's error shape"
        if not {"status_code", "detail", "code"} <= set(shape):
            return f"{status} without API.md's error shape"
    elif "text/html" not in answer.headers.get("content-type", ""):
        return f"{status} not a page"
    return None


async def _sweep(
    client: Any,
    engine: Any,
    snap: Any,
    world: TenancyWorld,
    side: Any,
    role: str,
    cases: list[Case],
    marks: tuple[str, ...],
) -> list[str]:
    """Each case sent as the role of the side: what was wrong with each answer, and what changed."""
    problems: list[str] = []
    before = await take(engine, snap)
    for case in cases:
        answer = await _send_as(client, side, world, role, case)
        wrong = judge(case, answer, marks)
        after = await take(engine, snap)
        changed = sorted(t for t in after if after[t] != before.get(t))
        if changed:
            wrong = (wrong or f"{answer.status_code}") + f"; changed {changed}"
            before = after
        if wrong:
            if os.environ.get("TENANCY_DEBUG"):
                main = answer.text.split("<main", 1)[-1]
                wrong += " :: " + re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))[:400]
            problems.append(f"{role} {case.method} {case.filled} [{case.label}]: {wrong}")
    async with async_sessionmaker(engine)() as s:
        for cid in (world.mine.community_id, world.theirs.community_id):
            failed = [c.name for c in await run_checks(s, cid) if not c.ok]
            assert failed == [], (cid, failed)
    return problems


@pytest.mark.parametrize("role", ROLES_OF_A)
async def test_no_role_of_a_reaches_b(tenancy: Any, app: Any, engine: Any, role: str) -> None:
    client, world, snap = tenancy
    cases = await all_cases(client, app, world)
    problems = await _sweep(client, engine, snap, world, world.mine, role, cases, (MARK,))
    assert problems == [], "\n".join(problems)


# A resident's own things, by the parameter that names them: another resident of the same
# community reaches none of them (the wish is one not yet published, which only its owner and
# the community's staff read).
PERSONAL = {
    "order_id",
    "voucher_id",
    "notice_id",
    "payment_id",
    "hold_id",
    "user_id",
    "wish_id",
    "transfer_id",
}


async def test_a_resident_reaches_no_other_residents_things(tenancy: Any, app: Any, engine: Any) -> None:
    """A's resident owns an order, a voucher, a wish not yet published, a notice, a hold and a
    donation; A's other resident (a neighbour) calls every route that names one of them."""
    client, world, snap = tenancy
    a = world.mine.values
    owner = {**a, "wish_id": a["private_wish_id"]}
    cases = []
    for method, path in id_routes(app):
        if (method, path) in NOT_SCOPED or not PERSONAL & set(PARAM.findall(path)):
            continue
        for case in cases_for(world, method, path, owner):
            if case.label == "theirs":
                case.label = "neighbour's"
                cases.append(case)
    owner_marks = (
        world.mine.people["resident"].display_name,
        a["voucher_code"],
        a["pickup_code"],
        "未审心愿",
    )
    problems = await _sweep(client, engine, snap, world, world.mine, "neighbour", cases, owner_marks)
    assert problems == [], "\n".join(problems)


async def test_the_routes_open_to_anyone_show_no_ones_personal_data(tenancy: Any, app: Any) -> None:
    """NOT_SCOPED's pages are what their reasons say: open to a person signed in nowhere as to
    A's people, and none of them shows B's people's names or phone numbers, a donor's contact or
    the name of a donor who asked not to be named (a certificate's check names its holder: the
    token is theirs to hand out)."""
    client, world, _snap = tenancy
    b = world.theirs
    people = [p for r, p in b.people.items() if p.phone]
    names = [p.display_name for p in people if MARK in p.display_name]  # the admin's is a title, 管理员
    private = (
        *names,
        *(str(p.phone) for p in people),
        f"{MARK}联系",
        f"{MARK}捐款人",
    )
    shown = [
        path
        for method, path in NOT_SCOPED
        if method == "GET"
        and not path.startswith(("/static/", "/schema/", "/offline-stripe/", "/c/{community_id:int}/wall/"))
    ]
    assert shown, "no public page to check"
    for path in shown:
        url = fill(path, values_for(world, path))
        client.cookies.clear()
        anonymous = await client.get(url, follow_redirects=False)
        assert anonymous.status_code == 200, (path, anonymous.status_code)
        for role in ROLES_OF_A:
            case = Case("GET", path, url)
            answer = await _send(client, world, role, case)
            assert answer.status_code == 200, (path, role, answer.status_code)
            if not path.startswith("/verify/"):
                assert not [m for m in private if m in answer.text], (path, role)


# The parameters that name an organisation, or a member of one.
ORGANISATIONAL = {"organisation_id", "provider_id", "member_id"}


@pytest.mark.parametrize("kind", ["partner", "provider"])
async def test_a_member_acts_for_no_other_organisation(
    tenancy: Any, app: Any, engine: Any, kind: str
) -> None:
    """A member of one of A's partner units (providers) calls every route naming an organisation
    or its member, with the other unit (provider) of A in it, and acts on what is that other
    one's: its claimed wish's delivery code and release, its voucher scanned or redeemed, a wish
    claimed in its name."""
    client, world, snap = tenancy
    a, mine = world.mine.values, world.mine.people
    other = mine[f"other_{kind}_org"]
    theirs = {
        **a,
        "organisation_id": other.user_id,
        "provider_id": other.user_id,
        "member_id": mine[f"other_{kind}"].user_id,
        "wish_id": a["other_claimed_wish_id"],
        "voucher_id": a["other_voucher_id"],
        "voucher_code": a["other_voucher_code"],
    }
    cases = []
    for method, path in id_routes(app):
        if (method, path) in NOT_SCOPED or not ORGANISATIONAL & set(PARAM.findall(path)):
            continue
        cases += [c for c in cases_for(world, method, path, theirs) if c.label == "theirs"]
    body = {"organisation_id": other.user_id}
    if kind == "partner":
        wish = a["other_claimed_wish_id"]
        cases += [
            Case("GET", "", f"/api/v1/wishes/{wish}/delivery-code"),
            Case("POST", "", f"/api/v1/wishes/{wish}/release", {}),
            Case("POST", "", f"/api/v1/wishes/{a['wish_id']}/claim", body, also=(409, 422)),
            Case("POST", "", f"/wishes/{a['wish_id']}/step", {"step": "claim", **body}, also=(409, 422)),
            Case("POST", "", f"/wishes/{wish}/step", {"step": "release", "confirm": "1"}, also=(409, 422)),
        ]
    else:
        code = a["other_voucher_code"]
        cases += [
            Case("POST", "", "/api/v1/scans", {"code": code}),
            Case("POST", "", "/scan", {"code": code}),
            Case("POST", "", f"/circle/shop/{a['provider_id']}/scan", {"code": code}),
            Case("POST", "", f"/circle/vouchers/{a['other_voucher_id']}/redeem", {"code": code}),
        ]
    marks = (other.display_name, mine[f"other_{kind}"].display_name, a["other_voucher_code"])
    problems = await _sweep(client, engine, snap, world, world.mine, kind, cases, marks)
    assert problems == [], "\n".join(problems)


async def test_the_worlds_photo_files_are_images_as_the_app_stores_them(tenancy: Any, settings: Any) -> None:
    """The world's photo files sit among the app's own in the uploads folder, which the store's
    photo tests read, every file of it, as an image: plain bytes there failed those tests when
    they ran after this module, as in the whole suite."""
    _client, world, _snap = tenancy
    for side in (world.mine, world.theirs):
        for path in (
            store_photos.photo_path(settings.uploads_dir, side.values["store_photo_file"]),
            circle_photos.photo_path(settings.uploads_dir, side.values["circle_photo_file"]),
        ):
            assert Image.open(path).format == "JPEG", path
            assert side.name.encode() in path.read_bytes()  # what a wrong answer would show
