"""The express studio with its model swapped for real photos, for worker tests of the figures.

Everything but the render is the real ExpressStudio: real face crops, real reference choice and
the real selection (faces, identity ranking, near-copy floor) on real photos. `generate` returns,
per style and in turn: another shot of the person (Grace Hopper mirrored), one selfie again
(recompressed: a pasted selfie) and another person (the astronaut). No diffusion model is loaded.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageOps

from core.settings import Settings
from engine.faces import FaceAnalyzer
from engine.studio.express.backend import ExpressOptions, ExpressStudio
from engine.studio.protocol import GeneratedImage, Identity, RenderOrder, StageContext
from tests import photos


def new_shot() -> Image.Image:
    """Return another photo of the person: mirrored, her face hashes as far as a stranger's."""
    return ImageOps.mirror(photos.grace_hopper())


def pasted_selfie() -> Image.Image:
    """Return the first selfie again, recompressed: what a model that copies its reference makes."""
    return Image.open(io.BytesIO(photos.to_bytes(photos.grace_hopper(), quality=60)))


RENDERS: tuple[Callable[[], Image.Image], ...] = (new_shot, pasted_selfie, photos.astronaut)


class PhotoStudio(ExpressStudio):
    """ExpressStudio rendering real photos instead of running FLUX.2 klein."""

    def generate(
        self, identity: Identity, order: RenderOrder, ctx: StageContext
    ) -> list[GeneratedImage]:
        """Return the order's candidates, cycling through RENDERS in every style."""
        images = []
        for style_id in order.style_ids:
            for index in range(order.images_per_style):
                ctx.check()
                picture = RENDERS[index % len(RENDERS)]()
                png = photos.to_bytes(picture, "PNG")
                images.append(GeneratedImage(style_id, ctx.seed + index, png))
                ctx.on_progress(len(images), len(order.style_ids) * order.images_per_style)
        return images


def load_photo_studio(settings: Settings) -> PhotoStudio:
    """The HEADSHOTS_EXPRESS_STUDIO factory of the quality tests."""
    return PhotoStudio(None, FaceAnalyzer(), ExpressOptions())
