"""The home page's parts from several domains become one: figures and icons in order, panels of
one key (an admin's "today") merged into one card."""

from __future__ import annotations

from app.core import homes


def test_parts_merge_in_order_and_panels_of_one_key_become_one() -> None:
    events = homes.HomePart(
        tiles=[homes.Tile("/scan", "Scan", "scan", 20), homes.Tile("/events", "Events", "events", 10)],
        panels=[
            homes.Panel("today", "Today", figures=[homes.Figure("Check-ins today", 3, order=10)], order=10),
            homes.Panel("organise", "Events I organise", [homes.Entry("楼道清理")], order=20),
        ],
        links=[("/my-events", "My events")],
    )
    store = homes.HomePart(
        mine=[homes.Figure("Orders", 1, order=30)],
        tiles=[homes.Tile("/store", "Love supermarket", "store", 30)],
        panels=[
            homes.Panel("counter", "Counter", order=30),
            homes.Panel("today", "Today", figures=[homes.Figure("Open orders", 2, order=5)], order=40),
        ],
    )
    ledger = homes.HomePart(mine=[homes.Figure("My points", 280, order=10)])

    whole = homes.merge([events, store, ledger])

    assert [f.label for f in whole.mine] == ["My points", "Orders"]
    assert [t.url for t in whole.tiles] == ["/events", "/scan", "/store"]
    assert [p.key for p in whole.panels] == ["today", "organise", "counter"]
    today = whole.panels[0]
    assert [(f.label, f.value) for f in today.figures] == [("Open orders", 2), ("Check-ins today", 3)]
    assert whole.links == [("/my-events", "My events")]
    # The domains' own parts are left as they were.
    assert [f.label for f in events.panels[0].figures] == ["Check-ins today"]
