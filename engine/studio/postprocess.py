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

from core import provenance


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
    # Without `dtype`, diffusers 0.42.1 casts the modules it shares with `pipe` to float32: the
    # worker's bf16 base pipeline would stay fp32 for every later job (REFERENCE.md).
    img2img = getattr(diffusers, name).from_pipe(pipe, dtype=pipe.unet.dtype)
    size = hires_size(images[0].size, hires.target_px, size_multiple(pipe))
    upscaled = [image.resize(size, Image.Resampling.LANCZOS) for image in images]
    args = {k: v for k, v in call.items() if k not in {"width", "height", "num_inference_steps"}}
    steps = max(hires.steps, math.ceil(1 / hires.strength))  # at least one denoising step
    result = img2img(image=upscaled, strength=hires.strength, num_inference_steps=steps, **args)
    out: list[Image.Image] = result.images
    return out


def size_multiple(pipe: Any) -> int:
    """Return the pixel multiple every side must be: the VAE's scale times the UNet's downsamples.

    The UNet halves the latent once per down block but the last, so a latent side that is not a
    multiple of 2**(blocks - 1) leaves odd sizes its skip connections must patch over.
    """
    downsamples = len(pipe.unet.config.block_out_channels) - 1
    return int(pipe.vae_scale_factor) << downsamples


def hires_size(size: tuple[int, int], target_px: int, multiple: int) -> tuple[int, int]:
    """Return `size` scaled so its long side is about `target_px`, each side a `multiple`."""
    scale = target_px / max(size)
    width, height = (max(multiple, round(side * scale / multiple) * multiple) for side in size)
    return width, height


def finish(image: Image.Image, *, monochrome: bool = False) -> Image.Image:
    """Return the image with a gentle contrast stretch and a light sharpen, in grey if asked."""
    stretched = ImageOps.autocontrast(image.convert("RGB"), cutoff=0.3, preserve_tone=True)
    sharpened = stretched.filter(ImageFilter.UnsharpMask(radius=1.2, percent=40, threshold=3))
    return to_monochrome(sharpened) if monochrome else sharpened


def to_monochrome(image: Image.Image) -> Image.Image:
    """Return the image in black and white, still RGB so every sink and export takes it alike."""
    return image.convert("L").convert("RGB")


def export_jpeg(png: bytes, quality: int = 95) -> bytes:
    """Return a high-quality JPEG of a generated PNG, marked as AI-generated like the PNG."""
    with Image.open(io.BytesIO(png)) as image:
        return provenance.jpeg(image, quality)
