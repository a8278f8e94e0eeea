"""The real studio: one base pipeline and one set of face models per worker, four stages per job.

`load_studio(settings)` is the worker's factory (`HEADSHOTS_STUDIO=engine.studio:load_studio`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from PIL import Image

from engine.faces import FaceAnalyzer
from engine.generation import RenderSettings, generate_pack
from engine.postprocess import HiresSettings
from engine.preprocess import to_png, training_crops
from engine.selection import SelectionRules, select_best
from engine.stages import GeneratedImage, OnProgress, ShouldStop
from engine.styles import get_style
from engine.tiny import is_tiny
from engine.training import TrainConfig, train_lora
from storage.errors import ConfigError
from storage.settings import Settings

TINY_STEPS = 4  # sampler steps on the tiny model: plumbing tests need no image quality


class ModelNotFoundError(ConfigError):
    """The base model is neither a folder nor a model in the local Hugging Face cache."""


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


class DiffusersStudio:
    """The `Studio` of engine.stages on a diffusers pipeline loaded once."""

    def __init__(
        self,
        pipe: Any,
        faces: FaceAnalyzer,
        options: StudioOptions,
        segmenter: Any | None = None,
    ) -> None:
        self.pipe = pipe
        self.faces = faces
        self.options = options
        self._segmenter = segmenter

    def preprocess(self, selfies: Sequence[bytes], subject: str) -> list[bytes]:
        """Return face-aligned, head-and-shoulders training crops (PNG) at the training size."""
        crops = training_crops(
            self.faces, selfies, size=self.options.resolution, segmenter=self._segmenter
        )
        return [to_png(crop) for crop in crops]

    def train(
        self,
        crops: Sequence[bytes],
        *,
        subject: str,
        seed: int,
        on_progress: OnProgress,
        should_stop: ShouldStop,
    ) -> bytes:
        """Train the person's LoRA; return it as safetensors in diffusers' format."""
        images = [Image.open(io.BytesIO(data)).convert("RGB") for data in crops]
        config = replace(self.options.train, seed=seed)
        result = train_lora(
            self.pipe,
            images,
            config,
            subject=subject,
            on_progress=on_progress,
            should_stop=should_stop,
        )
        return result.lora

    def generate(
        self,
        lora: bytes,
        *,
        style_ids: Sequence[str],
        images_per_style: int,
        subject: str,
        seed: int,
        on_progress: OnProgress,
        should_stop: ShouldStop,
    ) -> list[GeneratedImage]:
        """Render the candidates of every style with the LoRA as a per-job named adapter."""
        options = self.options
        return generate_pack(
            self.pipe,
            lora,
            [get_style(style_id) for style_id in style_ids],
            person=f"{options.train.instance_token} {subject}",
            images_per_style=images_per_style,
            seed=seed,
            render=RenderSettings(
                options.resolution,
                options.max_inference_steps,
                options.hires,
                options.render_batch,
            ),
            on_progress=on_progress,
            should_stop=should_stop,
        )

    def select(
        self,
        candidates: Sequence[GeneratedImage],
        *,
        selfies: Sequence[bytes],
        keep_per_style: int,
    ) -> list[GeneratedImage]:
        """Keep the candidates with one clear face, most alike first, per style."""
        if not self.options.select_faces:
            return _first_per_style(candidates, keep_per_style)
        return select_best(
            self.faces,
            candidates,
            selfies=selfies,
            keep_per_style=keep_per_style,
            rules=self.options.selection,
        )

    def close(self) -> None:
        """Release the face models."""
        self.faces.close()
        if self._segmenter is not None:
            self._segmenter.close()


def load_studio(settings: Settings) -> DiffusersStudio:
    """Load the base pipeline once from `settings.base_model`, and the face models."""
    on_cuda = torch.cuda.is_available()
    pipe = load_pipeline(settings.base_model, device="cuda" if on_cuda else "cpu")
    resolution = default_resolution(pipe)
    train = TrainConfig(
        base_model=settings.base_model,
        resolution=resolution,
        max_steps=settings.train_max_steps,
        mixed_precision="bf16" if on_cuda else "no",
    )
    hires = HiresSettings(target_px=settings.hires_px) if settings.hires_px else None
    options = StudioOptions(
        train=train, resolution=resolution, hires=hires, render_batch=settings.render_batch
    )
    if is_tiny(settings.base_model):
        options = replace(options, max_inference_steps=TINY_STEPS, select_faces=False)
    segmenter = _segmenter() if settings.train_grey_background else None
    return DiffusersStudio(pipe, FaceAnalyzer(), options, segmenter)


def _segmenter() -> Any:
    import mediapipe as mp

    return mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)


def _first_per_style(candidates: Sequence[GeneratedImage], keep: int) -> list[GeneratedImage]:
    kept: list[GeneratedImage] = []
    for style_id in dict.fromkeys(c.style_id for c in candidates):
        kept += [c for c in candidates if c.style_id == style_id][:keep]
    return kept


def load_pipeline(model: str, *, device: str) -> Any:
    """Load a diffusers pipeline from a folder or the local cache, in bf16 on CUDA."""
    from diffusers import DiffusionPipeline

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    try:
        load: Any = DiffusionPipeline.from_pretrained  # untyped in diffusers
        pipe = load(model, dtype=dtype, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(
            f"HEADSHOTS_BASE_MODEL={model!r} is neither a diffusers folder nor a model in the "
            "local Hugging Face cache. Download it once (`hf download MODEL`), or set "
            "HEADSHOTS_BASE_MODEL to a folder (`headshots tiny-model DIR` writes a tiny one)."
        ) from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def default_resolution(pipe: Any) -> int:
    """Return the model's native square side: 1024 for SDXL, 512 for SD 1.5."""
    return int(pipe.unet.config.sample_size * pipe.vae_scale_factor)
