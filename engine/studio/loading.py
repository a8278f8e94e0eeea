"""Loading a base pipeline once per worker: a local folder or the local cache, never a download."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from core.errors import ConfigError


class ModelNotFoundError(ConfigError):
    """The base model is neither a folder nor a model in the local Hugging Face cache."""


class WrongModelError(ConfigError):
    """The model is of another pipeline family than the backend needs."""


def load_pipeline(
    model: str,
    *,
    device: str,
    setting: str = "HEADSHOTS_BASE_MODEL",
    family: str | None = None,
    dtype: torch.dtype | None = None,
) -> Any:
    """Load a diffusers pipeline from a folder or the local cache, in bf16 on CUDA.

    `setting` names where the model came from, for the one-line error; `family` is the pipeline
    class the caller needs (a folder of another family fails before any weight loads); `dtype`
    overrides the device's (tests about dtypes load the tiny model as production would run).
    """
    from diffusers import DiffusionPipeline

    _check_family(model, setting, family)
    dtype = dtype or (torch.bfloat16 if device == "cuda" else torch.float32)
    try:
        load: Any = DiffusionPipeline.from_pretrained  # untyped in diffusers
        pipe = load(model, dtype=dtype, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(
            f"{setting}={model!r} is neither a diffusers folder nor a model in the "
            "local Hugging Face cache. Download it once (`hf download MODEL`), or set "
            f"{setting} to a folder (`headshots tiny-model DIR` writes a tiny one)."
        ) from exc
    if family is not None and type(pipe).__name__ != family:
        raise WrongModelError(f"{setting}={model!r} is a {type(pipe).__name__}, not a {family}")
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def _check_family(model: str, setting: str, family: str | None) -> None:
    index = Path(model) / "model_index.json"
    if family is None or not index.is_file():
        return  # a hub id: diffusers resolves it, and the class is checked once loaded
    found = json.loads(index.read_text()).get("_class_name")
    if found != family:
        raise WrongModelError(f"{setting}={model!r} is a {found}, not a {family}")


def default_resolution(pipe: Any) -> int:
    """Return the model's native square side: 1024 for SDXL, 512 for SD 1.5."""
    return int(pipe.unet.config.sample_size * pipe.vae_scale_factor)


def set_attention(pipe: Any, kind: str) -> None:
    """Give the UNet torch's fused SDPA attention (`sdpa`) or the plain matmul one (`eager`)."""
    from diffusers.models import attention_processor

    processors: Any = attention_processor  # untyped constructors
    chosen = processors.AttnProcessor2_0() if kind == "sdpa" else processors.AttnProcessor()
    pipe.unet.set_attn_processor(chosen)
