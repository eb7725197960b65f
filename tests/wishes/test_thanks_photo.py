"""A wish's thanks with a photo: the same upload safety as the store's photos (app.core.photos),
a random name that carries nothing of the person, served only to whoever may see the wish."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import text

from tests.api.helpers import post_form, session_of
from tests.conftest import count, login
from tests.store.test_photos import gps_exif, huge_png, jpeg
from tests.wishes.conftest import Pool, claim_for_unit, code_for, post_wish, publish

TOO_LARGE_ZH = "照片太大，无法上传：最大 5 MB。请换一张小一些的照片。"


async def delivered_wish(client, pool: Pool) -> int:
    wish_id = await post_wish(client, pool, title="一副老花镜")
    await publish(client, pool, wish_id)
    await claim_for_unit(client, pool, wish_id)
    code = await code_for(client, wish_id, pool.members[0])
    scanned = await client.post("/api/v1/scans", json={"code": code}, headers=pool.beneficiary.headers)
    assert scanned.status_code == 200, scanned.text
    return wish_id


async def thank(client, wish_id: int, note: str, name: str, data: bytes, content_type: str):
    return await post_form(
        client, f"/wishes/{wish_id}/thanks", {"note": note}, files={"photo": (name, data, content_type)}
    )


async def test_a_thank_you_photo_keeps_only_its_pixels_under_a_random_name(client, pool: Pool, settings, db):
    wish_id = await delivered_wish(client, pool)
    await session_of(client, pool.beneficiary)
    # The phone's file name carries the person's name and number; the photo carries GPS.
    sent = await thank(
        client, wish_id, "眼镜很合适，谢谢！", "杨依伯_13800138000.jpg", jpeg(exif=gps_exif()), "image/jpeg"
    )
    assert sent.status_code == 303, sent.text
    stored = (
        await db.execute(text("SELECT thanks_photo FROM wishes WHERE id = :w"), {"w": wish_id})
    ).scalar_one()
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", stored)
    path = settings.uploads_dir / "wishes" / stored
    assert path.exists() and not path.stat().st_mode & 0o111
    assert not list(settings.uploads_dir.rglob("*13800138000*"))

    page = await client.get(f"/wishes/{wish_id}")
    assert f'src="/wishes/{wish_id}/photo"' in page.text and "眼镜很合适" in page.text
    assert stored not in page.text  # the stored name is not shown
    served = await client.get(f"/wishes/{wish_id}/photo")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert b"PhoneMaker" not in served.content and b"Exif" not in served.content
    assert Image.open(io.BytesIO(served.content)).size == (64, 48)

    answer = await client.get(f"/api/v1/wishes/{wish_id}", headers=pool.members[0].headers)
    assert answer.json()["thanks_photo_url"] == f"/wishes/{wish_id}/photo"
    by_token = await client.get(f"/wishes/{wish_id}/photo", headers=pool.members[0].headers)
    assert by_token.status_code == 200 and by_token.content == served.content
    # The unit that delivered it sees it too; a stranger is told nothing of the wish.
    await session_of(client, pool.members[1])
    assert (await client.get(f"/wishes/{wish_id}/photo")).status_code == 200
    await session_of(client, pool.town.resident)  # a member of the community: a delivered wish is in its pool
    assert (await client.get(f"/wishes/{wish_id}/photo")).status_code == 200


async def test_a_stranger_gets_no_photo(client, pool: Pool, factory):
    wish_id = await delivered_wish(client, pool)
    await session_of(client, pool.beneficiary)
    assert (await thank(client, wish_id, "谢谢", "a.jpg", jpeg(), "image/jpeg")).status_code == 303
    other = await factory.tenant()
    stranger = await login(client, other.admin)
    await session_of(client, stranger)
    assert (await client.get(f"/wishes/{wish_id}/photo")).status_code == 404
    assert (await client.get(f"/wishes/{wish_id}")).status_code == 404
    client.cookies.clear()
    anonymous = await client.get(f"/wishes/{wish_id}/photo", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)


async def test_a_bad_photo_is_refused_beside_its_field_and_nothing_is_thanked(
    client, pool: Pool, settings, db
):
    wish_id = await delivered_wish(client, pool)
    folder = settings.uploads_dir / "wishes"
    before = set(folder.iterdir()) if folder.exists() else set()
    await session_of(client, pool.beneficiary)
    for name, data, kind in [
        (
            "x.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
        ),
        ("x.png", b"<html><script>alert(document.cookie)</script></html>", "image/png"),
        ("bomb.png", huge_png(20000, 20000), "image/png"),
    ]:
        refused = await thank(client, wish_id, "写好的感谢话", name, data, kind)
        assert refused.status_code == 422, (name, refused.status_code)
        assert 'id="photo-message" role="alert" data-photo-error>' in refused.text
        assert "写好的感谢话" in refused.text  # what was typed is kept
    six_mb = b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024)
    refused = await thank(client, wish_id, "写好的感谢话", "big.jpg", six_mb, "image/jpeg")
    assert refused.status_code == 422 and TOO_LARGE_ZH in refused.text and "写好的感谢话" in refused.text
    # Past the request's own limit: read to its end, not kept, and the form says why.
    huge = b"\xff\xd8\xff" + b"\x00" * (13 * 1024 * 1024)
    refused = await thank(client, wish_id, "写好的感谢话", "huge.jpg", huge, "image/jpeg")
    assert refused.status_code == 422 and TOO_LARGE_ZH in refused.text
    assert await count(db, "SELECT count(*) FROM wishes WHERE id = :w AND thanked_at IS NULL", w=wish_id) == 1
    assert (set(folder.iterdir()) if folder.exists() else set()) == before  # no file was kept
    # A polyglot is cleaned: the HTML after the JPEG does not survive.
    polyglot = jpeg() + b"<html><body><script>alert(1)</script></body></html>"
    assert (await thank(client, wish_id, "谢谢", "../../evil.html", polyglot, "text/html")).status_code == 303
    stored = (
        await db.execute(text("SELECT thanks_photo FROM wishes WHERE id = :w"), {"w": wish_id})
    ).scalar_one()
    assert b"<script" not in (folder / stored).read_bytes()


async def test_only_the_beneficiarys_side_thanks_and_a_unit_member_cannot(client, pool: Pool, db):
    wish_id = await delivered_wish(client, pool)
    await session_of(client, pool.members[0])
    page = await client.get(f"/wishes/{wish_id}")
    assert page.status_code == 200 and f'action="/wishes/{wish_id}/thanks"' not in page.text
    refused = await thank(client, wish_id, "自己谢自己", "a.jpg", jpeg(), "image/jpeg")
    assert refused.status_code == 403
    await session_of(client, pool.town.grid)  # the grid worker thanks for a resident without a phone
    assert (await thank(client, wish_id, "代杨依伯致谢", "a.jpg", jpeg(), "image/jpeg")).status_code == 303
    assert await count(db, "SELECT count(*) FROM wishes WHERE id = :w AND thanks_photo <> ''", w=wish_id) == 1
