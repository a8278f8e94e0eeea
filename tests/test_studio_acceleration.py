"""The few-step studio: a resident acceleration LoRA under each person's, on the tiny SDXL."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load

from core.settings import Settings
from engine.studio.adapters import loaded_adapters
from engine.studio.generation import RenderSettings, generate_pack
from engine.studio.loading import ModelNotFoundError
from engine.studio.lora.acceleration import ADAPTER, RECIPES, Acceleration, load_acceleration
from engine.studio.lora.backend import load_studio
from engine.studio.lora.training import TrainConfig, train_lora
from engine.studio.preprocess import to_png
from engine.studio.protocol import GeneratedImage, RenderOrder, StageCancelledError, StageContext
from engine.studio.styles import Sampler, Style, get_style
from engine.studio.tiny_lora import write_tiny_acceleration_lora
from tests import photos
from tests.tiny_models import TINY_PX, load_tiny, same_state, state_snapshot, tiny_model_dir

HYPER = RECIPES["hyper-sd-8-cfg"]
TRAIN = TrainConfig(
    resolution=TINY_PX, min_steps=2, max_steps=2, learning_rate=5e-2, mixed_precision="no",
    rank=4, alpha=4,
)  # fmt: skip


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_dir(tmp_path_factory, "sdxl")


@pytest.fixture(scope="module")
def lora_folder(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("acceleration")
    write_tiny_acceleration_lora(model, folder, HYPER.weight_name)
    return folder


@pytest.fixture(scope="module")
def person(model: Path) -> bytes:
    """The person's LoRA, trained on a pipeline that has no acceleration adapter."""
    return _train(load_tiny(model))


def _train(pipe: Any, config: TrainConfig = TRAIN) -> bytes:
    return train_lora(
        pipe, [photos.astronaut()], config, subject="person",
        on_progress=lambda done, total: None, should_stop=lambda: False,
    ).lora  # fmt: skip


def _accelerated(model: Path, lora_folder: Path) -> tuple[Any, Acceleration]:
    pipe = load_tiny(model)
    return pipe, load_acceleration(pipe, str(lora_folder), "hyper-sd-8-cfg")


def _style(*, accelerate: bool = True) -> Style:
    base = get_style("corporate-grey")
    return replace(base, aspects=("1:1",), sampler=Sampler("euler", 3, 5.0, 0.9, accelerate))


def _render(
    pipe: Any, lora: bytes, style: Style, acceleration: Acceleration | None, on_progress: Any = None
) -> list[GeneratedImage]:
    return generate_pack(
        pipe, lora, [style], person="ohwx person", images_per_style=1, seed=3,
        render=RenderSettings(base_px=TINY_PX, acceleration=acceleration),
        on_progress=on_progress or (lambda done, total: None), should_stop=lambda: False,
    )  # fmt: skip


def _pixels(images: list[GeneratedImage]) -> np.ndarray[Any, Any]:
    return np.asarray(Image.open(io.BytesIO(images[0].png)))


def _base_weights(module: Any) -> dict[str, torch.Tensor]:
    """Return the module's own weights with peft's wrappers and LoRA matrices left out."""
    state = module.state_dict()
    return {k.replace(".base_layer", ""): v for k, v in state.items() if ".lora_" not in k}


def test_a_pack_renders_both_adapters_at_few_trailing_steps_and_keeps_only_the_resident(
    model: Path, lora_folder: Path, person: bytes
) -> None:
    pipe, acceleration = _accelerated(model, lora_folder)
    models = (pipe.unet, pipe.text_encoder, pipe.text_encoder_2, pipe.vae)
    before = state_snapshot(*models)
    seen: list[tuple[list[str], str, list[int], float]] = []

    def during(done: int, total: int) -> None:
        scheduler = pipe.scheduler
        seen.append(
            (sorted(pipe.get_active_adapters()), type(scheduler).__name__,
             [int(t) for t in scheduler.timesteps], pipe.guidance_scale)
        )  # fmt: skip

    _render(pipe, person, _style(), acceleration, during)
    [(active, scheduler, timesteps, guidance)] = seen
    assert ADAPTER in active and len(active) == 2 and active[1].startswith("job-")
    assert scheduler == "DDIMScheduler" and guidance == HYPER.guidance_scale
    assert len(timesteps) == HYPER.steps and timesteps[0] == 999  # trailing: from the last step
    assert pipe.get_list_adapters() == {"unet": [ADAPTER]}
    assert same_state(before, *models)
    fresh = load_tiny(model)
    assert all(
        torch.equal(weight, fresh.unet.state_dict()[key])
        for key, weight in _base_weights(pipe.unet).items()
    )  # nothing was fused into the base weights


def test_the_acceleration_changes_the_render_and_a_style_may_opt_out(
    model: Path, lora_folder: Path, person: bytes
) -> None:
    pipe, acceleration = _accelerated(model, lora_folder)
    plain = load_tiny(model)
    fast = _pixels(_render(pipe, person, _style(), acceleration))
    assert not np.array_equal(fast, _pixels(_render(plain, person, _style(), None)))
    actives: list[list[str]] = []
    opted_out = _render(
        pipe, person, _style(accelerate=False), acceleration,
        lambda done, total: actives.append(pipe.get_active_adapters()),
    )  # fmt: skip
    assert [ADAPTER in names for names in actives] == [False]
    assert np.array_equal(
        _pixels(opted_out), _pixels(_render(plain, person, _style(accelerate=False), None))
    )
    assert loaded_adapters(pipe) == {ADAPTER}


def test_the_persons_lora_trains_against_the_base_model_beside_the_resident_adapter(
    model: Path, lora_folder: Path
) -> None:
    prior = replace(TRAIN, prior_preservation=True, class_images=1)  # renders with the base
    pipe, _ = _accelerated(model, lora_folder)
    before = state_snapshot(pipe.unet)
    beside, alone = load(_train(pipe, prior)), load(_train(load_tiny(model), prior))
    assert beside.keys() == alone.keys()
    assert all(torch.equal(beside[key], alone[key]) for key in beside)
    assert pipe.get_list_adapters() == {"unet": [ADAPTER]} and same_state(before, pipe.unet)


def test_the_worker_loads_the_acceleration_once_from_settings(model: Path, tmp_path: Path) -> None:
    lightning = RECIPES["lightning-8"]
    file = write_tiny_acceleration_lora(model, tmp_path, lightning.weight_name)
    studio = load_studio(_settings(model, str(file), studio_acceleration_recipe="lightning-8"))
    assert studio.options.acceleration == Acceleration(lightning)
    assert studio.pipe.get_list_adapters() == {"unet": [ADAPTER]}
    studio.close()


@pytest.mark.parametrize("source", ["missing-folder", "nobody/no-such-lora"])
def test_a_missing_acceleration_lora_fails_at_start_naming_the_setting(
    model: Path, tmp_path: Path, source: str
) -> None:
    where = str(tmp_path / source) if source == "missing-folder" else source
    with pytest.raises(ModelNotFoundError) as error:
        load_studio(_settings(model, where))
    message = str(error.value)
    assert message.startswith(f"HEADSHOTS_STUDIO_ACCELERATION={where!r}") and "\n" not in message


def test_the_recipe_setting_offers_exactly_the_known_recipes() -> None:
    pattern = str(Settings.model_fields["studio_acceleration_recipe"].metadata[0].pattern)
    assert set(re.findall(r"[a-z0-9-]+", pattern)) == set(RECIPES)


def _settings(model: Path, acceleration: str, **extra: Any) -> Settings:
    return Settings(
        _env_file=None, base_model=str(model), studio_acceleration=acceleration, **extra
    )  # type: ignore[call-arg]


def test_a_text_encoder_lora_beside_the_resident_leaves_the_encoders_unwrapped(
    model: Path, lora_folder: Path
) -> None:
    pipe, acceleration = _accelerated(model, lora_folder)
    encoders = (pipe.text_encoder, pipe.text_encoder_2)
    before = state_snapshot(pipe.unet, *encoders)
    lora = _train(pipe, replace(TRAIN, train_text_encoder=True))
    assert {key.split(".")[0] for key in load(lora)} == {"unet", "text_encoder", "text_encoder_2"}
    active: list[dict[str, list[str]]] = []
    _render(
        pipe, lora, _style(), acceleration, lambda d, t: active.append(pipe.get_list_adapters())
    )
    assert ADAPTER in active[0]["unet"] and len(active[0]["unet"]) == 2
    assert ADAPTER not in active[0]["text_encoder"] + active[0]["text_encoder_2"]
    assert pipe.get_list_adapters() == {"unet": [ADAPTER]}
    assert same_state(before, pipe.unet, *encoders)  # the encoders are their own modules again


def test_jobs_come_and_go_on_a_worker_without_disturbing_the_resident_adapter(
    model: Path, lora_folder: Path
) -> None:
    studio = load_studio(_settings(model, str(lora_folder), train_max_steps=2))
    pipe = studio.pipe
    before = state_snapshot(pipe.unet, pipe.text_encoder, pipe.text_encoder_2)
    crops = [to_png(photos.astronaut())]
    ctx = StageContext("woman", 1, lambda done, total: None, lambda: False)
    identity = studio.personalize(crops, ctx)
    order = RenderOrder(("corporate-grey",), 1)
    first = studio.generate(identity, order, ctx)
    polls = iter([False, True])
    with pytest.raises(StageCancelledError):  # a second job, cancelled mid-render
        studio.generate(identity, order, replace(ctx, should_stop=lambda: next(polls, True)))
    again = studio.generate(identity, order, ctx)
    assert first[0].png == again[0].png  # the cancelled job left nothing behind
    assert pipe.get_list_adapters() == {"unet": [ADAPTER]}
    assert same_state(before, pipe.unet, pipe.text_encoder, pipe.text_encoder_2)
    studio.close()
