"""More like this in the engine: variations near one seed, the chosen image as a reference."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import torch
from PIL import Image

from engine.studio.express.backend import (
    TINY_PX,
    ExpressOptions,
    ExpressStudio,
    _reference_sets,
)
from engine.studio.express.render import ExpressRender
from engine.studio.protocol import Identity, IdentityFile, RenderOrder, StageContext
from engine.studio.styles import get_style, image_seed
from engine.studio.tiny_flux2 import write_tiny_flux2_klein
from tests.photos import astronaut


def test_variations_keep_the_images_outfit_and_background_with_nearby_seeds() -> None:
    style = get_style("corporate-grey")
    original = style.shot("ohwx man", 3, job_seed=11)
    variations = [style.variation("ohwx man", original.seed, i) for i in range(4)]
    assert [v.seed - original.seed for v in variations] == [1, 2, 3, 4]
    assert variations[0].prompt == original.prompt  # same outfit, background and light
    assert any(v.prompt != original.prompt for v in variations[1::2])  # the light varies
    outfit = next(o for o in style.outfits if o in original.prompt)
    background = next(b for b in style.backgrounds if b in original.prompt)
    assert all(outfit in v.prompt and background in v.prompt for v in variations)
    express = style.variation("the man in the reference photos", original.seed, 0, express=True)
    assert "reference photos" in express.prompt


def test_shots_are_fresh_without_a_near_seed() -> None:
    style = get_style("corporate-grey")
    shots = style.shots("ohwx man", 3, 11, None, express=False)
    assert [s.seed for s in shots] == [image_seed(11, style.id, i) for i in range(3)]


def test_the_chosen_image_is_a_reference_of_every_variation() -> None:
    with_image = RenderOrder(("corporate-grey",), 4, near_seed=5, reference=b"png")
    assert _reference_sets(with_image, refs=3, per_image=2) == [[0, 1], [0, 2]]
    plain = RenderOrder(("corporate-grey",), 3)
    assert _reference_sets(plain, refs=2, per_image=2) == [[0, 1]]


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> ExpressStudio:
    from diffusers import DiffusionPipeline

    torch.set_num_threads(1)
    folder = write_tiny_flux2_klein(Path(tmp_path_factory.mktemp("klein")) / "model")
    pipe = DiffusionPipeline.from_pretrained(str(folder), dtype=torch.float32,
                                             local_files_only=True)  # fmt: skip
    pipe.set_progress_bar_config(disable=True)
    render = ExpressRender(width_px=TINY_PX, height_px=TINY_PX, reference_px=TINY_PX, steps=2)
    options = ExpressOptions(render=render, select_faces=False)
    return ExpressStudio(pipe, cast(Any, None), options)  # generate never reads faces


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_more_like_this_on_the_tiny_klein_uses_the_image_as_a_reference(
    studio: ExpressStudio,
) -> None:
    face = astronaut().crop((150, 20, 310, 200)).resize((128, 128))
    identity = Identity("references", (IdentityFile("ref-00.png", _png(face)),))
    ctx = StageContext("man", 7, lambda done, total: None, lambda: False)
    chosen = _png(Image.new("RGB", (64, 64), (200, 30, 30)))
    near = RenderOrder(("corporate-grey",), 2, near_seed=1000)
    with_image = RenderOrder(("corporate-grey",), 2, near_seed=1000, reference=chosen)
    plain = studio.generate(identity, near, ctx)
    referenced = studio.generate(identity, with_image, ctx)
    assert [image.seed for image in referenced] == [1001, 1002]
    pixels = [np.asarray(Image.open(io.BytesIO(i.png))) for i in (plain[0], referenced[0])]
    assert not np.array_equal(pixels[0], pixels[1])  # the chosen image changed the render
