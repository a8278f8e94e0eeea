"""The profile kit: a circle-safe avatar, an e-mail signature picture and a LinkedIn banner."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from core import provenance
from engine.retouch.background import parse_colour
from engine.retouch.options import RetouchError

AVATAR_PX = 800
SIGNATURE_PX = 240
BANNER = (1584, 396)
TEXT_RIGHT = 96  # LinkedIn lays the profile photo over the banner's lower left: set text right
NAME_PX, TITLE_PX, MIN_TEXT_PX = 76, 38, 24
# Where the head sits in a headshot framed by this package: centre x, centre y, square side,
# as fractions of the width. Generated headshots are framed much the same way.
DEFAULT_FOCUS = (0.5, 0.46, 0.84)
Focus = tuple[float, float, float]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def profile_kit(
    headshot: bytes, *, name: str, title: str, brand_colour: str, focus: Focus | None = None
) -> dict[str, bytes]:
    """Return {"avatar": JPEG, "signature": JPEG, "banner": PNG} made from one headshot.

    The avatar and the signature are cut from the headshot and keep its AI mark when it has one
    (a generated headshot does; a retouched photo of the person does not). The banner is drawn
    here, text on a gradient, with no model: it carries no AI mark.
    """
    colour = parse_colour(brand_colour)
    image = _open(headshot)
    avatar = circle_safe_square(image, focus or DEFAULT_FOCUS)
    sizes = {"avatar": AVATAR_PX, "signature": SIGNATURE_PX}
    kit = {
        piece: provenance.jpeg_like(headshot, avatar.resize((px, px), Image.Resampling.LANCZOS), 92)
        for piece, px in sizes.items()
    }
    return {**kit, "banner": _png(banner(name, title, colour))}


def circle_safe_square(image: Image.Image, focus: Focus) -> Image.Image:
    """Cut a square around the head so that a circle inscribed in it keeps the whole head."""
    cx, cy, side = (value * image.width for value in focus)
    side = min(side, image.width, image.height)
    left = min(max(cx - side / 2, 0), image.width - side)
    top = min(max(cy - side / 2, 0), image.height - side)
    return image.crop((round(left), round(top), round(left + side), round(top + side)))


def banner(name: str, title: str, colour: tuple[int, int, int]) -> Image.Image:
    """Set the name and title on a brand-colour LinkedIn banner (1584x396)."""
    width, height = BANNER
    image = _gradient(colour)
    draw = ImageDraw.Draw(image)
    ink = _ink(colour)
    room = width // 2
    name_font, name = _fit(name, bold=True, size=NAME_PX, room=room)
    title_font, title = _fit(title, bold=False, size=TITLE_PX, room=room)
    name_box = draw.textbbox((0, 0), name, font=name_font)
    title_box = draw.textbbox((0, 0), title, font=title_font)
    gap = 48
    name_h = name_box[3] - name_box[1]
    top = (height - name_h - gap - (title_box[3] - title_box[1])) // 2 - 16
    right = width - TEXT_RIGHT
    draw.text((right, top - name_box[1]), name, font=name_font, fill=ink, anchor="ra")
    rule_y = top + name_h + gap // 2
    draw.line([(right - 120, rule_y), (right, rule_y)], fill=ink, width=3)
    draw.text(
        (right, rule_y + gap // 2 - title_box[1]), title, font=title_font, fill=ink, anchor="ra"
    )
    return image


def text_area(image_size: tuple[int, int] = BANNER) -> tuple[int, int, int, int]:
    """Return the box (left, top, right, bottom) that the banner's text is set in."""
    width, height = image_size
    return (width // 2 - TEXT_RIGHT, height // 6, width - TEXT_RIGHT // 2, height * 5 // 6)


def _fit(text: str, *, bold: bool, size: int, room: int) -> tuple[Font, str]:
    # Shrink the type down to a floor, then shorten the text with an ellipsis.
    text = " ".join(text.split())
    while size > MIN_TEXT_PX and load_font(bold, size).getlength(text) > room:
        size -= 2
    face = load_font(bold, size)
    while text and face.getlength(text) > room:
        text = text[:-2].rstrip() + "…"
    return face, text


def load_font(bold: bool, size: int) -> Font:
    """Return DejaVu Sans (bold or regular) at `size` px, or Pillow's own font without it."""
    path = font_file(bold)
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(str(path), size)


def font_file(bold: bool) -> Path | None:
    """Return DejaVu Sans from matplotlib's package data, or None when it is not installed."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    path = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf" / name
    return path if path.exists() else None


def _gradient(colour: tuple[int, int, int]) -> Image.Image:
    width, height = BANNER
    base = Image.new("RGB", BANNER, colour)
    darker = tuple(round(c * 0.78) for c in colour)
    ramp = Image.linear_gradient("L").rotate(90).resize((width, height))
    shade = Image.new("RGB", BANNER, darker)
    return Image.composite(shade, base, ImageOps.invert(ramp).point(lambda v: v * 0.8))


def _ink(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = colour
    luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return (255, 255, 255) if luma < 150 else (28, 28, 30)


def _open(data: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    except OSError as exc:
        raise RetouchError("the headshot is not an image I can read") from exc


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
