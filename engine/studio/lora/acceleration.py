"""The few-step acceleration LoRA: loaded once per worker as a resident named adapter.

Each recipe is the model card's own recommendation (read 2026-12-01 on huggingface.co):

- `hyper-sd-8-cfg`: ByteDance/Hyper-SD `Hyper-SDXL-8steps-CFG-lora.safetensors` (openrail++),
  "CFG-preserved": 8 steps with classifier-free guidance (the card uses 5.0, so the negative
  prompt still works), DDIMScheduler with `timestep_spacing="trailing"`, LoRA scale 1.0.
- `lightning-8`: ByteDance/SDXL-Lightning `sdxl_lightning_8step_lora.safetensors` (openrail++),
  8 steps, guidance 0 (no negative prompt), EulerDiscreteScheduler with trailing timesteps.

Both are UNet-only LoRAs trained on SDXL base 1.0; the person's LoRA (trained on the base
without them) is stacked on top at render time with `set_adapters`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from engine.studio.adapters import loaded_adapters, remove_adapter
from engine.studio.loading import ModelNotFoundError

ADAPTER = "acceleration"  # reserved: job adapters are named job-<hex> or dreambooth-train
SETTING = "HEADSHOTS_STUDIO_ACCELERATION"


@dataclass(frozen=True)
class Recipe:
    """How renders run with one acceleration LoRA: its file, sampler, steps and guidance."""

    weight_name: str  # the file in the model's repository
    scheduler: str  # a name of engine.studio.styles.SCHEDULERS
    steps: int
    guidance_scale: float
    adapter_weight: float
    licence: str


RECIPES: dict[str, Recipe] = {
    "hyper-sd-8-cfg": Recipe(
        "Hyper-SDXL-8steps-CFG-lora.safetensors", "ddim_trailing", 8, 5.0, 1.0, "openrail++"
    ),
    "lightning-8": Recipe(
        "sdxl_lightning_8step_lora.safetensors", "euler_trailing", 8, 0.0, 1.0, "openrail++"
    ),
}


@dataclass(frozen=True)
class Acceleration:
    """A loaded acceleration adapter and the recipe its renders follow."""

    recipe: Recipe
    adapter: str = ADAPTER


def load_acceleration(pipe: Any, source: str, recipe: str, weight_name: str = "") -> Acceleration:
    """Load the LoRA at `source` (file, folder or cached hub id) as the resident adapter."""
    chosen = RECIPES[recipe]
    path = resolve_lora_file(source, weight_name or chosen.weight_name)
    pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name=ADAPTER)
    _check_unet_only(pipe)
    return Acceleration(chosen)


def resolve_lora_file(source: str, weight_name: str) -> Path:
    """Return the local LoRA file: `source` itself, in the folder, or in the local HF cache."""
    path = Path(source)
    if path.is_file():
        return path
    if path.is_dir() and (path / weight_name).is_file():
        return path / weight_name
    cached = _from_cache(source, weight_name)
    if cached is None:
        raise ModelNotFoundError(
            f"{SETTING}={source!r}: no LoRA file {weight_name!r} in that folder or in the local "
            f"Hugging Face cache. Download it once (`hf download {source} {weight_name}`), point "
            f"{SETTING} at the .safetensors file, or set it empty to render at the styles' steps."
        )
    return cached


def _from_cache(repo_id: str, weight_name: str) -> Path | None:
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id, weight_name, local_files_only=True))
    except (OSError, ValueError):  # not cached, or not a valid repo id at all
        return None


def _check_unet_only(pipe: Any) -> None:
    """Refuse text-encoder weights: they would stay active while the person's LoRA trains."""
    holders = [c for c, names in pipe.get_list_adapters().items() if ADAPTER in names]
    others = [c for c in holders if c != "unet"]
    if others or ADAPTER not in loaded_adapters(pipe):
        remove_adapter(pipe, ADAPTER)
        raise ConfigError(
            f"{SETTING}: the acceleration LoRA must hold UNet weights only (found "
            f"{', '.join(others) or 'no UNet weights'}); Hyper-SD and SDXL-Lightning do"
        )
