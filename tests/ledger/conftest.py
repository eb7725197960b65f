"""Ledger fixtures: a tenant with a logged-in admin and resident."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Person, Tenant, login


@dataclass
class LedgerSetup:
    tenant: Tenant
    admin: Person
    resident: Person

    @property
    def community_id(self) -> int:
        return self.tenant.community_id


@pytest.fixture
async def setup(client: Any, factory: Any) -> LedgerSetup:
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    resident = await login(client, await factory.person(tenant, name="王阿姨"))
    return LedgerSetup(tenant, admin, resident)
