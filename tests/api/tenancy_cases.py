"""The attacks of the route-table tenancy test (test_tenancy_by_route.py): for a route, the
path filled with B's ids (and A's community beside B's thing), the body every route reads what
it needs from, and the cases that send B's ids in a body to A's own routes."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tests.api import tenancy_world
from tests.api.tenancy_world import TenancyWorld

PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass
class Case:
    method: str
    path: str  # the route's path
    filled: str  # the path as sent
    body: dict[str, Any] | None = None
    # What a refusal may answer besides 403/404 (a body naming another community's thing in the
    # caller's own community: 422 validation_error, or 409).
    also: tuple[int, ...] = ()
    label: str = ""
    echo: str = ""  # what the request itself sent, which the answer may show

    @property
    def api(self) -> bool:
        return self.filled.startswith("/api/")


def fill(path: str, values: dict[str, Any]) -> str:
    return PARAM.sub(lambda m: str(values[m.group(1)]), path)


def values_for(world: TenancyWorld, path: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    v = dict(values or world.theirs.values)
    if path.startswith("/circle/photos/"):
        v["photo_id"] = v["circle_photos"]
    if path.startswith("/api/v1/organisations/") and path.endswith(("/statements", "/offers")):
        v["organisation_id"] = v["provider_id"]  # a provider's
    v["file"] = "hours.csv" if "/exports/" in path else "residents.csv"
    return v


def api_body(world: TenancyWorld, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """One body every JSON route reads what it needs from (msgspec ignores the rest), naming
    B's things wherever a field names something."""
    b = values or world.theirs.values
    return {
        "title": "入侵",
        "name": "入侵",
        "description": "入侵",
        "display_name": "入侵",
        "note": "入侵",
        "reason": "入侵",
        "phone": "139" + str(secrets.randbelow(10**8)).zfill(8),
        "password": "taken-over-1",
        "roles": ["admin"],
        "points": 1,
        "points_price": 1,
        "stock": 1,
        "quantity": 1,
        "stars": 5,
        "amount_cents": 100,
        "year": date.today().year,
        "commitments": {},
        "kinds": ["partner"],
        "members": [{"phone": "139" + str(secrets.randbelow(10**8)).zfill(8), "display_name": "入侵"}],
        "decision": "reject",
        "status": "done",
        "category": "other",
        "starts_at": "2030-01-01T09:00:00+08:00",
        "ends_at": "2030-01-01T10:00:00+08:00",
        "capacity": 5,
        "points_per_attendance": 1,
        "points_per_hour": 1,
        "due_on": "2030-01-01",
        "idempotency_key": tenancy_world.key(),
        "user_id": b["user_id"],
        "owner_user_id": b["user_id"],
        "for_user_id": b["user_id"],
        "item_id": b["item_id"],
        "offer_id": b["offer_id"],
        "organisation_id": b["organisation_id"],
        "community_id": b["community_id"],
        "event_id": b["event_id"],
        **tenancy_world.import_body(),
    }


def form_body(world: TenancyWorld, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The same for page forms: every field a form may read, B's ids where a field names one."""
    b = values or world.theirs.values
    return {
        "confirm": "1",
        "consent_note": "入侵",
        "title": "入侵",
        "name": "入侵",
        "description": "入侵",
        "display_name": "入侵",
        "note": "入侵",
        "reason": "入侵",
        "password": "taken-over-1",
        "roles": "admin",
        "points": "1",
        "points_price": "1",
        "stock": "1",
        "quantity": "1",
        "stars": "5",
        "amount": "1",
        "amount_cents": "100",
        "year": str(date.today().year),
        "decision": "reject",
        "category": "other",
        "headcount": "1",
        "starts_at": "2030-01-01T09:00",
        "ends_at": "2030-01-01T10:00",
        "due_on": "2030-01-01",
        "nonce": tenancy_world.key(),
        "user_id": str(b["user_id"]),
        "owner_user_id": str(b["user_id"]),
        "for_user_id": str(b["user_id"]),
        "item_id": str(b["item_id"]),
        "organisation_id": str(b["organisation_id"]),
        "community_id": str(b["community_id"]),
        "compound_id": str(b["compound_id"]),
        "building_id": str(b["building_id"]),
        "transfer_id": str(b["transfer_id"]),
        "event_id": str(b["event_id"]),
        "checkin_id": str(b["checkin_id"]),
        "claim_id": str(b["claim_id"]),
    }


def last_month() -> str:
    first = date.today().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


# What a route needs beyond its path and the common body to reach its rights check: a query
# string, or fields of its own (a code to redeem, a month to close).
EXTRA: dict[tuple[str, str], Callable[[dict[str, Any]], dict[str, Any]]] = {
    ("GET", "/api/v1/organisations/{organisation_id:int}/statements"): lambda v: {
        "?": f"month={last_month()}"
    },
    ("GET", "/circle/admin/c/{community_id:int}/statements/{provider_id:int}"): lambda v: {
        "?": f"month={last_month()}"
    },
    ("POST", "/circle/admin/c/{community_id:int}/statements/{provider_id:int}"): lambda v: {
        "month": last_month()
    },
    ("GET", "/circle/admin/c/{community_id:int}/statements.csv"): lambda v: {"?": f"month={last_month()}"},
    ("GET", "/circle/admin/c/{community_id:int}/statements.xlsx"): lambda v: {"?": f"month={last_month()}"},
    ("POST", "/circle/vouchers/{voucher_id:int}/redeem"): lambda v: {"code": v["voucher_code"]},
    ("POST", "/circle/shop/{provider_id:int}/scan"): lambda v: {"code": v["voucher_code"]},
}


def _case(
    method: str,
    path: str,
    values: dict[str, Any],
    body: dict[str, Any],
    label: str,
    own: dict[str, Any] | None = None,
) -> Case:
    extra = dict(EXTRA.get((method, path), lambda v: {})(values))
    query = extra.pop("?", "")
    filled = fill(path, values) + (f"?{query}" if query else "")
    return Case(
        method, path, filled, {**body, **extra, **(own or {})} if method == "POST" else None, label=label
    )


def cases_for(
    world: TenancyWorld, method: str, path: str, values: dict[str, Any] | None = None
) -> list[Case]:
    """B's ids (or `values`) in the path; where the path names several things by id, also A's
    first ones with B's last ones (A's community with B's resident; A's community and resident
    with B's honour; A's organisation with B's member)."""
    v = values_for(world, path, values)
    body = api_body(world) if path.startswith("/api/") else form_body(world)
    out = [_case(method, path, v, body, "theirs")]
    if values is not None:
        return out
    if method == "POST":
        # B's thing in the path, the caller's own things in the body (a unit of A claiming B's
        # wish for itself, a resource of A's unit listed in B).
        own = (
            api_body(world, world.mine.values)
            if path.startswith("/api/")
            else form_body(world, world.mine.values)
        )
        out.append(_case(method, path, v, own, "theirs+own body"))
    ids = [p for p in PARAM.findall(path) if p.endswith("_id")]
    mine = values_for(world, path, world.mine.values)
    for j in range(1, len(ids)):
        mixed = {**v, **{p: mine[p] for p in ids[:j]}}
        out.append(_case(method, path, mixed, body, "mine+theirs"))
    return out


BODY_ROUTES = {
    ("POST", "/api/v1/communities/{community_id:int}/awards"),
    ("POST", "/api/v1/communities/{community_id:int}/deductions"),
    ("POST", "/api/v1/communities/{community_id:int}/holds"),
    ("POST", "/api/v1/communities/{community_id:int}/events"),
    ("POST", "/api/v1/communities/{community_id:int}/residents"),
    ("POST", "/api/v1/communities/{community_id:int}/projects"),
    ("POST", "/api/v1/communities/{community_id:int}/wishes"),
    ("POST", "/api/v1/organisations/{organisation_id:int}/resources"),
    ("POST", "/api/v1/organisations/{organisation_id:int}/offers"),
    ("POST", "/api/v1/orders"),
    ("POST", "/api/v1/vouchers"),
    ("POST", "/api/v1/wishes/{wish_id:int}/claim"),
    ("POST", "/api/v1/registrations"),
    ("POST", "/api/v1/scans"),
    ("POST", "/admin/c/{community_id:int}/residents"),
    ("POST", "/admin/c/{community_id:int}/ledger"),
    ("POST", "/admin/c/{community_id:int}/events"),
    ("POST", "/admin/c/{community_id:int}/compounds"),
    ("POST", "/admin/c/{community_id:int}/buildings"),
    ("POST", "/events/{event_id:int}/signup-for"),
    ("POST", "/store/c/{community_id:int}/order"),
    ("POST", "/partners/c/{community_id:int}/projects"),
    ("POST", "/partners/o/{organisation_id:int}/resources"),
    ("POST", "/partners/register"),
    ("POST", "/c/{community_id:int}/wishes"),
    ("POST", "/wishes/{wish_id:int}/step"),
    ("POST", "/scan"),
    ("POST", "/circle/shop/{provider_id:int}/scan"),
    ("POST", "/circle/c/{community_id:int}/for-resident"),
    ("POST", "/admin/c/{community_id:int}/approvals"),
    ("POST", "/store/c/{community_id:int}/counter/{user_id:int}"),
    ("POST", "/events/{event_id:int}/edit"),
    ("POST", "/api/v1/communities/{community_id:int}/admins"),
    ("POST", "/street/{street_id:int}/c/{community_id:int}/admins"),
}
# Routes that read an id from their body or form and may name another community's thing there
# by design: why.
BODY_EXEMPT: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/communities/{community_id:int}/agreements"): "an agreement is how a partner unit "
    "of another community comes to act in this one (API.md: it may act where it has this year's "
    "agreement); the admin signs it in their own community and changes nothing of the unit's",
    ("POST", "/partners/admin/c/{community_id:int}/agreements"): "the same agreement, from the page",
    # The ids these handlers name are their own rows' fields (a payment's goal, a resident's
    # answer), not read from the request: their path's ids are attacked.
    ("GET", "/api/v1/communities/{community_id:int}/residents/{user_id:int}"): "names only its path's ids",
    (
        "POST",
        "/api/v1/communities/{community_id:int}/residents/{user_id:int}/roles",
    ): "names only its path's ids",
    ("GET", "/payments/admin/payments/{payment_id:int}/refund"): "reads the payment row's goal",
    ("POST", "/payments/admin/payments/{payment_id:int}/refund"): "reads the payment row's goal",
    ("POST", "/payments/admin/payments/{payment_id:int}/ask-again"): "reads the payment row's goal",
    ("POST", "/circle/vouchers/{voucher_id:int}/redeem"): "names only its path's voucher (and its code)",
    ("GET", "/wallet/statement"): "names only the community asked for (?community_id=), which "
    "admin.community_of holds to the resident's own, as on /wallet; its page's words name it",
}


async def body_cases(client: Any, world: TenancyWorld) -> list[Case]:
    a = {**world.mine.values}
    b = world.theirs.values
    kiosk = (
        await client.get(
            f"/api/v1/events/{b['event_id']}/code?action=checkin",
            headers=world.theirs.people["admin"].headers,
        )
    ).json()["code"]
    delivery = (
        await client.get(
            f"/api/v1/wishes/{b['claimed_wish_id']}/delivery-code",
            headers=world.theirs.people["partner"].headers,
        )
    ).json()["code"]
    api, forms = api_body(world), form_body(world)
    out: list[Case] = []

    def add(
        method: str, path: str, body: dict[str, Any], *also: int, values: dict[str, Any] | None = None
    ) -> None:
        base = api if path.startswith("/api/") else forms
        case = _case(method, path, values or a, base, "body", body)
        case.also = also
        out.append(case)

    c = "/api/v1/communities/{community_id:int}"
    add("POST", c + "/awards", {"idempotency_key": tenancy_world.key()}, 422)
    add("POST", c + "/deductions", {"idempotency_key": tenancy_world.key()}, 422)
    add("POST", c + "/holds", {"idempotency_key": tenancy_world.key()}, 422)
    add("POST", c + "/events", {"organiser_ids": [b["user_id"]]}, 422)
    add("POST", c + "/residents", {"compound_id": b["compound_id"], "building_id": b["building_id"]}, 422)
    add("POST", c + "/projects", {"need_ids": [b["need_id"]], "owner_user_id": a["user_id"]}, 422)
    add("POST", c + "/projects", {"resource_ids": [b["resource_id"]], "owner_user_id": a["user_id"]}, 422)
    add("POST", c + "/projects", {"owner_user_id": b["user_id"]}, 422)
    add("POST", c + "/wishes", {"for_user_id": b["user_id"]}, 422)
    # A's street admin makes nobody of B's street an admin of A's community.
    add("POST", c + "/admins", {"user_id": b["user_id"]}, 422)
    add("POST", "/street/{street_id:int}/c/{community_id:int}/admins", {"user_id": b["user_id"]}, 422)
    add(
        "POST",
        "/api/v1/organisations/{organisation_id:int}/resources",
        {"community_id": b["community_id"]},
        422,
    )
    add(
        "POST",
        "/api/v1/organisations/{organisation_id:int}/offers",
        {"community_id": b["community_id"]},
        422,
        values={**a, "organisation_id": a["provider_id"]},
    )
    add("POST", "/api/v1/orders", {"item_id": b["item_id"]}, 422)
    add("POST", "/api/v1/orders", {"item_id": a["item_id"], "user_id": b["user_id"]}, 422)
    add("POST", "/api/v1/vouchers", {"offer_id": b["offer_id"]}, 422)
    add("POST", "/api/v1/vouchers", {"offer_id": a["offer_id"], "user_id": b["user_id"]}, 422)
    add("POST", "/api/v1/wishes/{wish_id:int}/claim", {"organisation_id": b["organisation_id"]}, 409, 422)
    # An in-service member (双报到) registers with a community they belong to, naming the unit
    # they work for wherever it is (by design); with a community they do not belong to, refused.
    add(
        "POST",
        "/api/v1/registrations",
        {"community_id": b["community_id"], "organisation_id": a["organisation_id"]},
        422,
    )
    # B's codes scanned in A (API.md: a kiosk code of another community's event, a voucher of
    # another provider, a delivery code of a wish not one's own, a pickup code of another
    # community's counter are `forbidden`). Nothing changes; the scan log keeps the refusal.
    for code in (kiosk, b["voucher_code"], b["pickup_code"], delivery):
        add("POST", "/api/v1/scans", {"code": code, "event_id": None, "action": None})
        add("POST", "/scan", {"code": code, "event_id": ""})
    add("POST", "/circle/shop/{provider_id:int}/scan", {"code": b["voucher_code"]})
    p = "/admin/c/{community_id:int}"
    add("POST", p + "/residents", {"compound_id": b["compound_id"], "building_id": ""}, 422)
    add("POST", p + "/residents", {"compound_id": a["compound_id"], "building_id": b["building_id"]}, 422)
    add("POST", p + "/ledger", {"action": "award"}, 422)
    add("POST", p + "/ledger", {"action": "reverse"}, 422)
    add("POST", p + "/events", {"organiser_ids": str(b["user_id"]), "compound_id": b["compound_id"]}, 422)
    add("POST", p + "/compounds", {"compound_id": b["compound_id"]}, 422)
    add("POST", p + "/buildings", {"compound_id": b["compound_id"]}, 422)
    add("POST", "/events/{event_id:int}/signup-for", {"user_id": b["user_id"]}, 422)
    add("POST", "/store/c/{community_id:int}/order", {"item_id": b["item_id"]}, 422)
    add(
        "POST",
        "/partners/c/{community_id:int}/projects",
        {"need_ids": b["need_id"], "owner_user_id": a["user_id"]},
        422,
    )
    add(
        "POST",
        "/partners/c/{community_id:int}/projects",
        {"resource_ids": b["resource_id"], "owner_user_id": a["user_id"]},
        422,
    )
    add("POST", "/partners/c/{community_id:int}/projects", {"owner_user_id": b["user_id"]}, 422)
    add("POST", "/partners/o/{organisation_id:int}/resources", {"community_id": b["community_id"]}, 422)
    add(
        "POST",
        "/partners/register",
        {"community_id": b["community_id"], "organisation_id": a["organisation_id"]},
        422,
    )
    add("POST", "/c/{community_id:int}/wishes", {"for_user_id": b["user_id"]}, 422)
    add(
        "POST",
        "/wishes/{wish_id:int}/step",
        {"step": "claim", "organisation_id": b["organisation_id"]},
        409,
        422,
    )
    add(
        "POST",
        "/circle/c/{community_id:int}/for-resident",
        {"user_id": b["user_id"], "offer_id": a["offer_id"]},
        422,
    )
    add(
        "POST",
        "/circle/c/{community_id:int}/for-resident",
        {"user_id": a["user_id"], "offer_id": b["offer_id"]},
        422,
    )
    for action in ("approve", "reject", "adjust"):
        add("POST", p + "/approvals", {"action": action, "checkin_id": b["checkin_id"]}, 422)
    add("POST", p + "/approvals", {"action": "bulk", "checkin_ids": b["checkin_id"]}, 422)
    for action in ("claim_approve", "claim_reject"):
        add("POST", p + "/approvals", {"action": action, "claim_id": b["claim_id"]}, 422)
    add("POST", p + "/approvals", {"action": "honour", "user_id": b["user_id"]}, 422)
    add("POST", "/store/c/{community_id:int}/counter/{user_id:int}", {"item_id": b["item_id"]}, 422)
    add("POST", "/events/{event_id:int}/edit", {"organiser_ids": str(b["user_id"])}, 422)
    add("POST", "/events/{event_id:int}/edit", {"compound_id": b["compound_id"]}, 422)
    # Ids and names in a query string, on A's own pages: ignored or refused, never B's data.
    name = world.theirs.people["resident"].display_name
    for path, query in (
        ("/api/v1/me/wallet", f"community_id={b['community_id']}"),
        ("/api/v1/me/transfers", f"community_id={b['community_id']}"),
        ("/wallet", f"community_id={b['community_id']}"),
        ("/wallet/statement", f"community_id={b['community_id']}"),
        ("/admin/c/{community_id:int}/residents", f"compound={b['compound_id']}&building={b['building_id']}"),
        ("/admin/c/{community_id:int}/residents", f"q={name}"),
        ("/admin/c/{community_id:int}/ledger", f"user={b['user_id']}&q={name}"),
        ("/admin/c/{community_id:int}/approvals", f"q={name}"),
        ("/admin/c/{community_id:int}/events/new", f"copy={b['event_id']}&who={b['user_id']}"),
        ("/events/{event_id:int}/edit", f"who={b['user_id']}"),
        ("/events/{event_id:int}/signup-for", f"q={name}"),
        ("/scan", f"event_id={b['event_id']}&action=checkin"),
        ("/circle/offers/{offer_id:int}/buy", f"for_user={b['user_id']}"),
        (
            "/api/v1/organisations/{organisation_id:int}/statements",
            f"month={last_month()}&community_id={b['community_id']}",
        ),
    ):
        values = {**a, "organisation_id": a["provider_id"]}
        echo = name if name in query else ""  # a search box shows what was typed
        out.append(
            Case("GET", path, fill(path, values) + "?" + query, also=(200, 422), label="query", echo=echo)
        )
    return out
