"""The real studio: one base pipeline and one set of face models per worker, four stages per job.

`load_studio(settings)` is the worker's factory:
`HEADSHOTS_STUDIO=engine.studio.lora.backend:load_studio`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from PIL import Image

from core.settings import Settings
from engine.faces import FaceAnalyzer
from engine.jobs.contract import SUBJECTS
from engine.studio.generation import RenderSettings, generate_pack
from engine.studio.judging import FaceSelecting
from engine.studio.loading import default_resolution, load_pipeline, set_attention
from engine.studio.lora.acceleration import Acceleration, load_acceleration
from engine.studio.lora.training import TrainConfig, train_lora
from engine.studio.postprocess import HiresSettings
from engine.studio.preprocess import to_png, training_crops
from engine.studio.protocol import (
    GeneratedImage,
    Identity,
    IdentityFile,
    RenderOrder,
    StageContext,
    Tier,
)
from engine.studio.selection import SelectionRules
from engine.studio.styles import Style, get_style, load_styles
from engine.studio.styles.fit import CountTokens, check_prompts_fit
from engine.studio.tiny import is_tiny

TINY_STEPS = 4  # sampler steps on the tiny model: plumbing tests need no image quality
LORA_KIND = "lora"
LORA_FILE = "lora.safetensors"


@dataclass(frozen=True)
class StudioOptions:
    """How this worker trains, renders and selects."""

    train: TrainConfig
    resolution: int
    max_inference_steps: int | None = None  # caps every style's sampler steps (smoke tests)
    render_batch: int = 1
    selection: SelectionRules = field(default_factory=SelectionRules)
    hires: HiresSettings | None = None
    select_faces: bool = True  # off only for the tiny model, whose images are noise
    acceleration: Acceleration | None = None  # the resident few-step LoRA, loaded once


class LoraStudio(FaceSelecting):
    """The studio tier: a DreamBooth LoRA per person on a diffusers pipeline loaded once."""

    tier = Tier.STUDIO

    def __init__(
        self,
        pipe: Any,
        faces: FaceAnalyzer,
        options: StudioOptions,
        segmenter: Any | None = None,
    ) -> None:
        super().__init__(faces, options.selection, rank_faces=options.select_faces)
        self.pipe = pipe
        self.options = options
        self._segmenter = segmenter

    def preprocess(self, selfies: Sequence[bytes], subject: str) -> list[bytes]:
        """Return face-aligned, head-and-shoulders training crops (PNG) at the training size."""
        crops = training_crops(
            self.faces, selfies, size=self.options.resolution, segmenter=self._segmenter
        )
        self.judge.learn_person(selfies)  # measured while the LoRA trains
        return [to_png(crop) for crop in crops]

    def personalize(self, crops: Sequence[bytes], ctx: StageContext) -> Identity:
        """Train the person's LoRA; return it as safetensors in diffusers' format."""
        images = [Image.open(io.BytesIO(data)).convert("RGB") for data in crops]
        config = replace(self.options.train, seed=ctx.seed)
        result = train_lora(
            self.pipe,
            images,
            config,
            subject=ctx.subject,
            on_progress=ctx.on_progress,
            should_stop=ctx.should_stop,
        )
        return Identity(LORA_KIND, (IdentityFile(LORA_FILE, result.lora),))

    def generate(
        self, identity: Identity, order: RenderOrder, ctx: StageContext
    ) -> list[GeneratedImage]:
        """Render the candidates of every style with the LoRA as a per-job named adapter."""
        options = self.options
        return generate_pack(
            self.pipe,
            identity.file(LORA_FILE),
            [get_style(style_id) for style_id in order.style_ids],
            person=options.train.person(ctx.subject),
            images_per_style=order.images_per_style,
            seed=ctx.seed,
            render=RenderSettings(
                options.resolution,
                options.max_inference_steps,
                options.hires,
                options.render_batch,
                options.acceleration,
            ),
            on_progress=ctx.on_progress,
            should_stop=ctx.should_stop,
            near_seed=order.near_seed,
            on_images=self.judge.submit,
        )

    def close(self) -> None:
        """Stop the judge and release the face models, then the segmenter."""
        super().close()
        if self._segmenter is not None:
            self._segmenter.close()


def load_studio(settings: Settings) -> LoraStudio:
    """Load the base pipeline (and its acceleration LoRA) once, and the face models."""
    on_cuda = torch.cuda.is_available()
    pipe = load_pipeline(settings.base_model, device="cuda" if on_cuda else "cpu")
    set_attention(pipe, settings.studio_attention)
    train = train_config(settings, default_resolution(pipe), on_cuda=on_cuda)
    check_styles_fit(pipe, train)
    acceleration = None
    if settings.studio_acceleration:
        acceleration = load_acceleration(
            pipe,
            settings.studio_acceleration,
            settings.studio_acceleration_recipe,
            settings.studio_acceleration_weight,
        )
    hires = HiresSettings(target_px=settings.hires_px) if settings.hires_px else None
    options = StudioOptions(
        train=train, resolution=train.resolution, hires=hires,
        render_batch=settings.render_batch, acceleration=acceleration,
    )  # fmt: skip
    if is_tiny(settings.base_model):
        options = replace(options, max_inference_steps=TINY_STEPS, select_faces=False)
    segmenter = _segmenter() if settings.train_grey_background else None
    return LoraStudio(pipe, FaceAnalyzer(), options, segmenter)


def train_config(settings: Settings, resolution: int, *, on_cuda: bool) -> TrainConfig:
    """Return the worker's training recipe: the HEADSHOTS_TRAIN_* knobs at the model's size."""
    return TrainConfig(
        base_model=settings.base_model,
        resolution=resolution,
        steps_per_photo=settings.train_steps_per_photo,
        min_steps=settings.train_min_steps,
        max_steps=settings.train_max_steps,
        learning_rate=settings.train_learning_rate,
        batch_size=settings.train_batch_size,
        mixed_precision="bf16" if on_cuda else "no",
        train_text_encoder=not settings.train_unet_only,
        cache_inputs=settings.train_cache_inputs,
        fused_adamw=settings.train_fused_adamw,
        compile_unet=settings.train_compile,
    )


def check_styles_fit(pipe: Any, train: TrainConfig, styles: Sequence[Style] = ()) -> None:
    """Raise StyleError unless every style's every prompt fits each of the pipeline's tokenizers."""
    persons = [train.person(subject) for subject in SUBJECTS]
    for tokenizer in (pipe.tokenizer, getattr(pipe, "tokenizer_2", None)):
        if tokenizer is not None:
            limit = int(tokenizer.model_max_length)
            check_prompts_fit(styles or load_styles().values(), persons, _counter(tokenizer), limit)


def _counter(tokenizer: Any) -> CountTokens:
    def count(text: str) -> int:
        return len(tokenizer(text).input_ids)  # untruncated: start and end tokens included

    return count


def _segmenter() -> Any:
    import mediapipe as mp

    return mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
