"""The partners' answers to what other domains ask about organisations (app.core.organisations):
where a unit may act (its home community, this year's agreements), who is its member, who
serves a community in person (a confirmed 双报到), and the service circle's providers. Given at
import; the assembly imports this module (app.domains.connect_organisations), so no domain
that asks names this one."""

from __future__ import annotations

from app.core import organisations
from app.partners import providers, services

organisations.provide(
    may_act_in=services.may_act_in,
    is_member=services.is_member,
    of_user=services.organisations_of,
    serves_in=services.serves_in,
    acting_in=services.acting_in,
)
organisations.provide_providers(
    providers=providers.providers,
    providers_in=providers.providers_in,
    acts_for=providers.acts_for,
    set_place=providers.set_place,
)
