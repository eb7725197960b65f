"""A provider's category: a known code shown in the reader's words with its icon, older free
text matched by its words, unknown text shown as it is; the filter keeps the stored value."""

from __future__ import annotations

from typing import Any

from app.circle import rules
from app.core.i18n import translations
from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle, make_offer, make_provider
from tests.conftest import count


def _zh(message: str) -> str:
    return translations("zh").gettext(message)


def test_known_codes_have_words_in_both_languages_and_an_icon() -> None:
    shown = {code: rules.service_category(code) for code in rules.SERVICE_CATEGORIES}
    assert {code: c.icon for code, c in shown.items()} == {
        "barber": "scissors",
        "housekeeping": "broom",
        "repair": "wrench",
        "health": "cross",
        "eldercare": "heart",
        "other": "shop",
    }
    assert all(c.code == code for code, c in shown.items())
    assert shown["housekeeping"].words(str) == "Housekeeping"
    assert shown["housekeeping"].words(_zh) == "家政"
    assert shown["eldercare"].words(_zh) == "养老服务"
    # every known category's words are translated
    assert all(c.words(_zh) != c.words(str) for c in shown.values())
    assert rules.service_category(" Barber ").code == "barber"


def test_older_free_text_is_matched_by_its_words() -> None:
    cases = {
        "家政服务": ("housekeeping", "broom"),
        "理发店": ("barber", "scissors"),
        "物业服务": ("repair", "wrench"),
        "医疗健康": ("health", "cross"),
        "养老服务": ("eldercare", "heart"),
        "Hair salon": ("barber", "scissors"),
        "House cleaning": ("housekeeping", "broom"),
        "Plumber": ("repair", "wrench"),
    }
    for text, (code, icon) in cases.items():
        shown = rules.service_category(text)
        assert (shown.code, shown.icon) == (code, icon), text
    assert rules.service_category("家政服务").words(str) == "Housekeeping"


def test_the_form_offers_the_known_codes_and_keeps_what_is_stored() -> None:
    codes = list(rules.SERVICE_CATEGORIES)
    assert rules.category_choices("barber") == codes
    assert rules.category_choices("花店") == [*codes, "花店"]
    assert rules.category_choices("") == [*codes, ""]


def test_unknown_text_is_shown_as_it_is() -> None:
    for text in ("花店", "Flower shop"):
        shown = rules.service_category(text)
        assert shown.code is None and shown.icon == rules.UNKNOWN_ICON
        assert shown.words(str) == text and shown.words(_zh) == text
    assert rules.service_category(None).words(str) == ""


async def test_the_offers_page_shows_the_category_in_the_readers_words_and_still_filters(
    client: Any, circle: Circle
) -> None:
    cleaning = await make_offer(client, circle, circle.cleaner_id, name="上门保洁", points_price=30)
    haircut = await make_offer(client, circle, circle.barber_id, name="理发", points_price=15)
    florist_id, _ = await make_provider(
        client, circle.tenant, circle.admin, "街角花店", "花店", 26.0830, 119.2970
    )
    flowers = await make_offer(client, circle, florist_id, name="鲜花一束", points_price=10)
    await page_login(client, circle.resident)
    url = f"/circle/c/{circle.community_id}"

    english = (await client.get(url, headers={"Accept-Language": "en"})).text
    assert '<span data-category="housekeeping">Housekeeping</span>' in english
    assert '<span data-category="barber">Barber</span>' in english
    assert ">家政<" not in english  # the provider is named 树人家政…; its category is not shown so
    # the filter's buttons: the reader's words, the stored category in the address
    assert f'href="{url}?category=housekeeping"' in english
    assert 'aria-current="page">All</a>' in english and ">Housekeeping</a>" in english
    assert '<span data-category="花店">花店</span>' in english and ">花店</a>" in english
    # the icon comes from the category, the unknown one's is the neutral shop
    assert english.count('data-offer-icon="broom"') == 1 and 'data-offer-icon="shop"' in english

    chinese = (await client.get(url, headers={"Accept-Language": "zh"})).text
    assert '<span data-category="housekeeping">家政</span>' in chinese and ">家政</a>" in chinese
    assert "Housekeeping" not in chinese

    only = (await client.get(f"{url}?category=housekeeping", headers={"Accept-Language": "en"})).text
    assert f'data-offer="{cleaning}"' in only
    assert f'data-offer="{haircut}"' not in only and f'data-offer="{flowers}"' not in only
    assert 'aria-current="page">Housekeeping</a>' in only

    offer_page = (await client.get(f"/circle/offers/{cleaning}", headers={"Accept-Language": "en"})).text
    assert 'data-category="housekeeping">Housekeeping</p>' in offer_page


async def test_the_admin_sets_a_providers_category_from_the_known_ones(
    client: Any, circle: Circle, db: Any
) -> None:
    florist_id, _ = await make_provider(client, circle.tenant, circle.admin, "街角花店", "花店", None, None)
    await page_login(client, circle.admin)
    url = f"/circle/admin/providers/{florist_id}"
    form = (await client.get(url, headers={"Accept-Language": "en"})).text
    assert '<option value="housekeeping">Housekeeping</option>' in form
    assert '<option value="花店" selected>花店</option>' in form  # what is stored stays a choice
    stored = "SELECT count(*) FROM organisations WHERE id = :o AND category = :c"
    kept = await post_form(client, url, {"category": "花店", "address": "鼓楼区"})
    assert kept.status_code == 303, kept.text
    refused = await post_form(client, url, {"category": "随便写的", "address": "鼓楼区"})
    assert refused.status_code == 422 and 'class="alert"' in refused.text
    assert await count(db, stored, o=florist_id, c="花店") == 1
    chosen = await post_form(client, url, {"category": "other", "address": "鼓楼区"})
    assert chosen.status_code == 303, chosen.text
    assert await count(db, stored, o=florist_id, c="other") == 1
    # the stored text was replaced, so it is no longer offered
    assert '<option value="花店"' not in (await client.get(url)).text


async def test_the_partners_pages_show_a_providers_category_in_the_readers_words(
    client: Any, circle: Circle
) -> None:
    partner_id, _ = await make_provider(client, circle.tenant, circle.admin, "卫生站", "医疗机构", None, None)
    await page_login(client, circle.admin)
    url = f"/partners/admin/c/{circle.community_id}"
    english = (await client.get(url, headers={"Accept-Language": "en"})).text
    assert " · Housekeeping</span>" in english and " · housekeeping<" not in english
    # other text is shown as it is, not matched by its words
    assert " · 医疗机构</span>" in english
    chinese = (await client.get(url, headers={"Accept-Language": "zh"})).text
    assert " · 家政</span>" in chinese
    office = (await client.get(f"/partners/o/{circle.cleaner_id}", headers={"Accept-Language": "en"})).text
    assert "<p>Housekeeping · " in office
    assert "<p>医疗机构 · " in (await client.get(f"/partners/o/{partner_id}")).text


async def test_an_unknown_category_in_the_address_says_so_and_shows_every_category(
    client: Any, circle: Circle
) -> None:
    """An old link or a typed address with a category the community has none of read "这里还没有
    服务项目" beside offers there were: the page says the category is unknown and lists them all."""
    cleaning = await make_offer(client, circle, circle.cleaner_id, name="上门保洁", points_price=30)
    haircut = await make_offer(client, circle, circle.barber_id, name="理发", points_price=15)
    await page_login(client, circle.resident)
    url = f"/circle/c/{circle.community_id}?category=florist"
    page = (await client.get(url, headers={"Accept-Language": "zh"})).text
    assert "这里还没有服务项目" not in page
    assert "data-unknown-category" in page and "没有这个类别" in page
    assert f'data-offer="{cleaning}"' in page and f'data-offer="{haircut}"' in page
    assert 'aria-current="page">全部</a>' in page
    english = (await client.get(url, headers={"Accept-Language": "en"})).text
    assert "There is no such category here. Here are the services of every category." in english
    # a known category filters as before, with no such word
    only = (await client.get(f"/circle/c/{circle.community_id}?category=barber")).text
    assert "data-unknown-category" not in only and f'data-offer="{cleaning}"' not in only
