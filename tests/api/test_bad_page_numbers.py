"""A page number that is not one (a link typed by hand, cut short or kept from an old list)
reads as the first page on every paged page, the one way app.core.paging reads them: the list
is shown, never a raw error."""

from __future__ import annotations

import pytest

from tests.api.helpers import page_login
from tests.conftest import login

# The paged pages a community's admin reaches, with the query that asks for a page.
PAGED = [
    "/admin/c/{c}/residents?page={p}",
    "/admin/c/{c}/residents?q=a&page={p}",
    "/c/{c}/wishes?page={p}",
    "/c/{c}/events?page={p}",
    "/admin/c/{c}/events?page={p}",
    "/admin/c/{c}/ledger?month=2026-01&page={p}&people_page={p}",
    "/admin/c/{c}/imports?page={p}",
    "/admin/c/{c}/webhook?page={p}",
    "/payments/admin/c/{c}?page={p}",
    "/store/admin/c/{c}/orders?page={p}",
    "/store/me/orders?page={p}",
    "/circle/me/vouchers?page={p}",
    "/notices?page={p}",
]


@pytest.mark.parametrize("asked", ["abc", "-1", "0", "1.5", "99999999999999999999999"])
async def test_a_page_number_that_is_not_one_reads_the_first_page(client, factory, asked):
    tenant = await factory.tenant()
    await login(client, tenant.admin)
    await page_login(client, tenant.admin)
    for path in PAGED:
        url = path.format(c=tenant.community_id, p=asked)
        response = await client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
