"""The shop page's camera in headless Chromium, fed a voucher's QR code as its video (Chromium's
fake capture device): the camera finds the voucher, the member redeems it, and the resident's
phone still held up in front of the camera is not read again, so the green "redeemed, please
serve" stays on the screen instead of turning into "already used, do not serve again"."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
import qrcode
from playwright.sync_api import expect

from tests.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import journey_admin, unique, unique_phone

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 640, 480


def _video_of(code: str, path: Path) -> Path:
    """A still video (YUV4MPEG2, what Chromium's fake camera plays in a loop) of the code's QR."""
    matrix = qrcode.QRCode(border=4, box_size=8)
    matrix.add_data(code)
    picture = matrix.make_image().convert("L").resize((400, 400))
    frame = bytearray(b"\xff" * (WIDTH * HEIGHT))
    left, top = (WIDTH - 400) // 2, (HEIGHT - 400) // 2
    pixels = picture.tobytes()
    for row in range(400):
        frame[(top + row) * WIDTH + left : (top + row) * WIDTH + left + 400] = pixels[
            row * 400 : (row + 1) * 400
        ]
    grey = b"\x80" * (WIDTH * HEIGHT // 4)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            video.write(b"FRAME\n" + bytes(frame) + grey + grey)
    return path


def test_a_voucher_held_up_after_its_redemption_is_not_scanned_again(
    live_server, browser, tmp_path, artifacts
):
    base = live_server.url
    admin_phone, admin_password, community_id = journey_admin(live_server)
    resident = (unique_phone(), "resident-" + secrets.token_hex(4))
    barber = (unique_phone(), "barber-" + secrets.token_hex(4))
    with httpx.Client(base_url=base, timeout=30) as http:
        token = http.post("/api/v1/auth/token", json={"phone": admin_phone, "password": admin_password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        made = http.post(
            f"/api/v1/communities/{community_id}/residents",
            headers=headers,
            json={"phone": resident[0], "display_name": "郑美玉", "password": resident[1]},
        )
        assert made.status_code == 201, made.text
        award = http.post(
            f"/api/v1/communities/{community_id}/awards",
            headers=headers,
            json={
                "user_id": made.json()["user_id"],
                "points": 50,
                "reason": "六清",
                "idempotency_key": "cam-1",
            },
        )
        assert award.status_code == 201, award.text
        shop = http.post(
            f"/api/v1/communities/{community_id}/organisations",
            headers=headers,
            json={
                "name": unique("老张理发店"),
                "kinds": ["provider"],
                "category": "barber",
                "members": [{"phone": barber[0], "display_name": "张师傅", "password": barber[1]}],
            },
        )
        assert shop.status_code == 201, shop.text
        shop_id = shop.json()["id"]
        offer = http.post(
            f"/api/v1/organisations/{shop_id}/offers",
            headers=headers,
            json={"name": "理发", "points_price": 15},
        )
        assert offer.status_code == 201, offer.text
        mine = http.post("/api/v1/auth/token", json={"phone": resident[0], "password": resident[1]}).json()[
            "access_token"
        ]
        bought = http.post(
            "/api/v1/vouchers",
            headers={"Authorization": f"Bearer {mine}"},
            json={"offer_id": offer.json()["id"], "idempotency_key": "cam-voucher"},
        )
        assert bought.status_code == 201, bought.text
    video = _video_of(bought.json()["voucher_code"], tmp_path / "voucher.y4m")

    camera = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        context = camera.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        context.grant_permissions(["camera"], origin=base)
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=phone]", barber[0])
        page.fill("input[name=password]", barber[1])
        page.click("form[action='/login'] button")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/circle/shop/{shop_id}")
        page.locator("[data-scanner-start]").click()
        ready = page.locator("[data-result='voucher_ready']")
        expect(ready).to_be_visible(timeout=15000)
        expect(ready).to_contain_text("郑美玉")
        page.locator("[data-redeem]").click()
        done = page.locator("#scan-result [data-result='redeemed']")
        expect(done).to_be_visible()
        # The phone stays in front of the camera while the barber reads the answer and begins.
        page.wait_for_timeout(6500)
        expect(done).to_be_visible()
        expect(page.locator("[data-result='already_done']")).to_have_count(0)
        page.screenshot(path=str(artifacts / "circle-camera-redeemed.png"))
        context.close()
    finally:
        camera.close()
