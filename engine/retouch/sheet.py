"""A contact sheet: one PNG grid of each photo before and after, readable at a glance."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageOps

from engine.retouch.profile import load_font

CELL_PX = 360
GAP_PX = 12
HEADER_PX = 44
PAPER = (245, 245, 243)
INK = (40, 40, 44)


def contact_sheet(
    rows: Sequence[Sequence[Image.Image]], labels: Sequence[str], cell_px: int = CELL_PX
) -> Image.Image:
    """Lay out rows of images (first the original, then each result) under column labels."""
    columns = max((len(row) for row in rows), default=len(labels))
    width = GAP_PX + columns * (cell_px + GAP_PX)
    height = HEADER_PX + len(rows) * (cell_px + GAP_PX) + GAP_PX
    sheet = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(sheet)
    font = load_font(True, 22)
    for col, label in enumerate(labels[:columns]):
        x = GAP_PX + col * (cell_px + GAP_PX) + cell_px // 2
        draw.text((x, HEADER_PX // 2 + 4), label, font=font, fill=INK, anchor="mm")
    for r, row in enumerate(rows):
        for col, image in enumerate(row):
            cell = ImageOps.pad(image.convert("RGB"), (cell_px, cell_px), color=PAPER)
            sheet.paste(
                cell, (GAP_PX + col * (cell_px + GAP_PX), HEADER_PX + r * (cell_px + GAP_PX))
            )
    return sheet
