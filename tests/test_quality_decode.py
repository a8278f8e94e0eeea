"""Safe decoding of what people send: formats, limits, orientation, odd pixel modes."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from engine.quality.decode import decode
from engine.quality.report import QualityError
from engine.quality.thresholds import DEFAULT_THRESHOLDS
from tests import photos


def heic_bytes(image: Image.Image, **options: object) -> bytes:
    """Encode as HEIC, the iPhone's format (pillow-heif registers the encoder)."""
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return photos.to_bytes(image, "HEIF", **options)


def code_of(data: bytes, **limits: int) -> str:
    with pytest.raises(QualityError) as caught:
        decode(data, replace(DEFAULT_THRESHOLDS, **limits))
    return caught.value.code


def png_header_only(width: int, height: int) -> bytes:
    """Return a PNG whose header claims width x height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_jpeg_png_webp_and_heic_decode_to_the_same_upright_rgb() -> None:
    heic = heic_bytes(photos.astronaut())
    for data in (
        photos.to_bytes(photos.astronaut()),
        photos.to_bytes(photos.astronaut(), "PNG"),
        photos.to_bytes(photos.astronaut(), "WEBP", quality=90),
        heic,
    ):
        photo = decode(data, DEFAULT_THRESHOLDS)
        assert photo.rgb.shape == (512, 512, 3) and photo.rgb.dtype == np.uint8
        assert photo.original_size == (512, 512)
    assert decode(heic, DEFAULT_THRESHOLDS).format == "HEIF"


def test_exif_orientation_is_applied_before_anything_else() -> None:
    sideways = photos.grace_hopper().rotate(90, expand=True)  # stored 600 wide, 512 high
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    photo = decode(photos.to_bytes(sideways, exif=exif.tobytes()), DEFAULT_THRESHOLDS)
    assert photo.original_size == (512, 600)
    assert photo.rgb.shape == (600, 512, 3)
    upright = photos.as_array(photos.grace_hopper()).astype(int)
    assert np.abs(photo.rgb.astype(int) - upright).mean() < 6
    from_iphone = decode(heic_bytes(sideways, exif=exif.tobytes()), DEFAULT_THRESHOLDS)
    assert from_iphone.original_size == (512, 600)
    assert np.abs(from_iphone.rgb.astype(int) - upright).mean() < 6


def test_large_jpeg_is_decoded_at_reduced_scale() -> None:
    big = photos.astronaut().resize((4000, 3000))
    photo = decode(photos.to_bytes(big), DEFAULT_THRESHOLDS)
    assert photo.original_size == (4000, 3000)
    assert photo.rgb.shape == (750, 1000, 3)  # decoded at 1/4 scale, no resize needed
    assert DEFAULT_THRESHOLDS.draft_px <= 1000 <= DEFAULT_THRESHOLDS.analysis_px
    assert photo.scale == pytest.approx(4.0)


def test_cmyk_sixteen_bit_and_alpha_become_rgb() -> None:
    cmyk = photos.to_bytes(photos.astronaut().convert("CMYK"))
    deep = Image.fromarray(photos.as_array(photos.camera())[..., 0].astype(np.uint16) * 257)
    alpha = photos.astronaut().convert("RGBA")
    alpha.putalpha(128)
    for data in (cmyk, photos.to_bytes(deep, "PNG"), photos.to_bytes(alpha, "PNG")):
        rgb = decode(data, DEFAULT_THRESHOLDS).rgb
        assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8
        assert 40 < rgb.mean() < 230
    gray16 = decode(photos.to_bytes(deep, "PNG"), DEFAULT_THRESHOLDS).rgb[..., 0]
    assert np.abs(gray16.astype(int) - photos.as_array(photos.camera())[..., 0]).max() <= 1


def test_broken_and_foreign_files_are_refused_with_their_reason() -> None:
    jpeg = photos.to_bytes(photos.astronaut())
    frames = [photos.astronaut(), photos.grace_hopper().resize((512, 512))]
    gif = io.BytesIO()
    frames[0].save(gif, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    assert code_of(jpeg[: len(jpeg) // 2]) == "unreadable"
    assert code_of(b"") == "unreadable"
    assert code_of(b"Dear bot, here is my selfie.\n" * 20) == "unsupported_format"
    assert code_of(gif.getvalue()) == "unsupported_format"
    assert code_of(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200) == "unsupported_format"
    assert code_of(photos.to_bytes(photos.astronaut(), "BMP")) == "unsupported_format"


def test_limits_are_checked_before_decoding() -> None:
    jpeg = photos.to_bytes(photos.astronaut())
    assert code_of(jpeg, max_bytes=len(jpeg) - 1) == "too_large"
    assert code_of(png_header_only(100_000, 100_000)) == "too_large"  # Pillow's own bomb guard
    assert code_of(png_header_only(9_000, 9_000)) == "too_large"  # our pixel limit
    tiny = photos.to_bytes(photos.astronaut().resize((200, 200)))
    assert code_of(tiny) == "low_resolution"
