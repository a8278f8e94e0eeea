"""The AI-generated mark: what core.provenance writes, read back from the raw bytes and by Pillow.

Read-back through the tiers lives beside them: the studio (test_studio_load), the express worker
(test_express_worker), the ZIP and the profile kit (test_contact_sheet).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator

import numpy as np
from PIL import Image, PngImagePlugin

from bot.fronts.discord.sink import fit_image
from bot.images.child import thumbnail
from core import provenance
from engine.retouch.profile import profile_kit
from engine.retouch.retoucher import encode_jpeg
from engine.studio.postprocess import export_jpeg
from engine.studio.preprocess import to_png

AI = provenance.TRAINED_ALGORITHMIC_MEDIA
IPTC_TYPE = b"Iptc4xmpExt:DigitalSourceType"


def _picture(side: int = 48) -> Image.Image:
    rng = np.random.default_rng(side)
    return Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8))


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Yield (type, body) of every chunk, read by the PNG specification, not by Pillow."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at = 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length : at + 12 + length])[0] == zlib.crc32(
            kind + body
        )
        yield kind, body
        at += 12 + length


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield (marker, body) of every segment before the image data."""
    assert data[:2] == b"\xff\xd8"
    at = 2
    while data[at] == 0xFF and data[at + 1] != 0xDA:
        marker, (length,) = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])
        yield marker, data[at + 4 : at + 2 + length]
        at += 2 + length


def test_a_png_has_the_notice_in_text_and_the_source_type_in_an_itxt_xmp_packet() -> None:
    data = provenance.png(_picture(), {"parameters": "a prompt"})
    chunks = list(_png_chunks(data))
    text = dict(body.split(b"\0", 1) for kind, body in chunks if kind == b"tEXt")
    assert text[b"Comment"] == provenance.AI_NOTICE.encode()
    assert text[b"ai_generated"] == b"true" and text[b"Software"] == b"headshots"
    assert text[b"parameters"] == b"a prompt"
    [itxt] = [body for kind, body in chunks if kind == b"iTXt"]
    keyword, rest = itxt.split(b"\0", 1)
    assert keyword == b"XML:com.adobe.xmp"
    assert rest[:2] == b"\0\0"  # not compressed: readers find the packet by its bytes
    assert f'{IPTC_TYPE.decode()}="{AI}"'.encode() in rest
    # Before the pixels, where readers that stop at IDAT still see it.
    kinds = [kind for kind, _ in chunks]
    assert kinds.index(b"iTXt") < kinds.index(b"IDAT")
    assert provenance.source_of(data) == AI


def test_a_jpeg_has_the_xmp_in_app1_and_the_notice_in_exif() -> None:
    data = provenance.jpeg(_picture())
    app1 = [body for marker, body in _jpeg_segments(data) if marker == 0xE1]
    [xmp] = [body for body in app1 if body.startswith(b"http://ns.adobe.com/xap/1.0/\0")]
    assert IPTC_TYPE in xmp and AI.encode() in xmp
    assert any(body.startswith(b"Exif\0\0") for body in app1)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.getexif()[0x010E] == provenance.AI_NOTICE
        assert image.getexif()[0x0131] == "headshots"
    assert provenance.source_of(data) == AI


def test_unmarked_images_and_other_bytes_have_no_source() -> None:
    plain = io.BytesIO()
    _picture().save(plain, format="PNG")
    assert provenance.source_of(plain.getvalue()) is None
    assert provenance.source_of(b"not an image") is None
    broken = PngImagePlugin.PngInfo()
    broken.add_itxt(provenance.XMP_KEYWORD, "<x:xmpmeta unclosed")
    bad = io.BytesIO()
    _picture().save(bad, format="PNG", pnginfo=broken)
    assert provenance.source_of(bad.getvalue()) is None


def test_the_source_type_written_as_an_element_by_another_tool_is_read() -> None:
    packet = provenance.XMP.replace(
        f' Iptc4xmpExt:DigitalSourceType="{AI}"/>',
        '><Iptc4xmpExt:DigitalSourceType rdf:resource="http://cv.iptc.org/newscodes/'
        'digitalsourcetype/digitalCapture"/></rdf:Description>',
    )
    assert packet != provenance.XMP
    data = io.BytesIO()
    _picture().save(data, format="JPEG", xmp=packet.encode())
    assert provenance.source_of(data.getvalue()).endswith("/digitalCapture")  # type: ignore[union-attr]


def test_a_copy_of_a_generated_image_stays_marked_and_a_photo_stays_unmarked() -> None:
    generated, photo = provenance.png(_picture(64)), encode_jpeg(np.asarray(_picture(64)))
    small = _picture(32)
    assert provenance.source_of(provenance.jpeg_like(generated, small, 80)) == AI
    assert provenance.source_of(provenance.jpeg_like(photo, small, 80)) is None
    assert provenance.source_of(thumbnail(generated, 16)) == AI
    assert provenance.source_of(thumbnail(photo, 16)) is None
    shrunk, extension = fit_image(generated, limit=len(generated) // 2)
    assert extension == "jpg" and len(shrunk) <= len(generated) // 2
    assert provenance.source_of(shrunk) == AI
    assert provenance.source_of(export_jpeg(generated)) == AI


def test_the_persons_own_photos_are_never_marked() -> None:
    """The training crops and the instant retouch are the person's photo, not a model's."""
    assert provenance.source_of(to_png(_picture())) is None
    assert provenance.source_of(encode_jpeg(np.asarray(_picture()))) is None


def test_the_profile_kit_keeps_its_headshots_mark_and_the_drawn_banner_has_none() -> None:
    headshot = provenance.png(_picture(400))
    kit = profile_kit(headshot, name="Ada", title="CTO", brand_colour="#0A66C2")
    assert {piece: provenance.source_of(data) for piece, data in kit.items()} == {
        "avatar": AI,
        "signature": AI,
        "banner": None,
    }
    photo = encode_jpeg(np.asarray(_picture(400)))
    from_photo = profile_kit(photo, name="", title="", brand_colour="#0A66C2")
    assert {provenance.source_of(data) for data in from_photo.values()} == {None}
