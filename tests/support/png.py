"""Reading the PNG charts the bot draws: size, pixels, colours."""

from __future__ import annotations

import io

from PIL import Image

WIDTH, HEIGHT = 1000, 560  # the charts' size in pixels
SIZE_TOLERANCE = 5
MIN_COLOURS = 8


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert abs(image.width - WIDTH) <= SIZE_TOLERANCE
    assert abs(image.height - HEIGHT) <= SIZE_TOLERANCE
    return image


def pixels(data: bytes) -> bytes:
    return open_png(data).convert("RGB").tobytes()


def colour_count(data: bytes) -> int:
    colours = open_png(data).convert("RGB").getcolors(maxcolors=WIDTH * HEIGHT)
    assert colours is not None
    return len(colours)
