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
from app.core.settings import get_settings
from app.core.uow import Connection, Sql
from app.notices import outbound, words

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
    "WHERE d.community_id = :c ORDER BY d.id DESC LIMIT :n OFFSET :o"
)
_LOG_COUNT = Sql("SELECT count(*) FROM notice_deliveries WHERE community_id = :c")


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str
    enabled: bool
    updated_at: datetime


async def webhook_of(db: Connection | AsyncSession, community_id: int) -> Webhook | None:
    row = await _GET.fetchrow(db, {"c": community_id})
    return Webhook(row["url"], row["secret"], row["enabled"], row["updated_at"]) if row else None


BAD_URL = lazy("Enter a web address that starts with https:// or http://.")
UNRESOLVED = lazy("No server answers to this address's name. Check its spelling.")
NOT_PUBLIC = lazy(
    "This address leads into a local or private network, where notices are not sent. "
    "A gateway on the premises needs the server's setting JINLIN_WEBHOOK_PRIVATE_TARGETS."
)
NEVER = lazy(
    "This address is in a link-local, multicast or unspecified network, where notices are never sent."
)


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - a port past 65535 or not a number raises here
    except ValueError:
        raise Invalid(BAD_URL, field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise Invalid(BAD_URL, field="url")
    return url


async def check_target(url: str, *, allow_private: bool) -> str:
    """The address as saved: http(s), and every address its name resolves to now is one notices
    may be sent to (app.notices.outbound); each delivery checks again."""
    url = check_url(url)
    try:
        await outbound.check(url, allow_private=allow_private)
    except outbound.Refused as exc:
        if exc.reason == "unresolved":
            raise Invalid(UNRESOLVED, field="url") from None
        if exc.reason == "bad_address":
            raise Invalid(BAD_URL, field="url") from None
        if exc.reason in outbound.PRIVATE_KINDS:
            raise Invalid(NOT_PUBLIC, field="url") from None
        raise Invalid(NEVER, field="url") from None
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
    allow_private: bool = False,
) -> Webhook:
    """Sets the community's webhook; a secret is made the first time and when asked for
    (the old one stops working at once). Audited, without the secret. `allow_private` is the
    server's setting: whether an address in a local or private network may be named."""
    url = await check_target(url, allow_private=allow_private)
    current = await webhook_of(db, community_id)
    secret = new_secret() if current is None or new_key else current.secret
    await _SET.execute(
        db,
        {"c": community_id, "url": url, "secret": secret, "enabled": enabled, "now": clock.now()},
    )
    await record(
        db,
        action="notices.webhook",
        actor_id=actor_id,
        community_id=community_id,
        target=f"community:{community_id}",
        url=url,
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


async def _post(
    http: httpx.AsyncClient, target: outbound.Target, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    """POSTs to the checked addresses themselves, one after the other while a connection is
    refused, naming the host in the Host header and, over TLS, in SNI and the certificate check:
    a second DNS lookup never decides where the notice goes."""
    url = httpx.URL(target.url)
    host_header = url.netloc.decode("ascii")
    if "@" in host_header:
        host_header = host_header.rsplit("@", 1)[1]
    extensions = {"sni_hostname": target.host} if url.scheme == "https" else {}
    for number, address in enumerate(target.addresses, start=1):
        try:
            return await http.post(
                url.copy_with(host=address),
                content=body,
                headers={**headers, "Host": host_header},
                extensions=extensions,
            )
        except httpx.ConnectError:
            if number == len(target.addresses):
                raise
    raise AssertionError("a checked target has at least one address")


async def deliver_due(
    conn: Connection,
    *,
    client: httpx.AsyncClient | None = None,
    limit: int = BATCH,
    allow_private: bool | None = None,
) -> dict[str, int]:
    """The job: sends the deliveries that are due; each answer decides delivered, again later, or
    failed. Each address is checked again before it is posted to (app.notices.outbound), under
    the server's setting unless `allow_private` says otherwise; a refused one is a failed attempt.
    Returns how many went each way."""
    if allow_private is None:
        allow_private = get_settings().webhook_private_targets
    now = clock.now()
    rows = await _DUE.fetch(conn, {"now": now, "n": limit})
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    if not rows:
        return counts
    own = client is None
    # Not from the environment: a proxy would connect to what it resolves, not to what was checked.
    http = client or httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False)
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
                target = await outbound.check(row["url"], allow_private=allow_private)
                answer = await _post(http, target, body, headers)
                code = answer.status_code
                if 200 <= code < 300:
                    await _DONE.execute(conn, {"id": row["id"], "code": code, "now": clock.now()})
                    counts["delivered"] += 1
                    continue
                error = f"HTTP {code}"
            except outbound.Refused as exc:
                error = f"not sent: {exc}"[:200]
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


async def delivery_count(db: Connection | AsyncSession, community_id: int) -> int:
    """How many deliveries the community's log holds, as `delivery_log` lists them over its pages."""
    return int(await _LOG_COUNT.fetchval(db, {"c": community_id}) or 0)


async def delivery_log(
    db: Connection | AsyncSession, community_id: int, limit: int = 100, offset: int = 0
) -> list[Any]:
    """The community's deliveries, the newest first, a page at a time."""
    return list(await _LOG.fetch(db, {"c": community_id, "n": limit, "o": offset}))


NO_WEBHOOK = lazy("Save a web address first.")
