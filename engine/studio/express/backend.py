"""The express studio: one FLUX.2 [klein] pipeline per worker, the person's crops as references.

`load_express_studio(settings)` is the worker's factory
(`HEADSHOTS_EXPRESS_STUDIO=engine.studio.express.backend:load_express_studio`). No model is trained
per person: `personalize` only chooses which selfies serve as references, and `generate` renders
every style in the distilled few-step schedule with those references rotated across the pack.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from PIL import Image, PngImagePlugin

from core import provenance
from core.settings import Settings
from engine.faces import FaceAnalyzer
from engine.studio.express.render import (
    ExpressCancelledError,
    ExpressRender,
    RefCandidate,
    aspect_size,
    choose_references,
    plan_batches,
    reference_sets,
    render_express,
)
from engine.studio.judging import FaceSelecting
from engine.studio.loading import load_pipeline
from engine.studio.postprocess import to_monochrome
from engine.studio.preprocess import training_crops_with_sources
from engine.studio.protocol import (
    GeneratedImage,
    Identity,
    IdentityFile,
    RenderOrder,
    SelfieTraits,
    StageCancelledError,
    StageContext,
    Tier,
)
from engine.studio.selection import SelectionRules
from engine.studio.styles import Style, get_style
from engine.studio.tiny import is_tiny

REFERENCES_KIND = "references"
SOURCE_KEY = "headshots-selfie"  # PNG text: which selfie a crop came from, for its gate traits
TINY_PX = 64  # the tiny model renders noise: the smallest size its VAE takes


@dataclass(frozen=True)
class ExpressOptions:
    """How this worker's express tier picks references, renders and selects."""

    render: ExpressRender = field(default_factory=ExpressRender)
    references: int = 3  # the most references per image; a style may ask for fewer
    pool: int = 8  # the most selfies kept as references; the pack rotates sets of them
    crop_px: int = 512
    selection: SelectionRules = field(default_factory=SelectionRules)
    select_faces: bool = True  # off only for the tiny model, whose images are noise


class ExpressStudio(FaceSelecting):
    """The express tier on a Flux2KleinPipeline loaded once."""

    tier = Tier.EXPRESS

    def __init__(self, pipe: Any, faces: FaceAnalyzer, options: ExpressOptions) -> None:
        super().__init__(faces, options.selection, rank_faces=options.select_faces)
        self.pipe = pipe
        self.options = options

    def preprocess(self, selfies: Sequence[bytes], subject: str) -> list[bytes]:
        """Return face-aligned square crops, each naming the selfie it came from."""
        framed = training_crops_with_sources(self.faces, selfies, size=self.options.crop_px)
        self.judge.learn_person(selfies)
        return [_tagged_png(crop, source) for source, crop in framed]

    def personalize(self, crops: Sequence[bytes], ctx: StageContext) -> Identity:
        """Choose the reference crops: the most typical of the best, varied in pose and light.

        Up to `pool` of them, best first, more than one image takes: `generate` gives the pack's
        batches different sets of them. Each crop's descriptor comes from the same path as the
        gate's and the selection's (`FaceAnalyzer.descriptor`).
        """
        candidates = [
            replace(_candidate(crop, ctx.traits), descriptor=self._descriptor(crop))
            for crop in crops
        ]
        pool = max(self.options.pool, self.options.references, 1)
        chosen = choose_references(candidates, pool)
        ctx.on_progress(1, 1)
        files = tuple(IdentityFile(f"ref-{n:02d}.png", crops[i]) for n, i in enumerate(chosen))
        return Identity(REFERENCES_KIND, files)

    def generate(
        self, identity: Identity, order: RenderOrder, ctx: StageContext
    ) -> list[GeneratedImage]:
        """Render every style's candidates with the references rotated across the pack."""
        refs = [Image.open(io.BytesIO(item.data)).convert("RGB") for item in identity.files]
        if order.reference is not None:
            # "More like this": the chosen image leads every render's references.
            refs.insert(0, Image.open(io.BytesIO(order.reference)).convert("RGB"))
        styles = [get_style(style_id) for style_id in order.style_ids]
        total = len(styles) * order.images_per_style
        images: list[GeneratedImage] = []
        batches = 0  # the reference sets rotate on across styles
        try:
            for style in styles:

                def report(in_style: int, before: int = len(images)) -> None:
                    ctx.on_progress(before + in_style, total)

                rendered, batches = self._style(style, refs, order, ctx, report, first_set=batches)
                images += rendered
        except ExpressCancelledError as exc:
            self.judge.forget()
            raise StageCancelledError(str(exc)) from exc
        return images

    def _style(
        self,
        style: Style,
        refs: list[Image.Image],
        order: RenderOrder,
        ctx: StageContext,
        report: Callable[[int], None],
        *,
        first_set: int,
    ) -> tuple[list[GeneratedImage], int]:
        """Render one style in whole batches of one size; return its images and batches done."""
        per_image = min(style.express.references, self.options.references, len(refs))
        person = f"the {ctx.subject} in the reference photos"
        shots = style.shots(person, order.images_per_style, ctx.seed, order.near_seed, express=True)
        settings = replace(
            self.options.render,
            steps=style.express.steps if self._real else self.options.render.steps,
            guidance=style.express.guidance_scale,
        )
        sets = _reference_sets(order, len(refs), per_image)
        plan = plan_batches([s.aspect for s in shots], sets, settings.batch, first_set)
        done: dict[int, GeneratedImage] = {}
        for batch in plan:
            group = [shots[i] for i in batch.images]
            width, height = aspect_size(batch.aspect, self.options.render.width_px)

            def progress(group_done: int, _: int, before: int = len(done)) -> None:
                report(before + group_done)

            pictures = render_express(
                self.pipe,
                [refs[i] for i in batch.references],
                [shot.prompt for shot in group],
                [shot.seed for shot in group],
                replace(settings, width_px=width, height_px=height),
                on_progress=progress,
                should_stop=ctx.should_stop,
            )
            made = [
                GeneratedImage(style.id, shot.seed, _png(_styled(picture, style), shot.prompt))
                for shot, picture in zip(group, pictures, strict=True)
            ]
            self.judge.submit(made)  # judged while the next batch renders
            done.update(zip(batch.images, made, strict=True))
        return [done[i] for i in sorted(done)], first_set + len(plan)

    def _descriptor(self, crop: bytes) -> tuple[float, ...] | None:
        """Return the identity descriptor of the crop's face, or None when none is found."""
        with Image.open(io.BytesIO(crop)) as image:
            rgb = np.ascontiguousarray(np.asarray(image.convert("RGB")))
        boxes = self.faces.detect(rgb)
        return self.faces.descriptor(rgb, boxes[0]) if boxes else None

    @property
    def _real(self) -> bool:
        return self.options.select_faces


def load_express_studio(settings: Settings) -> ExpressStudio:
    """Load FLUX.2 [klein] once from `settings.express_model`, and the face models."""
    on_cuda = torch.cuda.is_available()
    pipe = load_pipeline(
        settings.express_model,
        device="cuda" if on_cuda else "cpu",
        setting="HEADSHOTS_EXPRESS_MODEL",
        family="Flux2KleinPipeline",
    )
    render = ExpressRender(batch=settings.express_batch, reference_px=settings.express_reference_px)
    options = ExpressOptions(render=render, references=settings.express_references)
    if is_tiny(settings.express_model):
        tiny = replace(render, width_px=TINY_PX, height_px=TINY_PX, reference_px=TINY_PX, steps=2)
        options = replace(options, render=tiny, crop_px=TINY_PX * 2, select_faces=False)
    return ExpressStudio(pipe, FaceAnalyzer(), options)


def _reference_sets(order: RenderOrder, refs: int, per_image: int) -> list[list[int]]:
    """Return the reference sets the style's batches rotate; a chosen image (index 0) is in all."""
    if order.reference is None:
        return reference_sets(list(range(refs)), per_image)
    return [[0, *rest] for rest in reference_sets(list(range(1, refs)), per_image - 1)]


def _candidate(crop: bytes, traits: Sequence[SelfieTraits]) -> RefCandidate:
    with Image.open(io.BytesIO(crop)) as image:
        source = image.info.get(SOURCE_KEY)
    index = int(source) if source is not None and str(source).isdigit() else -1
    if not 0 <= index < len(traits):
        return RefCandidate(quality=0.5)  # a selfie the gate did not describe: neutral
    found = traits[index]
    return RefCandidate(found.quality, found.yaw_deg, found.pitch_deg, found.brightness)


def _tagged_png(crop: Image.Image, source: int) -> bytes:
    # A crop of the person's own selfie, not generated: no AI mark (core/provenance.py).
    info = PngImagePlugin.PngInfo()
    info.add_text(SOURCE_KEY, str(source))
    buffer = io.BytesIO()
    crop.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def _styled(image: Image.Image, style: Style) -> Image.Image:
    """Apply the style's finish the model cannot be trusted with (black and white)."""
    return to_monochrome(image) if style.finish.monochrome else image


def _png(image: Image.Image, prompt: str) -> bytes:
    return provenance.png(image, {"parameters": prompt})
