"""Decoding QR images with a real decoder (zxing-cpp) for round-trip tests."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import zxingcpp
from PIL import Image, ImageDraw


@dataclass(frozen=True)
class Read:
    text: str
    ec_level: str  # "L", "M", "Q" or "H"


def read_image(data: bytes) -> Read:
    image = Image.open(io.BytesIO(data)).convert("L")
    results = zxingcpp.read_barcodes(image)
    found = [r for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert found, "no QR code found in the image"
    return Read(found[0].text, found[0].ec_level)


def decode_image(data: bytes) -> str:
    return read_image(data).text


def rasterise_svg(svg: str, scale: int = 4) -> Image.Image:
    """Draws app.core.qr's SVG the way a browser would: the viewBox is the symbol's modules, quiet
    zone included; the dark path is horizontal runs a module thick (absolute or relative moves,
    `h`/`H` runs), drawn `scale` pixels a module on white."""
    view = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    assert view, "the SVG has no viewBox"
    side = float(view.group(1))
    path = re.search(r'class="qrline"[^>]*\sd="([^"]+)"', svg)
    assert path, "the SVG has no dark path"
    img = Image.new("L", (round(side * scale), round(side * scale)), 255)
    draw = ImageDraw.Draw(img)
    x = y = 0.0
    for cmd, args in re.findall(r"([MmHh])([^MmHh]+)", path.group(1)):
        nums = [float(n) for n in re.findall(r"-?[\d.]+", args)]
        if cmd in "Mm":
            x, y = (nums[0], nums[1]) if cmd == "M" else (x + nums[0], y + nums[1])
        else:
            end = nums[0] if cmd == "H" else x + nums[0]
            left, right = sorted((x, end))
            top = y - 0.5  # a stroke of width 1 centred on the run
            draw.rectangle(
                (
                    round(left * scale),
                    round(top * scale),
                    round(right * scale) - 1,
                    round((top + 1) * scale) - 1,
                ),
                fill=0,
            )
            x = end
    return img


def read_svg(svg: str, scale: int = 4) -> Read:
    buf = io.BytesIO()
    rasterise_svg(svg, scale).save(buf, format="PNG")
    return read_image(buf.getvalue())


def decode_svg(svg: str, scale: int = 4) -> str:
    return read_svg(svg, scale).text
