"""Post-processing on the tiny model: black-and-white styles, the hi-res pass's dtype and sizes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from engine.studio.generation import RenderSettings, generate_pack, render_shots
from engine.studio.lora.training import TrainConfig, train_lora
from engine.studio.postprocess import HiresSettings, hires_size, size_multiple
from engine.studio.styles import PACKS_DIR, StyleError, get_style, load_styles
from tests import photos
from tests.tiny_models import TINY_PX, load_tiny, tiny_model_dir

PERSON = "ohwx woman"


@pytest.fixture(scope="module")
def tiny_pipe(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_tiny(tiny_model_dir(tmp_path_factory, "sdxl"))


def _colour_spread(image: Image.Image) -> int:
    """Return the largest difference between two channels of any pixel."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    return int((rgb.max(axis=2) - rgb.min(axis=2)).max())


def test_a_black_and_white_style_delivers_grey_images_whatever_the_model_draws(
    tiny_pipe: Any,
) -> None:
    render = RenderSettings(TINY_PX, max_steps=1)
    bw, colour = get_style("bw-editorial"), get_style("corporate-grey")
    assert bw.finish.monochrome and not colour.finish.monochrome
    raw = tiny_pipe(prompt=bw.shot(PERSON, 0, 1).prompt, num_inference_steps=1, width=64,
                    height=64).images[0]  # fmt: skip
    assert _colour_spread(raw) > 20  # random weights draw colour even when asked for grey
    for style, grey in ((bw, True), (colour, False)):
        shots = [style.shot(PERSON, index, 1) for index in range(2)]
        same_aspect = [shot for shot in shots if shot.aspect == shots[0].aspect]
        for image in render_shots(tiny_pipe, style, same_aspect, render, lambda: False):
            assert image.mode == "RGB"
            assert (_colour_spread(image) == 0) is grey


def test_every_shipped_black_and_white_style_asks_for_the_finish() -> None:
    for style in load_styles().values():
        named = "black and white" in style.prompt or "monochrome" in style.prompt
        assert style.finish.monochrome == named, style.id


def test_a_bad_finish_table_names_the_file(tmp_path: Path) -> None:
    good = (PACKS_DIR / "bw-editorial.toml").read_text()
    for bad, problem in (("monochrome = 1", "finish.monochrome"), ("sepia = true", r"\[finish\]")):
        (tmp_path / "bw-editorial.toml").write_text(good.replace("monochrome = true", bad))
        with pytest.raises(StyleError, match=rf"bw-editorial\.toml: {problem}"):
            load_styles(tmp_path)


# ----- the hi-res pass ---------------------------------------------------------------------


def _dtypes(pipe: Any) -> set[torch.dtype]:
    modules = (pipe.unet, pipe.vae, pipe.text_encoder, pipe.text_encoder_2)
    return {param.dtype for module in modules for param in module.parameters()}


def test_a_bf16_pipeline_stays_bf16_through_training_rendering_and_the_hires_pass(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    pipe = load_tiny(tiny_model_dir(tmp_path_factory, "sdxl"), dtype=torch.bfloat16)
    assert _dtypes(pipe) == {torch.bfloat16}
    config = TrainConfig(resolution=64, min_steps=1, max_steps=1, mixed_precision="bf16")
    noop = lambda *args: None  # noqa: E731
    lora = train_lora(pipe, [photos.astronaut()], config, subject="woman",
                      on_progress=noop, should_stop=lambda: False).lora  # fmt: skip
    assert _dtypes(pipe) == {torch.bfloat16}, "after training"
    style = get_style("corporate-grey")
    shots = [style.shot(PERSON, 1, 1)]  # 1:1
    base = render_shots(pipe, style, shots, RenderSettings(64, max_steps=1), lambda: False)
    assert _dtypes(pipe) == {torch.bfloat16}, "after the base render"
    hires = RenderSettings(64, max_steps=1, hires=HiresSettings(target_px=96, steps=2))
    images = generate_pack(pipe, lora, [style], person=PERSON, images_per_style=1, seed=1,
                           render=hires, on_progress=noop, should_stop=lambda: False)  # fmt: skip
    assert _dtypes(pipe) == {torch.bfloat16}, "after the hi-res pass and the adapter's removal"
    assert pipe.get_list_adapters() == {}
    with Image.open(io.BytesIO(images[0].png)) as png:
        assert png.size[0] > base[0].size[0]


def test_the_size_multiple_is_the_models_own(tiny_pipe: Any) -> None:
    # The tiny VAE scales by 8 and its UNet has two down blocks (one downsample): 16 px.
    assert tiny_pipe.vae_scale_factor == 8
    assert len(tiny_pipe.unet.config.block_out_channels) == 2
    assert size_multiple(tiny_pipe) == 16


def test_hires_sizes_round_to_the_model_multiple() -> None:
    # 4:5 at 1640 px long side on SDXL (multiple 32): 8 px rounding gave 1312 x 1640, whose
    # latent side 205 the UNet's two downsamples do not divide.
    assert hires_size((896, 1120), 1640, 32) == (1312, 1632)
    assert all(side % 32 == 0 for side in hires_size((896, 1120), 1640, 32))
    assert hires_size((448, 512), 2048, 64) == (1792, 2048)
    assert hires_size((10, 1000), 100, 16) == (16, 96)  # never below one multiple


def test_the_hires_pass_renders_at_the_model_multiple(tiny_pipe: Any) -> None:
    style = get_style("corporate-grey")
    shot = style.shot(PERSON, 0, 1)  # 4:5: 64 x 80 at the tiny model's 64 px
    assert shot.size(TINY_PX) == (64, 80)
    render = RenderSettings(TINY_PX, max_steps=1, hires=HiresSettings(target_px=100, steps=2))
    (image,) = render_shots(tiny_pipe, style, [shot], render, lambda: False)
    assert image.size == (80, 96)  # 8 px rounding gave 80 x 104: an odd latent height of 13
