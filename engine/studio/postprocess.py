"""Finishing: an optional high-resolution pass with the same pipeline, a light finish, exports.

The high-resolution pass needs no extra model: upscale, then img2img at low strength with the same
base pipeline and the job's LoRA (`from_pipe` shares the loaded modules, adapter included).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageFilter, ImageOps

AI_NOTICE = "AI-generated image (headshots: Stable Diffusion with a personal LoRA)"
_EXIF_DESCRIPTION, _EXIF_SOFTWARE = 0x010E, 0x0131


@dataclass(frozen=True)
class HiresSettings:
    """The second pass: long side in pixels, img2img strength and sampler steps."""

    target_px: int = 2048
    strength: float = 0.3
    steps: int = 20


def hires_pass(
    pipe: Any, images: list[Image.Image], call: dict[str, Any], hires: HiresSettings
) -> list[Image.Image]:
    """Upscale the images to the target size and re-detail them at low strength with `pipe`."""
    import diffusers

    sdxl = getattr(pipe, "text_encoder_2", None) is not None
    name = "StableDiffusionXLImg2ImgPipeline" if sdxl else "StableDiffusionImg2ImgPipeline"
    img2img = getattr(diffusers, name).from_pipe(pipe)
    scale = hires.target_px / max(images[0].size)
    size = (_round8(images[0].width * scale), _round8(images[0].height * scale))
    upscaled = [image.resize(size, Image.Resampling.LANCZOS) for image in images]
    args = {k: v for k, v in call.items() if k not in {"width", "height", "num_inference_steps"}}
    steps = max(hires.steps, math.ceil(1 / hires.strength))  # at least one denoising step
    result = img2img(image=upscaled, strength=hires.strength, num_inference_steps=steps, **args)
    out: list[Image.Image] = result.images
    return out


def finish(image: Image.Image) -> Image.Image:
    """Return the image with a gentle contrast stretch and a light sharpen."""
    stretched = ImageOps.autocontrast(image.convert("RGB"), cutoff=0.3, preserve_tone=True)
    return stretched.filter(ImageFilter.UnsharpMask(radius=1.2, percent=40, threshold=3))


def export_jpeg(png: bytes, quality: int = 95) -> bytes:
    """Return a high-quality JPEG of a PNG, marked as AI-generated in its EXIF."""
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
    exif = Image.Exif()
    exif[_EXIF_DESCRIPTION] = AI_NOTICE
    exif[_EXIF_SOFTWARE] = "headshots"
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", quality=quality, subsampling=0, exif=exif.tobytes())
    return buffer.getvalue()


def _round8(value: float) -> int:
    return max(8, round(value / 8) * 8)
