"""Pictures for the demo's service menus, drawn with Pillow when the demo is seeded (no network,
no stock photos), in the manner of the love supermarket's demo pictures: one flat, friendly
drawing per kind of service on a soft background. Only shapes, no text: the offer's name is
printed next to its picture in the reader's language."""

from __future__ import annotations

from PIL import ImageDraw

from app.core.drawings import INK, SOFT, WHITE, Drawer, render, s, w

RED = (196, 52, 45)
BLUE = (82, 146, 210)
YELLOW = (246, 206, 72)
GREEN = (120, 170, 80)


def _scissors(d: ImageDraw.ImageDraw) -> None:
    d.polygon(s(72, 84, 120, 30, 126, 36, 82, 92), fill=(200, 204, 210), outline=INK, width=w())
    d.polygon(s(88, 84, 40, 30, 34, 36, 78, 92), fill=(214, 218, 224), outline=INK, width=w())
    for x in (58, 102):
        d.ellipse(s(x - 16, 96, x + 16, 128), fill=RED, outline=INK, width=w())
        d.ellipse(s(x - 8, 104, x + 8, 120), fill=WHITE, outline=INK, width=w(0.8))
    d.ellipse(s(76, 82, 84, 90), fill=INK)


def _health(d: ImageDraw.ImageDraw) -> None:
    d.rounded_rectangle(s(40, 44, 120, 128), radius=s(14)[0], fill=WHITE, outline=INK, width=w())
    d.rectangle(s(70, 60, 90, 112), fill=RED)
    d.rectangle(s(54, 76, 106, 96), fill=RED)
    d.rounded_rectangle(s(64, 32, 96, 48), radius=s(6)[0], fill=(236, 222, 196), outline=INK, width=w())


def _repair(d: ImageDraw.ImageDraw) -> None:
    d.line(s(50, 118, 104, 64), fill=INK, width=w(14))
    d.line(s(50, 118, 104, 64), fill=(160, 166, 176), width=w(10))
    d.ellipse(s(92, 34, 132, 74), fill=(160, 166, 176), outline=INK, width=w())
    d.polygon(s(106, 38, 118, 38, 118, 58, 106, 58), fill=WHITE)
    d.ellipse(s(40, 108, 60, 128), fill=YELLOW, outline=INK, width=w())


def _cleaning(d: ImageDraw.ImageDraw) -> None:
    d.polygon(s(50, 70, 110, 70, 100, 130, 60, 130), fill=BLUE, outline=INK, width=w())
    d.arc(s(54, 40, 106, 96), 180, 360, fill=INK, width=w(2))
    for x, y, r in ((64, 58, 9), (84, 50, 7), (100, 60, 6)):
        d.ellipse(s(x - r, y - r, x + r, y + r), fill=WHITE, outline=BLUE, width=w(1.2))
    d.rectangle(s(58, 92, 102, 100), fill=WHITE)


def _care(d: ImageDraw.ImageDraw) -> None:
    d.ellipse(s(46, 50, 82, 86), fill=RED, outline=INK, width=w())
    d.ellipse(s(78, 50, 114, 86), fill=RED, outline=INK, width=w())
    d.polygon(s(48, 76, 112, 76, 80, 122), fill=RED)
    d.line(s(48, 77, 80, 122, 112, 77), fill=INK, width=w())
    d.rounded_rectangle(s(44, 118, 116, 132), radius=s(6)[0], fill=GREEN, outline=INK, width=w())


BACKGROUNDS = {
    "老张理发店": (250, 232, 236),
    "能人服务队": (228, 240, 250),
    "龙湖物业": (252, 241, 222),
    "树人家政": (228, 240, 250),
    "金太阳": (236, 244, 228),
}
DRAWERS: dict[str, Drawer] = {
    "老张理发店": _scissors,
    "能人服务队": _health,
    "龙湖物业": _repair,
    "树人家政": _cleaning,
    "金太阳": _care,
}


def picture(provider: str) -> bytes | None:
    """A PNG for the services of a demo provider, or None for one without a drawing."""
    drawer = DRAWERS.get(provider)
    return None if drawer is None else render(drawer, BACKGROUNDS.get(provider, SOFT))
