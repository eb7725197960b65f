"""Product pictures for the demo's love supermarket, drawn with Pillow when the demo is seeded
(no network, no stock photos): one flat, friendly picture per item on a soft background, the
way a community shop's shelf labels look. Only shapes, no text: the item's name is printed next
to its picture in the reader's language."""

from __future__ import annotations

from PIL import ImageDraw

from app.core.drawings import INK, SOFT, WHITE, Drawer, render, s, w


def _rice(d: ImageDraw.ImageDraw) -> None:
    d.rounded_rectangle(s(40, 42, 120, 134), radius=s(14)[0], fill=(236, 222, 196), outline=INK, width=w())
    d.polygon(s(40, 50, 56, 30, 104, 30, 120, 50), fill=(225, 207, 175), outline=INK, width=w())
    d.rectangle(s(40, 74, 120, 98), fill=(196, 52, 45))
    for x, y in ((62, 112), (74, 118), (86, 110), (98, 117), (70, 62), (90, 60)):
        d.ellipse(s(x - 3, y - 5, x + 3, y + 5), fill=WHITE, outline=INK, width=w(0.6))


def _oil(d: ImageDraw.ImageDraw) -> None:
    d.rectangle(s(72, 22, 88, 34), fill=(196, 52, 45), outline=INK, width=w())
    d.polygon(s(74, 34, 86, 34, 104, 56, 56, 56), fill=(242, 196, 64), outline=INK, width=w())
    d.rounded_rectangle(s(54, 54, 106, 138), radius=s(10)[0], fill=(246, 206, 72), outline=INK, width=w())
    d.rounded_rectangle(s(60, 80, 100, 116), radius=s(4)[0], fill=WHITE, outline=INK, width=w(0.6))
    d.ellipse(s(72, 88, 88, 108), fill=(120, 170, 80))


def _detergent(d: ImageDraw.ImageDraw) -> None:
    d.rounded_rectangle(s(44, 46, 116, 138), radius=s(14)[0], fill=(82, 146, 210), outline=INK, width=w())
    d.rounded_rectangle(s(84, 30, 112, 62), radius=s(10)[0], outline=INK, width=w(3))
    d.rectangle(s(52, 30, 72, 46), fill=(240, 240, 240), outline=INK, width=w())
    d.rounded_rectangle(s(54, 78, 106, 120), radius=s(6)[0], fill=WHITE, outline=INK, width=w(0.6))
    for x, y, r in ((70, 96, 8), (88, 92, 6), (82, 106, 5)):
        d.ellipse(s(x - r, y - r, x + r, y + r), outline=(82, 146, 210), width=w(1.4))


def _noodles(d: ImageDraw.ImageDraw) -> None:
    for i in range(9):
        x = 52 + i * 7
        d.rounded_rectangle(
            s(x, 26, x + 5, 136), radius=s(2)[0], fill=(246, 232, 190), outline=INK, width=w(0.5)
        )
    d.rectangle(s(46, 66, 120, 96), fill=(196, 52, 45), outline=INK, width=w())
    d.ellipse(s(74, 72, 92, 90), fill=(246, 206, 72))


def _toothpaste(d: ImageDraw.ImageDraw) -> None:
    d.polygon(s(30, 70, 104, 60, 112, 92, 36, 100), fill=WHITE, outline=INK, width=w())
    d.rectangle(s(104, 66, 120, 88), fill=(82, 146, 210), outline=INK, width=w())
    d.polygon(s(36, 76, 96, 68, 100, 86, 40, 94), fill=(82, 146, 210))
    d.rounded_rectangle(s(36, 116, 118, 124), radius=s(4)[0], fill=(120, 170, 80), outline=INK, width=w())
    d.rounded_rectangle(s(96, 104, 126, 118), radius=s(3)[0], fill=WHITE, outline=INK, width=w())
    for x in range(99, 125, 5):
        d.line(s(x, 104, x, 96), fill=(82, 146, 210), width=w(2))


def _tissues(d: ImageDraw.ImageDraw) -> None:
    d.rounded_rectangle(s(30, 64, 130, 126), radius=s(8)[0], fill=(236, 150, 160), outline=INK, width=w())
    d.rounded_rectangle(s(58, 60, 102, 72), radius=s(6)[0], fill=(200, 110, 122), outline=INK, width=w())
    d.polygon(s(66, 66, 70, 30, 84, 40, 96, 28, 94, 66), fill=WHITE, outline=INK, width=w())
    for x in (46, 80, 114):
        d.ellipse(s(x - 6, 98, x + 6, 110), fill=WHITE)


def _glasses(d: ImageDraw.ImageDraw) -> None:
    for x in (36, 88):
        d.ellipse(s(x, 62, x + 38, 100), fill=(220, 236, 246), outline=INK, width=w(3))
    d.arc(s(72, 66, 90, 84), 200, 340, fill=INK, width=w(3))
    d.line(s(36, 76, 22, 70), fill=INK, width=w(3))
    d.line(s(126, 76, 140, 70), fill=INK, width=w(3))
    for x in (46, 98):
        d.line(s(x, 72, x + 8, 68), fill=WHITE, width=w(2))


def _thermos(d: ImageDraw.ImageDraw) -> None:
    d.rounded_rectangle(s(56, 22, 104, 42), radius=s(6)[0], fill=(58, 58, 64), outline=INK, width=w())
    d.rounded_rectangle(s(52, 40, 108, 140), radius=s(14)[0], fill=(196, 52, 45), outline=INK, width=w())
    d.rectangle(s(52, 58, 108, 64), fill=(150, 38, 33))
    d.rounded_rectangle(s(62, 72, 70, 126), radius=s(4)[0], fill=(226, 110, 100))


def _umbrella(d: ImageDraw.ImageDraw) -> None:
    d.pieslice(s(20, 30, 140, 130), 180, 360, fill=(82, 146, 210), outline=INK, width=w())
    for x0, x1 in ((20, 50), (50, 80), (80, 110), (110, 140)):
        d.arc(s(x0, 70, x1, 90), 0, 180, fill=INK, width=w())
    d.line(s(80, 80, 80, 128), fill=INK, width=w(3))
    d.arc(s(68, 120, 82, 136), 0, 180, fill=INK, width=w(3))
    d.line(s(80, 30, 80, 22), fill=INK, width=w(3))


# Soft backgrounds by shelf (category in the demo's items).
BACKGROUNDS = {
    "粮油": (252, 241, 222),
    "日用品": (228, 240, 250),
    "长者用品": (236, 244, 228),
    "小礼品": (250, 232, 236),
}

DRAWERS: dict[str, Drawer] = {
    "大米 5kg": _rice,
    "食用油 1.8L": _oil,
    "洗衣液 2kg": _detergent,
    "挂面 1kg": _noodles,
    "牙膏牙刷套装": _toothpaste,
    "抽纸 6包": _tissues,
    "老花镜": _glasses,
    "保温杯": _thermos,
    "雨伞": _umbrella,
}


def picture(name: str, category: str) -> bytes | None:
    """A PNG of the item, or None for an item without a drawing."""
    drawer = DRAWERS.get(name)
    return None if drawer is None else render(drawer, BACKGROUNDS.get(category, SOFT))
