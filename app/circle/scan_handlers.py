"""The service circle's scan kinds, registered with app.scans.scanning at import:

- "JV1" and "digits": a voucher code (QR) or its 8 digits, scanned by a member of the voucher's
  provider (anyone else: forbidden, nothing changes). The API redeems at once; a preview (the
  shop page's scan, context "shop") shows the resident and the service first, with a big button.
  The 8 digits are shared with the store's pickup codes: each domain is asked in turn.
- "member@counter": a resident's member card scanned by a member of a provider (at the shop, or
  at the resident's home for a home visit): the holder's vouchers waiting at the scanner's shops,
  each with its redeem button, which the card proves as a voucher's code would. The store asks
  first (counter staff); a scanner who acts for no provider is not this domain's.
"""

from __future__ import annotations

from typing import Any

from app.accounts.member_cards import resolve_member_code
from app.circle import redeeming
from app.core import organisations
from app.core.authz import Actor
from app.core.codes import typed_code
from app.core.errors import Forbidden
from app.core.uow import Connection
from app.scans import scanning
from app.scans import services as scan_log

VOUCHER_TEMPLATE = "circle/_scan_voucher.html"
MEMBER_TEMPLATE = "circle/_scan_member_vouchers.html"


def _data(found: redeeming.Redemption) -> dict[str, Any]:
    return {
        "voucher_id": found.voucher_id,
        "community_id": found.community_id,
        "organisation_id": found.organisation_id,
        "user_id": found.user_id,
        "display_name": found.resident,
        "offer": found.offer,
        "points": found.points,
    }


# Atomic: a refusal comes before any write (the voucher's conditional update is the gate), so the
# scan path spares the savepoint where the kind is the circle's alone (JV1; digits are shared).
@scanning.handler("JV1", "digits", atomic=True, repeats=True)
async def voucher_scan(
    conn: Connection, actor: Actor, request: scanning.ScanRequest, log: scanning.ScanLog
) -> scanning.ScanOutcome:
    code = typed_code(request.code)
    if not (request.preview or request.context == "shop"):
        done = await redeeming.redeem_in_one(conn, actor, code, log)
        if done is not None:
            return scanning.ScanOutcome("redeemed", _data(done), template=VOUCHER_TEMPLATE)
    mine = await organisations.acts_for(conn, actor.user_id)
    found = await redeeming.voucher_for_code(conn, actor, code, mine)
    if request.preview or request.context == "shop":
        if not (found.redeem_key and request.idempotency_key and found.redeem_key == request.idempotency_key):
            await redeeming.check_redeemable(conn, found)
        # The code goes with the redeem button: it, not the voucher's id, proves the resident is there.
        # A cash part was paid online before the voucher could be used: the shop does not take it again.
        ready = {**_data(found), "scanned": code, "cash_cents": found.cash_cents}
        return scanning.ScanOutcome("voucher_ready", ready, template=VOUCHER_TEMPLATE)
    # The key's claim and the redemption are all or nothing: a key used for another scan takes
    # the redemption back (the one statement above claims it itself).
    async with conn.transaction():
        done = await redeeming.redeem(
            conn,
            actor,
            found.voucher_id,
            scan_key=request.idempotency_key,
            address=request.address,
            found=found,
        )
        await scan_log.claim_key(conn, actor, request)
    return scanning.ScanOutcome("redeemed", _data(done), template=VOUCHER_TEMPLATE)


@scanning.handler("member@counter")
async def member_card_at_shop(
    conn: Connection, actor: Actor, request: scanning.ScanRequest, log: scanning.ScanLog
) -> scanning.ScanOutcome:
    mine = await organisations.acts_for(conn, actor.user_id)
    if not mine:
        raise Forbidden()  # not a provider's member: the store's answer is the one given
    user_id = await resolve_member_code(conn, request.code)
    waiting = await redeeming.waiting_for_holder(conn, actor, user_id, mine)
    return scanning.ScanOutcome(
        "member_vouchers",
        {
            "user_id": user_id if waiting else None,
            "display_name": waiting[0].resident if waiting else None,
            "vouchers": [
                {
                    "voucher_id": v.voucher_id,
                    "offer": v.offer,
                    "points": v.points,
                    "organisation_id": v.organisation_id,
                }
                for v in waiting
            ],
            # The card goes with each redeem button (the scanner page's `scan`): it, not the
            # voucher's id, proves the resident is there. It is not in the answer, which the scan
            # entry keeps for a week when sent with a key: a printed card's code lasts for years.
        },
        template=MEMBER_TEMPLATE,
    )
