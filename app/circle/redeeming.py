"""Redeeming a voucher: a scan of its QR code or its 8 digits by a member of its provider posts
its hold (app.ledger) to the provider's account, single use under the conditional UPDATE of the
voucher row. The usual scan by QR code is one statement, one round trip (`redeem_in_one`); the
general path (`voucher_for_code`, then `redeem`) tells refusals and repeated scans apart, and
serves the shop page's preview and the typed digits. On the request's asyncpg connection
(app.core.uow); never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.accounts import cards
from app.accounts.member_cards import resolve_member_code
from app.circle import rules
from app.core import clock, organisations
from app.core.authz import Actor
from app.core.codes import typed_code
from app.core.errors import DomainError, Forbidden, NotFound
from app.core.i18n import lazy
from app.core.uow import Connection, Sql
from app.ledger import services as ledger
from app.scans import scanning
from app.scans import services as scan_log
from app.scans.scanning import ScanLog

# ---------------------------------------------------------------- redeeming


@dataclass
class Redemption:
    voucher_id: int
    community_id: int
    organisation_id: int
    user_id: int
    resident: str
    offer: str
    points: int
    status: str
    expires_at: datetime
    redeem_key: str | None = None
    cash_cents: int = 0  # its cash part, paid online before it could be used


_INFO = (
    "SELECT v.id, v.community_id, v.organisation_id, v.user_id, u.display_name, o.name, v.points, "
    "v.status, v.expires_at, v.redeem_key, v.cash_cents FROM circle_vouchers v "
    "JOIN users u ON u.id = v.user_id JOIN circle_offers o ON o.id = v.offer_id "
)
_BY_SECRET = Sql(_INFO + "WHERE v.secret = :s")
_BY_DIGITS = Sql(
    _INFO + "WHERE v.digits = :d AND v.status = 'held' AND v.organisation_id = ANY(:orgs) ORDER BY v.id"
)
_BY_ID = Sql(_INFO + "WHERE v.id = :v")
# A resident's vouchers waiting at the scanner's shops, the soonest to expire first.
_WAITING_FOR = Sql(
    _INFO + "WHERE v.user_id = :u AND v.status = 'held' AND v.expires_at > :now "
    "AND v.organisation_id = ANY(:orgs) ORDER BY v.expires_at, v.id"
)
# Digits that no open voucher has may be those of one the shop redeemed lately (shown again, or
# typed by a second person at the counter), or of one cancelled or expired lately (the resident's
# page says so): that is "already used", "cancelled" or "expired", not "check the digits"
# (scanning.TYPED_AGAIN_WITHIN). Found by the closed vouchers' digits (migration 0052), the
# index's whole condition stated; a used voucher stays 'redeemed' and only it has redeemed_at.
_CLOSED_BY_DIGITS = Sql(
    "SELECT id, status FROM circle_vouchers WHERE digits = :d "
    "AND status IN ('redeemed', 'cancelled', 'expired') AND organisation_id = ANY(:orgs) "
    "AND coalesce(redeemed_at, closed_at) > :since "
    "ORDER BY coalesce(redeemed_at, closed_at) DESC LIMIT 1"
)
_CLOSED_REFUSALS = {"redeemed": "already_done", "cancelled": "code_invalid", "expired": "code_expired"}
# A voucher still held and not expired, asked so that no plan can read a partial index of held
# vouchers for it: where the planner's figures take held vouchers for rare (a table analysed when
# nearly all were redeemed), `status = 'held' AND expires_at > :now` made the held vouchers'
# expiry index look cheaper than the one row its secret or id names, and each redemption read
# every held voucher's entry there, of every community (docs/scaling.md, 2026-12-01).
_HELD_UNEXPIRED = "CASE WHEN status = 'held' THEN expires_at > CAST(:now AS timestamptz) END"
_REDEEM = Sql(
    "UPDATE circle_vouchers SET status = 'redeemed', redeemed_at = :now, redeemed_by = :actor, "  # noqa: S608
    f"redeem_key = :key, redeemed_address = :address WHERE id = :v AND {_HELD_UNEXPIRED} RETURNING hold_id"
)
_STATE = Sql("SELECT status, expires_at, redeem_key FROM circle_vouchers WHERE id = :v")
# A voucher used already: when, for whom and by which member of the shop, in the community's time,
# read only on the way to that refusal (the scan that redeems never reads it).
_USED = Sql(
    "SELECT v.redeemed_at, r.display_name, m.display_name, c.time_zone FROM circle_vouchers v "
    "JOIN users r ON r.id = v.user_id LEFT JOIN users m ON m.id = v.redeemed_by "
    "JOIN communities c ON c.id = v.community_id WHERE v.id = :v AND v.status = 'redeemed'"
)
_SET_TRANSFER = Sql("UPDATE circle_vouchers SET transfer_id = :t WHERE id = :v")


# A redemption by the voucher's QR code in one statement (the usual scan of a shop's phone): the
# voucher changes only if it is held, not expired, of a provider the scanner acts for (asked in
# the statement: app.core.organisations' `organisation_acted_for`) and not the scanner's own
# (`_check_scanner`) and the scan's idempotency key not used before (claimed in the statement:
# app.scans.services' `claim_key`), its transfer's id drawn first so that its row changes once;
# the ledger posts its hold in the same statement (app.ledger's post_hold_ctes), with the scan's
# log row. The voucher's row is the redemption's audit entry (who, what, when, from where: the
# view audit_trail shows it; migration 0047). Anything else (a refusal, the same scan sent again,
# a race lost) leaves it without effect, and the general path finds out why.
_REDEEM_IN_ONE = Sql(
    "WITH rv AS (UPDATE circle_vouchers SET status = 'redeemed', redeemed_at = CAST(:now AS timestamptz), "  # noqa: S608 - no input in it
    "redeemed_by = CAST(:actor AS bigint), redeem_key = CAST(:key AS varchar), "
    f"redeemed_address = CAST(:address AS varchar), transfer_id = {ledger.NEW_TRANSFER_ID} "
    f"WHERE secret = CAST(:s AS varchar) AND {_HELD_UNEXPIRED} "
    "AND organisation_id IN (SELECT f.organisation_id FROM organisation_acted_for(CAST(:actor AS bigint)) f) "
    "AND user_id <> CAST(:actor AS bigint) AND "
    + scan_log.key_unused_sql()
    + " RETURNING id, community_id, organisation_id, user_id, offer_id, points, expires_at, hold_id, "
    "transfer_id), "
    + ledger.post_hold_ctes("rv")
    + ", "
    + scan_log.key_claim_cte("rv")
    + ", "
    + scan_log.log_cte(
        "'redeemed'",
        "EXISTS (SELECT 1 FROM rv)",
        community_id="(SELECT community_id FROM rv)",
        subject_id="(SELECT user_id FROM rv)",
    )
    + " SELECT rv.id, rv.community_id, rv.organisation_id, rv.user_id, u.display_name, o.name, rv.points, "
    "'redeemed', rv.expires_at, CAST(:key AS varchar), "
    + ledger.posted_check("rv")
    + " FROM rv JOIN users u ON u.id = rv.user_id JOIN circle_offers o ON o.id = rv.offer_id"
)


async def redeem_in_one(conn: Connection, actor: Actor, code: str, log: ScanLog) -> Redemption | None:
    """The voucher of a QR code redeemed by a member of its provider in one statement, with the
    scan's log row; None when the statement did nothing (`voucher_for_code` and `redeem` tell why:
    not the scanner's provider, a refusal, or the same scan sent again)."""
    secret = rules.parse_voucher_code(code)
    if secret is None:
        return None
    params = {
        "s": secret,
        "now": clock.now(),
        "actor": actor.user_id,
        "key": log.request.idempotency_key,
        "address": log.request.address,
        **scan_log.log_params(log),
        **scan_log.key_params(actor, log.request),
    }
    row = await scan_log.fetch_claiming(conn, _REDEEM_IN_ONE, params, log.request)
    if row is None:
        return None
    log.written = True
    return _redemption(row)


def _redemption(row: Any, cash_cents: int = 0) -> Redemption:
    return Redemption(
        voucher_id=int(row[0]),
        community_id=int(row[1]),
        organisation_id=int(row[2]),
        user_id=int(row[3]),
        resident=str(row[4]),
        offer=str(row[5]),
        points=int(row[6]),
        status=str(row[7]),
        expires_at=row[8],
        redeem_key=row[9],
        cash_cents=cash_cents,
    )


def _refused(code: str) -> DomainError:
    if code == "already_done":
        return DomainError("already_done", 409, lazy("This voucher was already used."))
    if code == "code_invalid":
        return DomainError("code_invalid", 422, lazy("This voucher was cancelled. Nothing to redeem."))
    return DomainError(
        "code_expired", 422, lazy("This voucher has expired. The points went back to the resident.")
    )


async def _refusal(conn: Connection, code: str, voucher_id: int) -> DomainError:
    """The refusal of `code`; a voucher used already says when, for whom and by whom, so that the
    person at the counter sees at a glance whether the service was given."""
    if code != "already_done":
        return _refused(code)
    row = await _USED.fetchrow(conn, {"v": voucher_id})
    if row is None or row[0] is None:
        return _refused(code)
    return DomainError(
        "already_done",
        409,
        lazy(
            "This voucher was already used: at %(time)s, for %(resident)s, redeemed by %(member)s. "
            "Do not give the service again."
        ),
        words={"time": clock.text(row[0], row[3]), "resident": str(row[1]), "member": str(row[2] or "?")},
    )


def _not_yours() -> Forbidden:
    return Forbidden(lazy("This voucher is for another provider. Nothing was changed."))


def _check_scanner(found: Redemption, actor: Actor, mine: dict[int, bool]) -> None:
    """Only a member of the voucher's provider redeems it, and never their own voucher: a member
    who redeemed what they bought would turn their points into the provider's cash with no
    service given. Another member of the provider scans it."""
    if found.organisation_id not in mine:
        raise _not_yours()
    if found.user_id == actor.user_id:
        raise Forbidden(
            lazy("This is your own voucher: another member of the provider redeems it. Nothing was changed.")
        )


async def voucher_for_code(
    conn: Connection, actor: Actor, code: str, mine: dict[int, bool] | None = None
) -> Redemption:
    """The voucher behind a voucher code or its 8 digits, if the scanner acts for its provider
    (anyone else: forbidden, and nothing changes). `mine`: whom the scanner acts for, if read."""
    if mine is None:
        mine = await organisations.acts_for(conn, actor.user_id)
    secret = rules.parse_voucher_code(code)
    if secret is not None:
        row = await _BY_SECRET.fetchrow(conn, {"s": secret})
        if row is None:
            raise DomainError("code_invalid", 422, lazy("This voucher code is not known."))
    elif len(code) == 8 and code.isdigit():
        if not mine:
            raise _not_yours()
        rows = await _BY_DIGITS.fetch(conn, {"d": code, "orgs": list(mine)})
        closed = None
        if not rows:
            closed = await _CLOSED_BY_DIGITS.fetchrow(
                conn, {"d": code, "orgs": list(mine), "since": clock.now() - scanning.TYPED_AGAIN_WITHIN}
            )
        if closed is not None:
            raise await _refusal(conn, _CLOSED_REFUSALS[closed[1]], int(closed[0]))
        if not rows:
            raise DomainError(
                "code_invalid",
                422,
                lazy("No open voucher of yours has these digits. Check them or scan the QR code."),
            )
        if len(rows) > 1:
            raise DomainError(
                "code_invalid",
                422,
                lazy("These digits match more than one voucher. Please scan the QR code."),
            )
        row = rows[0]
    else:
        raise DomainError("code_invalid", 422)
    found = _redemption(row, int(row[10]))  # a row of _INFO
    _check_scanner(found, actor, mine)
    return found


async def redeem(
    conn: Connection,
    actor: Actor,
    voucher_id: int,
    *,
    scan_key: str | None = None,
    address: str | None = None,
    found: Redemption | None = None,
) -> Redemption:
    """Single use: the conditional UPDATE lets one of many simultaneous scans through; the ledger
    then posts the hold to the provider's account. Only a member of the voucher's provider.
    `found`: the voucher as `voucher_for_code` found it for this actor (its checks are done)."""
    if found is None:
        row = await _BY_ID.fetchrow(conn, {"v": voucher_id})
        if row is None:
            raise NotFound()
        found = _redemption(row, int(row[10]))  # a row of _INFO
        _check_scanner(found, actor, await organisations.acts_for(conn, actor.user_id))
    # Its own transaction (a savepoint inside a page's): the voucher (its row the redemption's
    # audit entry, as in `_REDEEM_IN_ONE`), the ledger's posting and the transfer's id on the
    # voucher are all or nothing; the scan's log row follows (the kind is registered atomic).
    async with conn.transaction():
        now = clock.now()
        hold_id = await _REDEEM.fetchval(
            conn, {"v": voucher_id, "now": now, "actor": actor.user_id, "key": scan_key, "address": address}
        )
        if hold_id is None:
            status, expires_at, key = await _STATE.one(conn, {"v": voucher_id})
            if scan_key and status == "redeemed" and key == scan_key:
                found.status = "redeemed"
                return found  # the same scan sent again: harmless
            raise await _refusal(
                conn, rules.redeem_refusal(status, expires_at, now) or "already_done", voucher_id
            )
        transfer_id = await ledger.post_hold(conn, int(hold_id), actor_id=actor.user_id)
        await _SET_TRANSFER.execute(conn, {"t": transfer_id, "v": voucher_id})
    found.status = "redeemed"
    return found


async def waiting_for_holder(
    conn: Connection, actor: Actor, user_id: int, mine: dict[int, bool]
) -> list[Redemption]:
    """The vouchers of a member card's holder waiting at the shops the scanner acts for (`mine`),
    never the scanner's own. A resident without a phone has no voucher code to show at a home
    visit but a paper one: their card says who they are, as at the counter. The holder's name
    comes with their vouchers only: a card scanned by a shop that sold its holder nothing (of
    another community, it may be) tells it no one's name."""
    rows = await _WAITING_FOR.fetch(conn, {"u": user_id, "now": clock.now(), "orgs": list(mine)})
    return [_redemption(row) for row in rows if user_id != actor.user_id]


async def _by_holder(conn: Connection, actor: Actor, voucher_id: int, member_code: str) -> Redemption:
    """The voucher `voucher_id`, if the member code scanned for the list of its holder's vouchers
    is still its holder's (a phone's code for 30 seconds, a printed card's until replaced)."""
    holder = await resolve_member_code(conn, member_code)
    row = await _BY_ID.fetchrow(conn, {"v": voucher_id})
    if row is None or int(row[3]) != holder:
        raise DomainError(
            "code_invalid", 422, lazy("Scan the voucher's code, or type its digits, to redeem it.")
        )
    found = _redemption(row)
    _check_scanner(found, actor, await organisations.acts_for(conn, actor.user_id))
    return found


async def redeem_scanned(
    conn: Connection,
    actor: Actor,
    voucher_id: int,
    code: str,
    *,
    scan_key: str | None = None,
    address: str | None = None,
) -> Redemption:
    """The shop page's redeem button: the voucher whose code (or 8 digits) was scanned for its
    preview, sent again with the button. The code is the proof the resident is there: a voucher's
    id alone (counted up, easily guessed) redeems nothing. The member card of the voucher's holder,
    scanned for the list of their vouchers (`waiting_for_holder`), proves it as well."""
    if cards.parse(code) is not None:
        found: Redemption | None = await _by_holder(conn, actor, voucher_id, code)
    else:
        found = await voucher_for_code(conn, actor, typed_code(code)) if code.strip() else None
    if found is None or found.voucher_id != voucher_id:
        raise DomainError(
            "code_invalid", 422, lazy("Scan the voucher's code, or type its digits, to redeem it.")
        )
    return await redeem(conn, actor, voucher_id, scan_key=scan_key, address=address, found=found)


async def check_redeemable(conn: Connection, found: Redemption) -> None:
    """Refuses (as `redeem` would) before a page shows the redeem button."""
    refusal = rules.redeem_refusal(found.status, found.expires_at, clock.now())
    if refusal:
        raise await _refusal(conn, refusal, found.voucher_id)
