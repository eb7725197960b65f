"""Demo money: each wish and project of the community with a funding goal is partly funded by
several sources, as the seeds tell it ("政府补一点、社会筹一点、居民凑一点"; 仓山: cables for
the street lights, stair handrails), with one online donation shown by name. Runs after the
domains that set the goals (app.domains.DOMAINS), once per goal."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.payments import targets

# (source, share of the goal in percent, who, shown by name, note)
SPLIT = [
    ("government", 40, "东街街道办事处", True, "为民办实事专项资金"),
    ("partner", 20, "龙湖物业", True, "共建单位出资"),
    ("residents", 10, "楼栋居民", True, "楼栋长收齐的现金，收据已张贴"),
]
ONLINE_SHARE = 5
ONLINE_NAME = "陈阿姨"


async def seed(session: AsyncSession, community_id: int) -> None:
    for target in await targets.with_goal(session, community_id):
        if target.goal_cents is None:
            continue
        funded = await session.scalar(
            text("SELECT count(*) FROM funding_contributions WHERE target_kind = :k AND target_id = :i"),
            {"k": target.kind, "i": target.id},
        )
        if funded:
            continue
        for source, share, name, shown, note in SPLIT:
            await session.execute(
                text(
                    "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, "
                    "amount_cents, name, show_name, note) VALUES (:c, :k, :i, :s, :a, :n, :shown, :note)"
                ),
                {
                    "c": community_id,
                    "k": target.kind,
                    "i": target.id,
                    "s": source,
                    "a": target.goal_cents * share // 100,
                    "n": name,
                    "shown": shown,
                    "note": note,
                },
            )
        # An online donation that went through Checkout before the demo began.
        amount = target.goal_cents * ONLINE_SHARE // 100
        payment_id = await session.scalar(
            text(
                "INSERT INTO payments (community_id, kind, target_kind, target_id, amount_cents, "
                "currency, status, idempotency_key, display_name, show_name) "
                "VALUES (:c, 'donation', :k, :i, :a, 'cny', 'paid', :key, :n, true) RETURNING id"
            ),
            {
                "c": community_id,
                "k": target.kind,
                "i": target.id,
                "a": amount,
                "key": f"demo:{target.kind}:{target.id}",
                "n": ONLINE_NAME,
            },
        )
        await session.execute(
            text(
                "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, "
                "amount_cents, payment_id, name, show_name) VALUES (:c, :k, :i, 'online', :a, :p, :n, true)"
            ),
            {
                "c": community_id,
                "k": target.kind,
                "i": target.id,
                "a": amount,
                "p": payment_id,
                "n": ONLINE_NAME,
            },
        )
