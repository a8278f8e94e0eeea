"""DreamBooth-LoRA training on the tiny SDXL and SD 1.5 pipelines, loaded like a real model."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load

from core.settings import Settings
from engine.studio.loading import set_attention
from engine.studio.lora.backend import train_config
from engine.studio.lora.training import TrainConfig, TrainResult, make_optimizer, train_lora
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


def _count_calls(*modules: Any) -> list[int]:
    """Return a list that counts each module's forward calls from now on (forward hooks)."""
    counts = [0] * len(modules)
    for i, module in enumerate(modules):
        module.register_forward_hook(lambda *_, i=i: counts.__setitem__(i, counts[i] + 1))
    return counts


def test_cached_inputs_are_encoded_once_and_give_the_same_losses(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    pipe = load_tiny(tiny_model_dir(tmp_path_factory, "sdxl"))  # its own: hooks stay on it
    counts = _count_calls(pipe.vae.encoder, pipe.text_encoder, pipe.text_encoder_2)
    cached = _train(pipe).losses
    assert counts == [2, 1, 1]  # two photos, one caption, for all four steps
    counts[:] = [0, 0, 0]
    uncached = _train(pipe, replace(CONFIG, cache_inputs=False)).losses
    assert counts == [4, 4, 4]  # one photo and the caption again at every step
    assert uncached == pytest.approx(cached, rel=1e-6)


def test_the_batch_size_reaches_the_unet(sdxl: Any) -> None:
    batches: list[int] = []
    hook = sdxl.unet.register_forward_pre_hook(lambda _, args: batches.append(len(args[0])))
    try:
        _train(sdxl, replace(CONFIG, batch_size=3, max_steps=2))
    finally:
        hook.remove()
    assert batches == [3, 3]


def test_compile_reaches_the_training_loop(sdxl: Any) -> None:
    compiling: list[bool] = []
    hook = sdxl.unet.conv_in.register_forward_pre_hook(
        lambda *_: compiling.append(torch.compiler.is_compiling())
    )
    one_step = replace(CONFIG, max_steps=1)
    try:
        eager = _train(sdxl, one_step).losses
        # The "eager" backend traces with dynamo like inductor but generates no code: seconds.
        compiled = _train(sdxl, replace(one_step, compile_unet=True, compile_backend="eager"))
    finally:
        hook.remove()
        torch.compiler.reset()
    assert compiling == [False, True]
    assert compiled.losses == pytest.approx(eager, rel=1e-5)
    assert type(sdxl.unet).__name__ == "UNet2DConditionModel"  # the pipeline keeps its own


def test_the_attention_setting_swaps_the_unets_processors(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    pipe = load_tiny(tiny_model_dir(tmp_path_factory, "sdxl"))
    sdpa = _train(pipe).losses
    set_attention(pipe, "eager")
    assert {type(p).__name__ for p in pipe.unet.attn_processors.values()} == {"AttnProcessor"}
    assert _train(pipe).losses == pytest.approx(sdpa, rel=1e-4)  # the same maths, other kernels
    set_attention(pipe, "sdpa")
    assert {type(p).__name__ for p in pipe.unet.attn_processors.values()} == {"AttnProcessor2_0"}


def test_every_training_setting_reaches_the_recipe() -> None:
    settings = Settings(
        _env_file=None, train_steps_per_photo=12, train_min_steps=30, train_max_steps=90,
        train_learning_rate=3e-4, train_batch_size=2, train_cache_inputs=False,
        train_unet_only=False, train_fused_adamw=False, train_compile=True,
    )  # type: ignore[call-arg]  # fmt: skip
    config = train_config(settings, 512, on_cuda=False)
    assert (config.steps_per_photo, config.min_steps, config.max_steps) == (12, 30, 90)
    assert (config.learning_rate, config.batch_size, config.resolution) == (3e-4, 2, 512)
    assert not config.cache_inputs and config.train_text_encoder
    assert not config.fused_adamw and config.compile_unet and config.mixed_precision == "no"
    assert train_config(Settings(_env_file=None), 1024, on_cuda=True) == TrainConfig(  # type: ignore[call-arg]
        resolution=1024, mixed_precision="bf16"
    )  # the defaults are TrainConfig's own recipe


def test_fused_adamw_is_asked_for_on_cuda_only() -> None:
    params = [torch.nn.Parameter(torch.zeros(2))]
    optimizer = make_optimizer(replace(CONFIG, fused_adamw=True, learning_rate=3e-4), params)
    assert optimizer.defaults["lr"] == 3e-4
    assert not optimizer.defaults["fused"]  # a CPU parameter: the default kernel
