"""Property test (hypothesis, stateful): random awards, deductions, holds, posts, voids, reversals,
repeats and expiries keep every invariant of `ledger verify` and match a simple model."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from app.core import clock
from app.core.errors import DomainError
from app.core.uow import connection_of
from app.ledger import expiry
from app.ledger import services as ledger
from app.ledger.verify import run_checks

USERS = (1, 2, 3)
_communities = itertools.count(1)


class LedgerMachine(RuleBasedStateMachine):
    database_url: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.engine = create_async_engine(self.database_url, pool_size=1)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Synthetic tenant ids far from the factories' (the ledger has no FKs to them).
        self.community = 3_000_000_000 + secrets.randbelow(10**9) * 100 + next(_communities)
        self.balance = dict.fromkeys(USERS, 0)
        self.held = dict.fromkeys(USERS, 0)
        self.holds: dict[int, tuple[int, int, datetime | None]] = {}  # id: (user, points, expiry)
        self.transfers: list[tuple[int, int, int]] = []  # (id, user, signed amount for the wallet)
        self.reversed: set[int] = set()
        self.reversals: set[int] = set()
        self.keys: dict[str, tuple[int, int, int]] = {}
        self.n = 0
        self.clock_moved = timedelta(0)

    def run(self, work: Any, *, on_session: bool = False) -> Any:
        """`work` in a transaction of its own: given the asyncpg connection under a session (as a
        page hands the ledger), or the session itself."""

        async def go() -> Any:
            async with self.sessions() as session:
                try:
                    result = await work(session if on_session else await connection_of(session))
                except DomainError:
                    await session.rollback()
                    raise
                await session.commit()
                return result

        return self.loop.run_until_complete(go())

    def key(self) -> str:
        self.n += 1
        return f"prop-{self.community}-{self.n}"

    def teardown(self) -> None:
        clock.advance(-self.clock_moved)
        self.loop.run_until_complete(self.engine.dispose())
        self.loop.close()

    def _args(self, user: int, points: int, key: str, kind: str = "award") -> dict[str, Any]:
        return {
            "community_id": self.community,
            "user_id": user,
            "points": points,
            "kind": kind,
            "reference": "prop",
            "memo": "property test",
            "actor_id": None,
            "idempotency_key": key,
        }

    @initialize()
    def start(self) -> None:
        pass

    @rule(user=st.sampled_from(USERS), points=st.integers(1, 50))
    def award(self, user: int, points: int) -> None:
        key = self.key()
        tid = self.run(lambda s: ledger.award(s, **self._args(user, points, key)))
        self.balance[user] += points
        self.transfers.append((tid, user, points))
        self.keys[key] = (tid, user, points)

    @precondition(lambda self: bool(self.keys))
    @rule(data=st.data())
    def repeat_award(self, data: Any) -> None:
        key = data.draw(st.sampled_from(sorted(self.keys)))
        tid, user, points = self.keys[key]
        assert self.run(lambda s: ledger.award(s, **self._args(user, points, key))) == tid
        try:
            self.run(lambda s: ledger.award(s, **self._args(user, points + 1, key)))
            raise AssertionError("a different request under the same key must conflict")
        except DomainError as exc:
            assert exc.code == "conflict"

    @rule(user=st.sampled_from(USERS), points=st.integers(1, 60))
    def deduct(self, user: int, points: int) -> None:
        try:
            tid = self.run(lambda s: ledger.deduct(s, **self._args(user, points, self.key(), "correction")))
        except DomainError as exc:
            assert exc.code == "insufficient_points"
            assert self.balance[user] - self.held[user] < points
            return
        assert self.balance[user] - self.held[user] >= points
        self.balance[user] -= points
        self.transfers.append((tid, user, -points))

    @rule(user=st.sampled_from(USERS), points=st.integers(1, 60), expiring=st.booleans())
    def hold(self, user: int, points: int, expiring: bool) -> None:
        expires = clock.now() + timedelta(minutes=5) if expiring else None
        try:
            hid = self.run(
                lambda s: ledger.hold(s, **self._args(user, points, self.key(), "order"), expires_at=expires)
            )
        except DomainError as exc:
            assert exc.code == "insufficient_points"
            assert self.balance[user] - self.held[user] < points
            return
        self.held[user] += points
        self.holds[hid] = (user, points, expires)

    @precondition(lambda self: bool(self.holds))
    @rule(data=st.data(), post=st.booleans())
    def settle(self, data: Any, post: bool) -> None:
        hid = data.draw(st.sampled_from(sorted(self.holds)))
        user, points, expires = self.holds[hid]
        if post and expires is not None and expires <= clock.now():
            # Its time passed while the clock moved on (expire_points moves it 20 days) and the
            # expiry job has not run since: posting it is refused, and the refusal's transaction,
            # rolled back, leaves it held for the job to release.
            try:
                self.run(lambda s: ledger.post_hold(s, hid, actor_id=None))
            except DomainError as exc:
                assert exc.code == "already_done"
            else:
                raise AssertionError("a hold whose time has passed must not be posted")
            return
        del self.holds[hid]
        self.held[user] -= points
        if post:
            tid = self.run(lambda s: ledger.post_hold(s, hid, actor_id=None))
            assert self.run(lambda s: ledger.post_hold(s, hid, actor_id=None)) == tid
            self.balance[user] -= points
            self.transfers.append((tid, user, -points))
        else:
            self.run(lambda s: ledger.void_hold(s, hid, actor_id=None, reason="cancel"))
            self.run(lambda s: ledger.void_hold(s, hid, actor_id=None, reason="cancel"))

    @precondition(lambda self: bool(self.transfers))
    @rule(data=st.data())
    def reverse(self, data: Any) -> None:
        tid, user, signed = data.draw(st.sampled_from(self.transfers))
        key = self.key()
        try:
            rid = self.run(
                lambda s: ledger.reverse(s, tid, actor_id=None, reason="mistake", idempotency_key=key)
            )
        except DomainError as exc:
            if tid in self.reversals:
                assert exc.code == "validation_error"
            elif tid in self.reversed:
                assert exc.code == "already_done"
            else:
                assert exc.code == "insufficient_points"
                assert signed > 0 and self.balance[user] - self.held[user] < signed
            return
        assert tid not in self.reversed
        self.reversed.add(tid)
        self.balance[user] -= signed
        self.transfers.remove((tid, user, signed))
        self.transfers.append((rid, user, -signed))
        self.reversals.add(rid)  # a reversal cannot itself be reversed

    @rule()
    def expire_holds(self) -> None:
        self.clock_moved += timedelta(minutes=6)
        clock.advance(timedelta(minutes=6))
        self.run(expiry.void_expired_holds)
        for hid in list(self.holds):
            status = self.run(lambda s, hid=hid: _hold_status(s, hid), on_session=True)
            if status == "voided":
                user, points, _expires = self.holds.pop(hid)
                self.held[user] -= points

    @rule()
    def expire_points(self) -> None:
        self.run(lambda s: expiry.set_expiry_months(s, self.community, 1, actor_id=None))
        self.clock_moved += timedelta(days=20)
        clock.advance(timedelta(days=20))
        self.run(lambda s: expiry.expire_points(s, community_id=self.community))
        for user in USERS:
            w = self.run(lambda s, user=user: ledger.wallet(s, self.community, user))
            assert w.balance <= self.balance[user] and w.held == self.held[user]
            self.balance[user] = w.balance
        self.run(lambda s: expiry.set_expiry_months(s, self.community, None, actor_id=None))

    @invariant()
    def ledger_matches_model_and_verifies(self) -> None:
        for user in USERS:
            w = self.run(lambda s, user=user: ledger.wallet(s, self.community, user))
            assert (w.balance, w.held) == (self.balance[user], self.held[user])
            assert w.available >= 0
        checks = self.run(lambda s: run_checks(s, self.community), on_session=True)
        assert all(c.ok for c in checks), [(c.name, c.problems) for c in checks if not c.ok]


async def _hold_status(session: Any, hold_id: int) -> str:
    return str(
        (
            await session.execute(text("SELECT status FROM ledger_holds WHERE id = :h"), {"h": hold_id})
        ).scalar()
    )


def test_random_ledger_histories_keep_every_invariant(database_url: str) -> None:
    LedgerMachine.database_url = database_url
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=8,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
