"""The hot routes (a scan, an order, a voucher's purchase, an award) resolve their dependencies
one after another. Two dependencies that do not depend on each other are resolved side by side in
a task group of their own on every request: a voucher's purchase that took the `settings`
dependency beside `actor` spent about 40 µs of a worker's CPU on it, a tenth of its share
(docs/scaling.md)."""

from __future__ import annotations

from typing import Any

from litestar.routes import HTTPRoute

HOT = {
    "/api/v1/scans",
    "/api/v1/orders",
    "/api/v1/vouchers",
    "/api/v1/communities/{community_id:int}/awards",
}


def test_no_hot_route_resolves_two_dependencies_side_by_side(app: Any) -> None:
    seen = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path in HOT:
            seen.add(route.path)
            for _handler, kwargs_model in route.route_handler_map.values():
                batches = [sorted(dep.key for dep in batch) for batch in kwargs_model.dependency_batches]
                assert all(len(batch) == 1 for batch in batches), (route.path, batches)
    assert seen == HOT
