"""Demo partner units from the seed reports, with this year's co-building agreements partly met,
resources, needs and projects in every status, and an in-service registration. Idempotent: an
organisation is made once by name, and what hangs on it only with it.

The units are those the reports name: 省疾控中心 (gulou: "邀请省疾控中心等82家单位加入区域共建"),
县老干局 (minqing), 福清市妇联 and 石竹卫生服务中心 (fuqing), and 树人家政 and 龙湖物业 among the
social organisations and property companies that take part; 树人家政, 龙湖物业, 金太阳, a team of
capable residents (能人服务队) with its doctor and a barber are providers of the service circle."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.core import clock
from app.core.authz import Actor
from app.partners import agreements, lists, registrations, services
from app.partners.models import Organisation
from app.places.services import time_zone_of

# The demo's one password (app.demo.DEMO_PASSWORD, which a domain does not import).
PASSWORD = "jinlin2026"

# (name, kinds, category, address, (member phone, member name), commitments or None, tasks, resources)
UNITS = [
    (
        "省疾控中心",
        ["partner"],
        "机关事业单位",
        "福州市鼓楼区",
        ("13800000021", "省疾控中心 张医生"),
        {"wishes": 4, "volunteer_hours": 60, "resources": 3, "projects": 2},
        [("春季流感疫苗宣传", 3, 31, True), ("重阳节老人健康义诊", 10, 29, False)],
        [("健康知识讲座（每季度一次）", "medical"), ("流感疫苗接种咨询", "medical")],
    ),
    (
        "县老干局",
        ["partner"],
        "机关事业单位",
        "闽清县",
        ("13800000022", "县老干局 陈科长"),
        {"wishes": 2, "volunteer_hours": 40, "resources": 2, "projects": 1},
        [("银龄讲师团进社区宣讲", 6, 30, True)],
        [("银龄讲师团：防诈骗讲座", "legal")],
    ),
    (
        "福清市妇联",
        ["partner"],
        "群团组织",
        "福清市",
        ("13800000023", "福清市妇联 林主任"),
        {"wishes": 5, "volunteer_hours": 30, "resources": 2, "projects": 1},
        [("儿童暑期托管班", 7, 15, False)],
        [("暑期儿童托管志愿者", "education")],
    ),
    (
        "石竹卫生服务中心",
        ["partner"],
        "医疗机构",
        "福清市石竹街道",
        ("13800000024", "石竹卫生服务中心 黄医生"),
        {"wishes": 2, "volunteer_hours": 50, "resources": 2, "projects": 2},
        [("家庭医生签约上门", 5, 31, True), ("慢病随访", 11, 30, False)],
        [("家庭医生签约服务", "medical")],
    ),
    (
        "树人家政",
        ["partner", "provider"],
        "housekeeping",
        "鼓楼区东街街道光复路",
        ("13800000025", "树人家政 王经理"),
        None,
        [],
        [("独居老人上门保洁（每月两次）", "cleaning")],
    ),
    (
        "龙湖物业",
        ["partner", "provider"],
        "repair",
        "鼓楼区东街街道",
        ("13800000026", "龙湖物业 郑经理"),
        {"wishes": 3, "volunteer_hours": 20, "resources": 1, "projects": 1},
        [("楼道灯与电路检修", 4, 30, True)],
        [("水电维修师傅", "repair")],
    ),
    # Providers of the 15-minute service circle (app.circle.demo places them and their menus); a
    # provider's category is one of the circle's codes (app.circle.rules.SERVICE_CATEGORIES).
    ("金太阳", ["provider"], "eldercare", "鼓楼区南营街道", ("13800000027", "金太阳 吴护理"), None, [], []),
    (
        "能人服务队",
        ["provider"],
        "health",
        "鼓楼区东街街道军门社区",
        ("13800000028", "能人服务队 刘医生"),
        None,
        [],
        [],
    ),
    (
        "老张理发店",
        ["provider"],
        "barber",
        "鼓楼区东街街道光复路",
        ("13800000029", "老张理发店 张师傅"),
        None,
        [],
        [],
    ),
]

# (title, category, description)
NEEDS = [
    ("独居老人上门体检", "medical", "光复新村4号楼两位独居老人，网格员走访时提出。"),
    ("楼道灯坏了", "repair", "石井新村1号楼三楼到五楼的楼道灯不亮。"),
    ("老年人防诈骗讲座", "legal", ""),
    ("儿童暑期看护", "education", "双职工家庭暑假孩子无人照看。"),
    ("社区活动室需要桌椅", "venue", ""),
]

# (title, need title, resource titles, due month, steps to take [(status, note)])
PROJECTS = [
    (
        "独居老人上门体检",
        "独居老人上门体检",
        ["家庭医生签约服务", "流感疫苗接种咨询"],
        9,
        [("in_progress", "已与石竹卫生服务中心约定上门时间。")],
    ),
    (
        "石井新村楼道灯改造",
        "楼道灯坏了",
        ["水电维修师傅"],
        5,
        [
            ("in_progress", "龙湖物业派出两名电工。"),
            ("done", "三层楼道灯全部更换为声控灯。"),
            ("followed_up", "网格员回访，居民满意。"),
        ],
    ),
    ("防诈骗讲座进社区", "老年人防诈骗讲座", ["银龄讲师团：防诈骗讲座"], 11, []),
]

# Projects with a funding goal, in cents (app.payments' demo records who paid what).
GOALS = {"石井新村楼道灯改造": 800_000}

# Who registers with the community naming their work unit (双报到), and whether it was confirmed.
REGISTRATIONS = [("13800000006", "县老干局", True)]


async def _admin(session: AsyncSession, community_id: int) -> Actor | None:
    admin_id = await session.scalar(
        select(Membership.user_id)
        .where(Membership.community_id == community_id, Membership.roles.contains(["admin"]))
        .order_by(Membership.id)
        .limit(1)
    )
    if admin_id is None:
        return None
    return Actor(user_id=int(admin_id), display_name="", roles={community_id: frozenset({"admin"})})


async def seed(session: AsyncSession, community_id: int) -> list[tuple[str, str, str, str]]:
    """Seeds the partners of the community once; returns the partner members' demo logins."""
    admin = await _admin(session, community_id)
    if admin is None:
        return []
    year = clock.today(await time_zone_of(session, community_id)).year
    # A provider of the service circle only is no partner unit: its login says what it is.
    logins = [
        (f"{'partner' if 'partner' in kinds else 'provider'} ({name})", phone, PASSWORD, who)
        for name, kinds, _category, _address, (phone, who), _c, _t, _res in UNITS
    ]
    existing = set(
        (
            await session.scalars(select(Organisation.name).where(Organisation.community_id == community_id))
        ).all()
    )
    resource_ids: dict[str, int] = {}
    for name, kinds, category, address, (phone, who), commitments, tasks, resources in UNITS:
        if name in existing:
            continue
        organisation, (member_id,) = await services.create_organisation(
            session,
            admin,
            community_id,
            services.OrganisationInput(
                name=name,
                kinds=kinds,
                category=category,
                address=address,
                members=[services.MemberInput(phone, who, PASSWORD)],
            ),
        )
        if commitments is not None:
            agreement = await agreements.create_agreement(
                session,
                admin,
                community_id,
                agreements.AgreementInput(
                    organisation_id=organisation.id,
                    year=year,
                    tasks=[
                        agreements.TaskInput(title, date(year, month, day)) for title, month, day, _d in tasks
                    ],
                    **commitments,
                ),
            )
            views = await agreements.agreements_of_organisation(session, admin, organisation.id)
            done = {title for title, _m, _d, is_done in tasks if is_done}
            for view in views:
                if view.agreement.id == agreement.id:
                    for task in view.tasks:
                        if task.title in done:
                            await agreements.mark_task(session, admin, task.id, True)
        member = Actor(user_id=member_id, display_name=who)
        for title, resource_category in resources:
            resource = await lists.add_resource(
                session, member, organisation.id, community_id, title=title, category=resource_category
            )
            resource_ids[title] = resource.id
    if not resource_ids:
        return logins
    need_ids: dict[str, int] = {}
    for title, category, description in NEEDS:
        made = await lists.add_need(
            session, admin, community_id, title=title, category=category, description=description
        )
        need_ids[title] = made.id
    for title, need_title, used, month, steps in PROJECTS:
        if need_title not in need_ids or not all(r in resource_ids for r in used):
            continue
        project = await lists.create_project(
            session,
            admin,
            community_id,
            lists.ProjectInput(
                title=title,
                owner_user_id=admin.user_id,
                due_on=date(year, month, 28),
                need_ids=[need_ids[need_title]],
                resource_ids=[resource_ids[r] for r in used],
                funding_goal_cents=GOALS.get(title),
            ),
        )
        for status, note in steps:
            await lists.step_project(session, admin, project.id, status, note)
    for phone, unit, confirmed in REGISTRATIONS:
        user_id = await session.scalar(
            select(User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(User.phone == phone, Membership.community_id == community_id)
        )
        unit_id = await session.scalar(
            select(Organisation.id).where(
                Organisation.community_id == community_id, Organisation.name == unit
            )
        )
        if user_id is None or unit_id is None:
            continue
        person = Actor(user_id=user_id, display_name="", roles={community_id: frozenset({"resident"})})
        registration = await registrations.register(session, person, community_id, unit_id)
        if confirmed:
            await registrations.decide(session, admin, registration.id, True)
    return logins
