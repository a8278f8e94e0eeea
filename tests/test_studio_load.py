"""The worker's studio end to end on the tiny model, loaded from settings like a real one."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from core import provenance
from core.settings import Settings
from engine.studio.generation import RenderSettings, generate_pack
from engine.studio.loading import ModelNotFoundError, WrongModelError, load_pipeline
from engine.studio.lora.backend import load_studio
from engine.studio.postprocess import (
    HiresSettings,
    export_jpeg,
    hires_size,
    size_multiple,
)
from engine.studio.protocol import RenderOrder, StageContext, Studio
from engine.studio.selection import select_best
from engine.studio.styles import get_style
from tests import photos
from tests.tiny_models import tiny_model_dir


def _settings(model: str) -> Settings:
    return Settings(_env_file=None, base_model=model, train_max_steps=2)  # type: ignore[call-arg]


def test_a_whole_pack_through_the_studio_protocol(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    studio = load_studio(_settings(str(tiny_model_dir(tmp_path_factory, "sdxl"))))
    as_protocol: Studio = studio
    selfies = [photos.to_bytes(photos.astronaut()), photos.to_bytes(photos.chelsea())]
    crops = as_protocol.preprocess(selfies, "woman")
    assert len(crops) == 1
    with Image.open(io.BytesIO(crops[0])) as crop:
        assert crop.size == (128, 128)  # the tiny model's native size
    steps: list[tuple[int, int]] = []
    ctx = StageContext("woman", 5, lambda done, total: steps.append((done, total)), lambda: False)
    identity = as_protocol.personalize(crops, ctx)
    assert identity.kind == "lora" and identity.file("lora.safetensors")
    assert steps == [(1, 2), (2, 2)]
    order = RenderOrder(("tech-casual", "medical"), 2)
    images = as_protocol.generate(identity, order, replace(ctx, on_progress=lambda d, t: None))
    assert [i.style_id for i in images] == ["tech-casual"] * 2 + ["medical"] * 2
    assert "ohwx woman" in Image.open(io.BytesIO(images[0].png)).info["parameters"]
    # Random weights draw no faces: identity selection keeps nothing rather than strangers...
    assert select_best(studio.faces, images, selfies=selfies, keep_per_style=1) == []
    # ...so on the tiny model the studio keeps the first images, for plumbing tests.
    chosen = as_protocol.select(images, selfies=selfies, keep_per_style=1)
    assert chosen.images == (images[0], images[2])
    # ...and says plainly that it found no face, rather than figures that look measured.
    assert chosen.quality.note == "no faces found" and not chosen.quality.measured
    overall = chosen.quality.overall
    assert (overall.images, overall.faces_found, overall.kept) == (4, 0, 2)
    assert overall.median_distance is None and overall.same_person_share is None
    assert [s.name for s in chosen.quality.styles] == ["tech-casual", "medical"]
    studio.close()


def test_a_model_of_the_wrong_family_names_the_setting(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    sdxl = str(tiny_model_dir(tmp_path_factory, "sdxl"))
    with pytest.raises(
        WrongModelError, match=r"HEADSHOTS_EXPRESS_MODEL=.*not a Flux2KleinPipeline"
    ):
        load_pipeline(
            sdxl, device="cpu", setting="HEADSHOTS_EXPRESS_MODEL", family="Flux2KleinPipeline"
        )


def test_a_missing_express_model_names_its_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="HEADSHOTS_EXPRESS_MODEL"):
        load_pipeline(str(tmp_path / "missing"), device="cpu", setting="HEADSHOTS_EXPRESS_MODEL")


def test_an_unknown_model_gives_one_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="HEADSHOTS_BASE_MODEL"):
        load_pipeline("no-such-org/no-such-model-xyz", device="cpu")
    with pytest.raises(ModelNotFoundError, match="tiny-model"):
        load_pipeline(str(tmp_path / "missing"), device="cpu")


def test_hires_pass_and_jpeg_export(tmp_path_factory: pytest.TempPathFactory) -> None:
    from engine.studio.lora.training import TrainConfig, train_lora

    pipe = load_pipeline(str(tiny_model_dir(tmp_path_factory, "sdxl")), device="cpu")
    config = TrainConfig(resolution=64, min_steps=1, max_steps=1, mixed_precision="no")
    lora = train_lora(
        pipe,
        [photos.astronaut()],
        config,
        subject="woman",
        on_progress=lambda done, total: None,
        should_stop=lambda: False,
    ).lora
    render = RenderSettings(64, max_steps=2, hires=HiresSettings(target_px=128, steps=2))
    style = get_style("corporate-grey")
    images = generate_pack(
        pipe,
        lora,
        [style],
        person="ohwx woman",
        images_per_style=1,
        seed=1,
        render=render,
        on_progress=lambda done, total: None,
        should_stop=lambda: False,
    )
    assert pipe.get_list_adapters() == {}
    with Image.open(io.BytesIO(images[0].png)) as png:
        size = style.shot("ohwx woman", 0, 1).size(64)
        assert png.size == hires_size(size, 128, size_multiple(pipe))
    jpeg = export_jpeg(images[0].png)
    with Image.open(io.BytesIO(jpeg)) as image:
        assert image.format == "JPEG"
        assert image.getexif()[0x010E] == provenance.AI_NOTICE
    assert provenance.source_of(images[0].png) == provenance.TRAINED_ALGORITHMIC_MEDIA
    assert provenance.source_of(jpeg) == provenance.TRAINED_ALGORITHMIC_MEDIA
