"""The scan log: every scan, failed ones too, with its outcome or reason code."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from litestar.serialization import encode_json

from app.core import clock, codes
from app.core.authz import Actor
from app.core.errors import DomainError, RateLimited
from app.core.i18n import lazy
from app.core.uow import Connection, Sql
from app.scans import scanning

# The actions a scan may ask for (API.md `POST /api/v1/scans`).
ACTIONS = ("checkin", "checkout")


def code_digest(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()[:16]


_COLUMNS = (
    "at, community_id, event_id, scanner_id, subject_id, kind, action, result, code_digest, "
    "idempotency_key, address"
)
_INSERT = Sql(
    f"INSERT INTO scans ({_COLUMNS}) VALUES (:at, :community_id, :event_id, :scanner_id, "  # noqa: S608
    ":subject_id, :kind, :action, :result, :code_digest, :idempotency_key, :address)"
)


def _row(
    actor: Actor, request: scanning.ScanRequest, data: dict[str, Any], facts: dict[str, Any]
) -> dict[str, Any]:
    """The log row's values but its result: `data` as an outcome's, `facts` what the handler
    learnt before it decided (ScanLog.facts)."""
    kind = scanning.kind_of(request) if request.code and len(request.code) <= 200 else "unknown"
    event_id = data.get("event_id") or request.event_id or facts.get("event_id")
    return {
        "at": clock.now(),
        "community_id": data.get("community_id"),
        "event_id": event_id if isinstance(event_id, int) and event_id < 2**63 else None,
        "scanner_id": actor.user_id,
        "subject_id": data.get("user_id"),
        "kind": kind[:20],
        "action": request.action or data.get("action") or None,
        "code_digest": code_digest(request.code or ""),
        "idempotency_key": (request.idempotency_key or "")[:100] or None,
        "address": (request.address or "")[:64] or None,
    }


async def record(
    conn: Connection,
    actor: Actor,
    request: scanning.ScanRequest,
    result: str,
    data: dict[str, Any] | None = None,
    facts: dict[str, Any] | None = None,
) -> None:
    row = _row(actor, request, data or {}, facts or {})
    await _INSERT.execute(conn, {**row, "result": result[:30]})


def log_cte(
    result_sql: str,
    when: str = "true",
    *,
    community_id: str = "CAST(:log_community_id AS bigint)",
    subject_id: str = "CAST(:log_subject_id AS bigint)",
) -> str:
    """The log row as a CTE named `scan_log`, for a use case's own statement: `result_sql` is an
    SQL expression over the statement's other CTEs that says how the scan ended, and `when` one
    that is false if the statement did not decide it (the caller runs it again). A statement
    that learns the row's community or subject itself (the voucher it redeems) gives SQL
    expressions for them."""
    return (
        f"scan_log AS (INSERT INTO scans ({_COLUMNS}) SELECT CAST(:log_at AS timestamptz), "  # noqa: S608
        f"{community_id}, CAST(:log_event_id AS bigint), CAST(:log_scanner_id AS bigint), "
        f"{subject_id}, CAST(:log_kind AS varchar), CAST(:log_action AS varchar), "
        f"{result_sql}, CAST(:log_code_digest AS varchar), CAST(:log_idempotency_key AS varchar), "
        f"CAST(:log_address AS varchar) WHERE {when})"
    )


def log_params(log: scanning.ScanLog, **data: Any) -> dict[str, Any]:
    """The parameters of `log_cte` for this scan; `data` as a ScanOutcome's (community_id,
    event_id, user_id, action)."""
    return {f"log_{key}": value for key, value in _row(log.actor, log.request, data, log.facts).items()}


async def run_scan(
    state: Any, conn: Connection, actor: Actor, request: scanning.ScanRequest
) -> scanning.ScanOutcome | DomainError:
    """Dispatches a scan and logs it, success or refusal. A refusal is returned, not raised: its
    own writes were rolled back (scanning.dispatch), and its log row stays. A handler that is all
    or nothing by itself (`scanning.atomic`: a check-in or check-out, one statement with its log
    row) runs as it is; any other runs with its log row in one transaction (the page's, when a
    page hands its session's). `state` is the app's (scanning.prepared)."""
    if scanning.atomic(request) or conn.is_in_transaction():
        return await _run_scan(state, conn, actor, request)
    async with conn.transaction():
        return await _run_scan(state, conn, actor, request)


# The scanner's wrong typed digits within the window (scanning.TYPED_DIGITS_TRIES), read from the
# log by its partial index (migration 0042).
_WRONG_DIGITS = Sql(
    "SELECT count(*) FROM (SELECT 1 FROM scans WHERE scanner_id = :u AND kind = 'digits' "
    "AND result = 'code_invalid' AND at > :since LIMIT :n) wrong"
)


async def _too_many_wrong_digits(conn: Connection, actor: Actor, request: scanning.ScanRequest) -> bool:
    if not request.code or len(request.code) > 200 or scanning.kind_of(request) != "digits":
        return False
    since = clock.now() - codes.TYPED_DIGITS_WINDOW
    wrong = await _WRONG_DIGITS.fetchval(
        conn, {"u": actor.user_id, "since": since, "n": scanning.TYPED_DIGITS_TRIES}
    )
    return int(wrong or 0) >= scanning.TYPED_DIGITS_TRIES


async def _run_scan(
    state: Any, conn: Connection, actor: Actor, request: scanning.ScanRequest
) -> scanning.ScanOutcome | DomainError:
    log = scanning.ScanLog(actor, request)
    if await _too_many_wrong_digits(conn, actor, request):
        refused = RateLimited(codes.TYPED_DIGITS_WINDOW)
        await record(conn, actor, request, refused.code)
        return refused
    try:
        with scanning.prepared(state):
            outcome = await scanning.dispatch(conn, actor, request, log)
    except DomainError as exc:
        if not log.written:
            await record(conn, actor, request, exc.code, facts=log.facts)
        return exc
    if not log.written:
        await record(conn, actor, request, outcome.result, outcome.data)
    return outcome


# A scan sent again with its idempotency key (after a lost answer: a timeout, a dropped
# connection) is answered as the first time, from the answer kept under the scanner and the key.
_REPLY = Sql(
    "SELECT code_digest, event_id, action, answer FROM scan_replies "
    "WHERE scanner_id = :scanner_id AND idempotency_key = :key"
)
KEY_USED = lazy("This idempotency key was used for another scan.")

# The one claim of a scan's key: one statement inserts it, or reads what the key was used for
# before (and the answer kept for it). Made in the transaction of what the scan changes, its row
# makes a copy of the scan sent at the same moment wait on its insert until that transaction
# ends: committed, the copy reads what it was used for; rolled back (a refused scan forgets its
# claim), the copy claims the key itself. A pickup or a voucher keeps its key on its own row,
# which answers a repeat of it (`repeats`); its handler claims the key here all the same, with
# the redemption or hand-over it makes, so that the key serves no other scan of any kind. The
# scan entry claims it for every other kind before the scan runs (`run_keyed_scan`), and keeps
# the answer in the claim's row when the scan succeeds.
_CLAIM_KEY = Sql(
    "WITH claimed AS (INSERT INTO scan_replies "
    "(scanner_id, idempotency_key, code_digest, event_id, action, answer, at) "
    "VALUES (:scanner_id, :key, :code_digest, :event_id, :action, CAST('{}' AS json), :at) "
    "ON CONFLICT DO NOTHING RETURNING code_digest, event_id, action, answer, true AS mine) "
    "SELECT * FROM claimed UNION ALL "
    "SELECT code_digest, event_id, action, answer, false FROM scan_replies "
    "WHERE scanner_id = :scanner_id AND idempotency_key = :key AND NOT EXISTS (SELECT FROM claimed)"
)
_KEEP_ANSWER = Sql(
    "UPDATE scan_replies SET answer = CAST(:answer AS json) "
    "WHERE scanner_id = :scanner_id AND idempotency_key = :key"
)
_FORGET_CLAIM = Sql("DELETE FROM scan_replies WHERE scanner_id = :scanner_id AND idempotency_key = :key")


async def _claim(conn: Connection, actor: Actor, request: scanning.ScanRequest) -> Any:
    """Claims the scan's key (`_CLAIM_KEY`): None when this scan has it now, or the row of the
    scan that had it before (its code's digest, event, action and kept answer)."""
    ids = {"scanner_id": actor.user_id, "key": request.idempotency_key}
    params = {
        **ids,
        "code_digest": code_digest(request.code or ""),
        "event_id": request.event_id,
        "action": request.action,
        "at": clock.now(),
    }
    found = await _CLAIM_KEY.fetchrow(conn, params)
    if found is None:
        # Claimed by a scan that committed while this one's insert waited on it: its row is newer
        # than what the statement saw when it began, and a statement of its own reads it.
        return await _REPLY.fetchrow(conn, ids)
    return None if found["mine"] else found


def _same_scan(earlier: Any, digest: str, request: scanning.ScanRequest) -> bool:
    return (earlier["code_digest"], earlier["event_id"], earlier["action"]) == (
        digest,
        request.event_id,
        request.action,
    )


def key_conflict() -> DomainError:
    return DomainError("conflict", 409, KEY_USED)


async def claim_key(conn: Connection, actor: Actor, request: scanning.ScanRequest) -> None:
    """Claims the scan's idempotency key for this scan, for a handler that answers its repeats
    itself; `conflict` when the scanner used the key for another scan. Called in the transaction
    (or savepoint) of what the scan changes, after the change: the conflict takes it back, and a
    refused scan claims nothing, as a refused scan of another kind keeps no answer."""
    if not request.idempotency_key:
        return
    earlier = await _claim(conn, actor, request)
    if earlier is not None and not _same_scan(earlier, code_digest(request.code), request):
        raise key_conflict()


def key_unused_sql() -> str:
    """An SQL condition for a use case's own statement (`key_params`): the scanner has used the
    scan's key for no scan yet. Where it is false the statement does nothing, and the general
    path (`claim_key`) finds out whether it is the same scan sent again or a conflict."""
    return (
        "NOT EXISTS (SELECT 1 FROM scan_replies WHERE scanner_id = CAST(:key_scanner_id AS bigint) "
        "AND idempotency_key = CAST(:key_key AS varchar))"
    )


def key_claim_cte(source: str) -> str:
    """The key's claim (`claim_key`) as a CTE named `scan_key`, made when the CTE `source` has a
    row (what the statement changed). A key that another scan claimed after the statement began
    (`key_unused_sql` saw it unused) fails the whole statement, which `fetch_claiming` reads as
    having done nothing."""
    return (
        "scan_key AS (INSERT INTO scan_replies "  # noqa: S608 - no input in it
        "(scanner_id, idempotency_key, code_digest, event_id, action, answer, at) "
        "SELECT CAST(:key_scanner_id AS bigint), CAST(:key_key AS varchar), "
        "CAST(:key_code_digest AS varchar), CAST(:key_event_id AS bigint), CAST(:key_action AS varchar), "
        f"CAST('{{}}' AS json), CAST(:key_at AS timestamptz) FROM {source} "
        "WHERE CAST(:key_key AS varchar) IS NOT NULL)"
    )


async def fetch_claiming(
    conn: Connection, statement: Sql, params: dict[str, Any], request: scanning.ScanRequest
) -> Any:
    """The row of a use case's own statement that claims the scan's key (`key_claim_cte`), or None
    when another scan claimed the key while it ran: then it changed nothing, and the general path
    (`claim_key`) tells a repeat from a conflict (uow's `fetchrow_unless_taken`)."""
    if not request.idempotency_key:
        return await statement.fetchrow(conn, params)
    return await statement.fetchrow_unless_taken(conn, params, _KEY_TAKEN)


_KEY_TAKEN = frozenset({"pk_scan_replies"})


def key_params(actor: Actor, request: scanning.ScanRequest) -> dict[str, Any]:
    return {
        "key_scanner_id": actor.user_id,
        "key_key": request.idempotency_key,
        "key_code_digest": code_digest(request.code),
        "key_event_id": request.event_id,
        "key_action": request.action,
        "key_at": clock.now(),
    }


async def run_keyed_scan(
    state: Any, conn: Connection, actor: Actor, request: scanning.ScanRequest
) -> scanning.ScanOutcome | DomainError:
    """`run_scan` for a scan that may be sent again (API.md `POST /api/v1/scans`): with the
    idempotency key of a scan this scanner made and that succeeded, it is answered with that
    scan's answer and changes nothing (a repeated check-in is not `already_done`, nor a second
    stay where re-entry is allowed); the same key with another code, event or action is a
    `conflict`. The key is claimed first, in the scan's transaction (`_claim`), and the answer
    kept in the claim's row: copies sent at once make one effect, and each waits for the first
    to end, then is answered with its answer. A refused scan forgets its claim (its log row
    stays), so the same key may be sent again. Kinds whose handlers answer a repeat themselves
    (a pickup, a voucher: `scanning.handler`'s `repeats`) go straight through, at no extra round
    trip: their handlers claim the key with what they change (`claim_key`)."""
    if not request.idempotency_key or scanning.answers_repeats(request):
        return await run_scan(state, conn, actor, request)
    ids = {"scanner_id": actor.user_id, "key": request.idempotency_key}
    async with conn.transaction():
        earlier = await _claim(conn, actor, request)
        if earlier is not None:
            answer = earlier["answer"]
            data = dict(json.loads(answer) if isinstance(answer, str) else answer)
            # A key claimed by a pickup or a voucher keeps no answer here: it is another scan.
            if "result" not in data or not _same_scan(earlier, code_digest(request.code or ""), request):
                await record(conn, actor, request, "conflict")
                return key_conflict()
            return scanning.ScanOutcome(result=str(data.pop("result")), data=data)
        outcome = await _run_scan(state, conn, actor, request)
        if isinstance(outcome, scanning.ScanOutcome):
            await _KEEP_ANSWER.execute(conn, {**ids, "answer": encode_json(outcome.as_json()).decode()})
        else:
            await _FORGET_CLAIM.execute(conn, ids)
    return outcome


# How long an answer is kept for a scan sent again: a resend after a lost answer comes within
# minutes, one from a scanner that was offline within days.
REPLIES_KEPT = timedelta(days=7)
_FORGET_REPLIES = Sql(
    "WITH gone AS (DELETE FROM scan_replies WHERE ctid IN "
    "(SELECT ctid FROM scan_replies WHERE at < :before LIMIT :n) RETURNING 1) SELECT count(*) FROM gone"
)


async def forget_replies(conn: Connection, batch: int = 5000) -> int:
    """Forgets the kept answers older than REPLIES_KEPT, a bounded batch at a time (the next run
    takes the rest); a scan sent again after that is answered as a new scan."""
    return int(await _FORGET_REPLIES.fetchval(conn, {"before": clock.now() - REPLIES_KEPT, "n": batch}))
