"""Decoding QR images with a real decoder (zxing-cpp) for round-trip tests."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def decode_image(data: bytes) -> str:
    image = Image.open(io.BytesIO(data)).convert("L")
    results = zxingcpp.read_barcodes(image)
    texts = [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert texts, "no QR code found in the image"
    return texts[0]


def decode_svg(svg: str, scale: int = 4) -> str:
    """Rasterises segno's path-based SVG by re-drawing its modules (no SVG renderer needed)."""
    import re

    import segno  # noqa: F401 - documents where the SVG comes from

    size = int(re.search(r'width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    step = int(re.search(r"scale\((\d+)\)", svg).group(1))  # type: ignore[union-attr]
    path = re.search(r'class="qrline"[^>]*d="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    modules = size // step
    img = Image.new("L", (modules * scale, modules * scale), 255)
    px = img.load()
    x = y = 0.0
    for cmd, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path):
        if cmd == "M":
            x, y = float(a), float(b)
        elif cmd == "m":
            x, y = x + float(a), y + float(b)
        elif cmd == "h":
            length = float(a)
            row = int(y - 0.5)
            for col in range(int(x), int(x + length)):
                for dx in range(scale):
                    for dy in range(scale):
                        px[col * scale + dx, row * scale + dy] = 0
            x += length
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return decode_image(buf.getvalue())
