"""The outgoing webhook: each community's admin may name one URL and a secret; every notice made
for a person of that community is then also POSTed there as signed JSON, so an SMS or WeChat
gateway can be attached without code (docs/webhooks.md says what arrives and how to check it).

A delivery is queued in the statement that makes the notice (app.notices.services.notify) and sent
by the job below: answered 2xx it is delivered; otherwise it is tried again after BACKOFF, and
after MAX_ATTEMPTS it is failed. The delivery log page shows each one."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.audit import record
from app.core.errors import Invalid
from app.core.i18n import lazy, translations
from app.core.uow import Connection, Sql
from app.notices import words

SIGNATURE_HEADER = "X-Jinlin-Signature"
TIMESTAMP_HEADER = "X-Jinlin-Timestamp"
# Waits after the 1st, 2nd, ... failed attempt; past the last the delivery has failed.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT = 10.0
BATCH = 20

_GET = Sql("SELECT url, secret, enabled, updated_at FROM notice_webhooks WHERE community_id = :c")
_SET = Sql(
    "INSERT INTO notice_webhooks (community_id, url, secret, enabled, updated_at) "
    "VALUES (:c, :url, :secret, :enabled, :now) ON CONFLICT (community_id) DO UPDATE "
    "SET url = :url, secret = :secret, enabled = :enabled, updated_at = :now"
)
_DUE = Sql(
    "SELECT d.id, d.attempts, w.url, w.secret, n.id AS notice_id, n.kind, n.params, n.url AS link, "
    "n.created_at, n.community_id, n.user_id, u.phone, u.display_name "
    "FROM notice_deliveries d JOIN notices n ON n.id = d.notice_id "
    "JOIN notice_webhooks w ON w.community_id = d.community_id "
    "JOIN users u ON u.id = n.user_id "
    "WHERE d.status = 'pending' AND d.next_attempt_at <= :now AND w.enabled "
    "ORDER BY d.next_attempt_at, d.id LIMIT :n FOR UPDATE OF d SKIP LOCKED"
)
_DONE = Sql(
    "UPDATE notice_deliveries SET status = 'delivered', attempts = attempts + 1, last_code = :code, "
    "last_error = '', delivered_at = :now WHERE id = :id"
)
_RETRY = Sql(
    "UPDATE notice_deliveries SET status = :status, attempts = attempts + 1, last_code = :code, "
    "last_error = :error, next_attempt_at = :next WHERE id = :id"
)
_LOG = Sql(
    "SELECT d.id, d.notice_id, n.kind, d.status, d.attempts, d.last_code, d.last_error, d.created_at, "
    "d.next_attempt_at, d.delivered_at FROM notice_deliveries d JOIN notices n ON n.id = d.notice_id "
    "WHERE d.community_id = :c ORDER BY d.id DESC LIMIT :n"
)


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str
    enabled: bool
    updated_at: datetime


async def webhook_of(db: Connection | AsyncSession, community_id: int) -> Webhook | None:
    row = await _GET.fetchrow(db, {"c": community_id})
    return Webhook(row["url"], row["secret"], row["enabled"], row["updated_at"]) if row else None


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise Invalid(lazy("Enter a web address that starts with https:// or http://."))
    return url


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


async def configure(
    db: Connection | AsyncSession,
    community_id: int,
    *,
    url: str,
    enabled: bool,
    new_key: bool,
    actor_id: int,
) -> Webhook:
    """Sets the community's webhook; a secret is made the first time and when asked for
    (the old one stops working at once). Audited, without the secret."""
    current = await webhook_of(db, community_id)
    secret = new_secret() if current is None or new_key else current.secret
    await _SET.execute(
        db,
        {"c": community_id, "url": check_url(url), "secret": secret, "enabled": enabled, "now": clock.now()},
    )
    await record(
        db,
        action="notices.webhook",
        actor_id=actor_id,
        community_id=community_id,
        target=f"community:{community_id}",
        url=url.strip(),
        enabled=enabled,
        new_secret=current is None or new_key,
    )
    found = await webhook_of(db, community_id)
    assert found is not None
    return found


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body under the secret>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (docs/webhooks.md): the signature matches and is recent."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def _gettext(lang: str) -> words.Gettext:
    catalog = translations(lang)

    def gettext(message: str, **variables: Any) -> str:
        text = catalog.gettext(message)
        return text % variables if variables else text

    return gettext


def payload(row: Any) -> bytes:
    """The JSON body for one notice: what and for whom, with its words in both languages."""
    text = {}
    for lang, tag in (("zh", "zh-Hans"), ("en", "en")):
        title, body = words.render(row["kind"], row["params"], _gettext(lang))
        text[tag] = {"title": title, "body": body}
    data = {
        "id": row["notice_id"],
        "kind": row["kind"],
        "community_id": row["community_id"],
        "created_at": row["created_at"].isoformat(),
        "recipient": {"user_id": row["user_id"], "name": row["display_name"], "phone": row["phone"]},
        "params": row["params"],
        "url": row["link"],
        "text": text,
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode()


async def deliver_due(
    conn: Connection, *, client: httpx.AsyncClient | None = None, limit: int = BATCH
) -> dict[str, int]:
    """The job: sends the deliveries that are due; each answer decides delivered, again later, or
    failed. Returns how many went each way."""
    now = clock.now()
    rows = await _DUE.fetch(conn, {"now": now, "n": limit})
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    if not rows:
        return counts
    own = client is None
    http = client or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
    try:
        for row in rows:
            body = payload(row)
            timestamp = int(now.timestamp())
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(row["secret"], timestamp, body),
                "User-Agent": "Jinlin-Webhook/1",
            }
            code: int | None = None
            error = ""
            try:
                answer = await http.post(row["url"], content=body, headers=headers)
                code = answer.status_code
                if 200 <= code < 300:
                    await _DONE.execute(conn, {"id": row["id"], "code": code, "now": clock.now()})
                    counts["delivered"] += 1
                    continue
                error = f"HTTP {code}"
            except httpx.HTTPError as exc:
                error = (type(exc).__name__ + ": " + str(exc))[:200]
            attempts = int(row["attempts"]) + 1
            failed = attempts >= MAX_ATTEMPTS
            wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
            await _RETRY.execute(
                conn,
                {
                    "id": row["id"],
                    "status": "failed" if failed else "pending",
                    "code": code,
                    "error": error,
                    "next": now + wait,
                },
            )
            counts["failed" if failed else "retry"] += 1
    finally:
        if own:
            await http.aclose()
    return counts


async def delivery_log(db: Connection | AsyncSession, community_id: int, limit: int = 100) -> list[Any]:
    return list(await _LOG.fetch(db, {"c": community_id, "n": limit}))


NO_WEBHOOK = lazy("Save a web address first.")
