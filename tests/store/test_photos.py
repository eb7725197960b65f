"""Item photos: the upload attack list is refused or cleaned; nothing unsafe is stored or served."""

from __future__ import annotations

import io
import re
import struct
import zlib

from PIL import Image
from sqlalchemy import text

from tests.api.helpers import page_login, post_form
from tests.conftest import count, login
from tests.store.conftest import make_item


def jpeg(size=(64, 48), exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    if exif is None:
        image.save(out, format="JPEG")
    else:
        image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png(size=(32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 120, 0, 255)).save(out, format="PNG")
    return out.getvalue()


def huge_png(width: int, height: int) -> bytes:
    """A tiny file claiming 20000 × 20000 pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    raw = zlib.compress(row * height, 9)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def gps_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (26.0, 4.0, 30.0)
    gps[3] = "E"
    gps[4] = (119.0, 18.0, 10.0)
    return exif.tobytes()


async def upload(client, shop, item_id, name, data, content_type):
    return await post_form(
        client,
        f"/store/admin/c/{shop.community_id}/items/{item_id}/photo",
        files={"photo": (name, data, content_type)},
    )


def stored_files(settings):
    folder = settings.uploads_dir / "store"
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_clean_photo_is_reencoded_and_served_safely(client, shop, settings, db):
    item_id = await make_item(client, shop)
    await page_login(client, shop.admin)
    r = await upload(client, shop, item_id, "rice.jpg", jpeg(exif=gps_exif()), "image/jpeg")
    assert r.status_code == 303, r.text
    photo_id = await count(db, "SELECT photo_id FROM store_items WHERE id = :i", i=item_id)
    served = await client.get(f"/store/photos/{photo_id}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"] == "inline"
    # No EXIF at all (GPS gone), and still a JPEG of the right size.
    image = Image.open(io.BytesIO(served.content))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert (
        dict(image.getexif()) == {} and b"Exif" not in served.content and b"PhoneMaker" not in served.content
    )
    listed = await client.get(f"/api/v1/communities/{shop.community_id}/items", headers=shop.resident.headers)
    assert listed.json()["items"][0]["photo_url"] == f"/store/photos/{photo_id}"


async def test_upload_attacks_are_refused_or_cleaned(client, shop, settings, db):
    item_id = await make_item(client, shop)
    await page_login(client, shop.admin)
    before = await count(db, "SELECT count(*) FROM store_photos")

    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    r = await upload(client, shop, item_id, "x.svg", svg, "image/svg+xml")
    assert r.status_code == 422 and "JPEG" in r.text

    html_as_png = b"<html><script>alert(document.cookie)</script></html>"
    r = await upload(client, shop, item_id, "x.png", html_as_png, "image/png")
    assert r.status_code == 422

    r = await upload(client, shop, item_id, "bomb.png", huge_png(20000, 20000), "image/png")
    assert r.status_code == 422

    big = b"\xff\xd8\xff" + b"\x00" * (50 * 1024 * 1024)
    r = await upload(client, shop, item_id, "big.jpg", big, "image/jpeg")
    # Over the request limit: read to its end but not kept; the form says why.
    assert r.status_code == 422 and "5 MB" in r.text

    assert await count(db, "SELECT count(*) FROM store_photos") == before

    # A polyglot: a real JPEG with an HTML page appended; a `../../` file name.
    polyglot = jpeg() + b"<html><body><script>alert(1)</script></body></html>"
    r = await upload(client, shop, item_id, "../../../evil.html", polyglot, "text/html")
    assert r.status_code == 303, r.text
    filename = (
        await db.execute(
            text(
                "SELECT p.filename, p.content_type FROM store_photos p "
                "JOIN store_items i ON i.photo_id = p.id WHERE i.id = :i"
            ),
            {"i": item_id},
        )
    ).one()
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", filename[0]) and filename[1] == "image/jpeg"
    data = (settings.uploads_dir / "store" / filename[0]).read_bytes()
    assert b"<script" not in data and b"<html" not in data
    assert not list(settings.data_dir.parent.rglob("evil.html"))
    for path in stored_files(settings):
        assert path.suffix in (".jpg", ".png", ".webp")
        assert not path.stat().st_mode & 0o111
        assert Image.open(path).format in ("JPEG", "PNG", "WEBP")


async def test_only_staff_upload_and_only_members_see_photos(client, shop, factory, db):
    item_id = await make_item(client, shop)
    await page_login(client, shop.resident)
    r = await upload(client, shop, item_id, "a.png", png(), "image/png")
    assert r.status_code == 403
    await page_login(client, shop.admin)
    assert (await upload(client, shop, item_id, "a.png", png(), "image/png")).status_code == 303
    photo_id = await count(db, "SELECT photo_id FROM store_items WHERE id = :i", i=item_id)
    other = await factory.tenant()
    stranger = await login(client, other.admin)
    r = await client.get(f"/store/photos/{photo_id}", headers=stranger.headers)
    assert r.status_code == 404


TOO_LARGE_ZH = "照片太大，无法上传：最大 5 MB。请换一张小一些的照片。"


def photo_message(html: str) -> str | None:
    """The words next to the photo field, if it shows any."""
    match = re.search(
        r'<p class="alert" id="photo-message" role="alert" data-photo-error( hidden)?>([^<]*)</p>', html
    )
    assert match, "no photo field on the page"
    return None if match.group(1) else match.group(2)


async def test_an_oversized_photo_is_named_next_to_the_field_not_on_an_error_page(client, shop, db):
    item_id = await make_item(client, shop)
    await page_login(client, shop.admin)
    item_url = f"/store/admin/c/{shop.community_id}/items/{item_id}"
    # Over the photo's own limit (5 MB) but under the request limit (12 MB): read and refused inline.
    six_mb = b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024)
    r = await upload(client, shop, item_id, "big.jpg", six_mb, "image/jpeg")
    assert r.status_code == 422 and "<h1>大米 5kg</h1>" in r.text
    assert photo_message(r.text) == TOO_LARGE_ZH
    # Over the request limit (12 MB): the same page, saying the same, in the reader's language.
    huge = b"\xff\xd8\xff" + b"\x00" * (13 * 1024 * 1024)
    r = await upload(client, shop, item_id, "huge.jpg", huge, "image/jpeg")
    assert r.status_code == 422 and photo_message(r.text) == TOO_LARGE_ZH
    # What cannot be read as a form (no multipart body) is sent back to the form, which says why.
    r = await post_form(client, f"{item_url}/photo", {"x": "y" * (13 * 1024 * 1024)})
    assert r.status_code == 303 and r.headers["location"] == f"{item_url}?photo=too_large"
    english = await client.get(r.headers["location"], headers={"Accept-Language": "en"})
    assert english.status_code == 422
    assert (
        photo_message(english.text)
        == "The photo is too large to upload: at most 5 MB. Please choose a smaller photo."
    )
    assert photo_message((await client.get(item_url)).text) is None
    assert (
        await count(db, "SELECT count(*) FROM store_items WHERE id = :i AND photo_id IS NULL", i=item_id) == 1
    )


async def test_a_new_item_with_an_oversized_photo_keeps_what_was_typed(client, shop, db):
    await page_login(client, shop.admin)
    url = f"/store/admin/c/{shop.community_id}/items"
    fields = {"name": "老花镜", "points_price": "40", "stock": "7", "category": "长者用品", "active": "1"}
    six_mb = b"\xff\xd8\xff" + b"\x00" * (6 * 1024 * 1024)
    r = await post_form(client, url, fields, files={"photo": ("glasses.jpg", six_mb, "image/jpeg")})
    assert r.status_code == 422
    assert photo_message(r.text) == TOO_LARGE_ZH
    for field, value in (
        ("name", "老花镜"),
        ("points_price", "40"),
        ("stock", "7"),
        ("category", "长者用品"),
    ):
        assert re.search(rf'id="{field}" name="{field}"[^>]* value="{value}"', r.text), field
    made = "SELECT count(*) FROM store_items WHERE community_id = :c AND name = '老花镜'"
    assert await count(db, made, c=shop.community_id) == 0  # nothing half made
    huge = b"\xff\xd8\xff" + b"\x00" * (13 * 1024 * 1024)
    r = await post_form(client, url, fields, files={"photo": ("glasses.jpg", huge, "image/jpeg")})
    assert r.status_code == 422 and photo_message(r.text) == TOO_LARGE_ZH
    for field, value in (
        ("name", "老花镜"),
        ("points_price", "40"),
        ("stock", "7"),
        ("category", "长者用品"),
    ):
        assert re.search(rf'id="{field}" name="{field}"[^>]* value="{value}"', r.text), field
    assert 'enctype="multipart/form-data"' in r.text
    assert await count(db, made, c=shop.community_id) == 0
    # With a photo that fits, the item is made with it; without one, as before.
    r = await post_form(client, url, fields, files={"photo": ("glasses.png", png(), "image/png")})
    assert r.status_code == 303, r.text
    assert (
        await count(
            db,
            "SELECT count(*) FROM store_items "
            "WHERE community_id = :c AND name = '老花镜' AND photo_id IS NOT NULL",
            c=shop.community_id,
        )
        == 1
    )
    r = await post_form(
        client, url, {**fields, "name": "雨伞"}, files={"photo": ("", b"", "application/octet-stream")}
    )
    assert r.status_code == 303, r.text
