"""DreamBooth-LoRA training on the tiny SDXL and SD 1.5 pipelines, loaded like a real model."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load

from engine.studio.lora.training import TrainConfig, TrainResult, train_lora
from engine.studio.protocol import StageCancelledError
from tests import photos
from tests.tiny_models import TINY_PX, load_tiny, same_state, state_snapshot, tiny_model_dir

CONFIG = TrainConfig(
    resolution=TINY_PX,
    steps_per_photo=2,
    min_steps=1,
    max_steps=4,
    mixed_precision="no",
    rank=4,
    alpha=4,
)


@pytest.fixture(scope="module")
def sdxl(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_tiny(tiny_model_dir(tmp_path_factory, "sdxl"))


@pytest.fixture(scope="module")
def sd15(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_tiny(tiny_model_dir(tmp_path_factory, "sd15"))


def _crops() -> list[Any]:
    return [photos.astronaut(), photos.grace_hopper()]


def _train(pipe: Any, config: TrainConfig = CONFIG, **kwargs: Any) -> TrainResult:
    kwargs.setdefault("on_progress", lambda done, total: None)
    kwargs.setdefault("should_stop", lambda: False)
    return train_lora(pipe, _crops(), config, subject="woman", **kwargs)


def _folder_of(pipe: Any) -> Path:
    return Path(pipe.config["_name_or_path"])


def test_steps_grow_with_photos_and_are_capped() -> None:
    config = TrainConfig(steps_per_photo=40, min_steps=150, max_steps=500)
    assert [config.steps_for(n) for n in (1, 4, 6, 10, 20)] == [150, 160, 240, 400, 500]
    assert config.caption("man") == "photo of ohwx man"


def test_sdxl_training_saves_a_loadable_diffusers_lora(sdxl: Any, tmp_path: Path) -> None:
    progress: list[tuple[int, int]] = []
    result = _train(sdxl, on_progress=lambda done, total: progress.append((done, total)))
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert len(result.losses) == 4
    assert all(math.isfinite(loss) for loss in result.losses)
    tensors = load(result.lora)
    assert tensors and all(key.startswith("unet.") for key in tensors)
    assert {key.split(".")[-2] for key in tensors} == {"lora_A", "lora_B"}
    targets = {key.split(".lora_")[0].rsplit(".", 1)[-1] for key in tensors}
    assert targets == {"to_q", "to_k", "to_v", "0"}  # to_out.0
    fresh = load_tiny(_folder_of(sdxl))
    (tmp_path / "lora.safetensors").write_bytes(result.lora)
    fresh.load_lora_weights(str(tmp_path), weight_name="lora.safetensors", adapter_name="user")
    assert fresh.get_list_adapters() == {"unet": ["user"]}


def test_training_is_reproducible_with_a_fixed_seed(sdxl: Any) -> None:
    first, second = load(_train(sdxl).lora), load(_train(sdxl).lora)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[key], second[key]) for key in first)
    other = load(_train(sdxl, TrainConfig(**{**CONFIG.__dict__, "seed": 1})).lora)
    assert not all(torch.equal(first[key], other[key]) for key in first)


def test_training_leaves_the_base_weights_and_modules_as_they_were(sdxl: Any) -> None:
    models = (sdxl.unet, sdxl.text_encoder, sdxl.text_encoder_2, sdxl.vae)
    before = state_snapshot(*models)
    prior = TrainConfig(**{**CONFIG.__dict__, "prior_preservation": True, "class_images": 2})
    _train(sdxl, prior)
    assert same_state(before, *models)
    assert sdxl.get_list_adapters() == {}
    assert not any(p.requires_grad for p in sdxl.unet.parameters())


def test_cancel_stops_training_and_cleans_up(sdxl: Any) -> None:
    before = state_snapshot(sdxl.unet)
    calls = iter([False, False, True])
    with pytest.raises(StageCancelledError):
        _train(sdxl, should_stop=lambda: next(calls))
    assert sdxl.get_list_adapters() == {}
    assert same_state(before, sdxl.unet)


def test_sd15_trains_unet_and_text_encoder(sd15: Any) -> None:
    before = state_snapshot(sd15.unet, sd15.text_encoder)
    config = TrainConfig(**{**CONFIG.__dict__, "train_text_encoder": True})
    result = _train(sd15, config)
    prefixes = {key.split(".")[0] for key in load(result.lora)}
    assert prefixes == {"unet", "text_encoder"}
    assert all(math.isfinite(loss) for loss in result.losses)
    assert same_state(before, sd15.unet, sd15.text_encoder)
