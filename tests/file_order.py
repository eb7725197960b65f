"""The order in which `make test` hands the test files to its workers (tests/conftest.py)."""

from __future__ import annotations

import pytest

# `make test` hands whole files to its two workers (`--dist loadfile`) in collection order
# (`--no-loadscope-reorder`), and these come first, costliest first (the CPU-s of the file and of
# its PostgreSQL, by tests.cpu_record in a recording of the whole suite; the connection budget's
# and the unpaid voucher's, newer, by recordings of their own): the last files handed out are
# then small ones, and both workers finish together. pytest-xdist's
# own order (files with the most tests first) left the one-test files for the end, such as the
# schema fuzz (40 CPU-s) and the CLI's (21). The files that drive Chromium come before the
# others, so that each worker's Chromium (tests.chromium) serves them one after another instead of
# being started again after an async test in between. A file missing here runs after, in its
# usual order.
COSTLIEST_FIRST = (
    "tests/browser/test_every_page.py",
    "tests/browser/test_every_page_en.py",
    "tests/browser/test_qr_at_a_glance.py",
    "tests/browser/test_page_looks.py",
    "tests/events/test_browser_pages.py",
    "tests/browser/test_export_progress.py",
    "tests/store/test_browser_journey.py",
    "tests/browser/test_homes.py",
    "tests/browser/test_foundation.py",
    "tests/browser/test_wish_journey.py",
    "tests/browser/test_desk_pages.py",
    "tests/browser/test_import_journey.py",
    "tests/events/test_browser_journey.py",
    "tests/circle/test_browser_journey.py",
    "tests/browser/test_donation_journey.py",
    "tests/browser/test_underlines.py",
    "tests/integration/test_processes.py",
    "tests/integration/test_cli.py",
    "tests/api/test_openapi_fuzz.py",
    "tests/integration/test_migrations.py",
    "tests/api/test_tenancy_by_route.py",
    "tests/reports/test_exports.py",
    "tests/ledger/test_races.py",
    "tests/circle/test_races.py",
    "tests/integration/test_migration_lock.py",
    "tests/integration/test_assembly.py",
    "tests/integration/test_connection_budget.py",
    "tests/payments/test_events.py",
    "tests/browser/test_every_page_reached.py",
    "tests/wishes/test_api.py",
    "tests/wishes/test_state_table.py",
    "tests/payments/test_voucher_cash.py",
    "tests/wishes/test_pages.py",
    "tests/payments/test_verify_money.py",
    "tests/payments/test_voucher_unpaid_cancel.py",
    "tests/circle/test_pages.py",
    "tests/payments/test_admin_pages.py",
    "tests/reports/test_pages.py",
    "tests/unit/test_passwords.py",
    "tests/store/test_races.py",
    "tests/store/test_pages.py",
    "tests/wishes/test_thanks_photo.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(COSTLIEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
