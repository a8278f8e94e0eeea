"""The express tier's own selection on real photos: a selfie put among its outputs is rejected.

A reference-based model can paste its reference back; the near-copy floor is what stops that
reaching the person. The outputs come from the tiny FLUX.2 klein (noise, no face) through the
express backend's own preprocess, reference choice and render; the selection then runs as it does
on a real model (faces ranked), with the selfie, its reference crop and a new shot of her added.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from PIL import ImageOps

from core.settings import Settings
from engine.studio.express.backend import ExpressStudio, load_express_studio
from engine.studio.protocol import GeneratedImage, RenderOrder, StageContext
from engine.studio.tiny_flux2 import write_tiny_flux2_klein
from tests import photos


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExpressStudio]:
    klein = write_tiny_flux2_klein(tmp_path_factory.mktemp("klein") / "model")
    settings = Settings(_env_file=None, studio="", express_model=str(klein))  # type: ignore[call-arg]
    loaded = load_express_studio(settings)
    loaded.judge.close()
    # Ranked as on a real model: the loader turns ranking off for the tiny one (noise, no face).
    ranked = ExpressStudio(loaded.pipe, loaded.faces, replace(loaded.options, select_faces=True))
    yield ranked
    ranked.close()


def test_a_selfie_among_the_express_outputs_is_rejected_as_a_near_copy(
    studio: ExpressStudio,
) -> None:
    grace = photos.grace_hopper()
    selfies = [photos.to_bytes(grace), photos.to_bytes(grace.rotate(5))]
    ctx = StageContext("woman", 7, lambda done, total: None, lambda: False)
    identity = studio.personalize(studio.preprocess(selfies, "woman"), ctx)
    rendered = studio.generate(identity, RenderOrder(("medical",), 3), ctx)
    pasted = [
        GeneratedImage("medical", 100, selfies[0]),  # the selfie itself
        GeneratedImage("medical", 101, identity.files[0].data),  # the reference crop it got
    ]
    new_shot = GeneratedImage(
        "medical", 102, photos.to_bytes(ImageOps.mirror(photos.grace_hopper()), "PNG")
    )
    chosen = studio.select([*rendered, *pasted, new_shot], selfies=selfies, keep_per_style=5)
    assert [image.seed for image in chosen.images] == [102]
    figures = chosen.quality.overall
    assert (figures.images, figures.faces_found, figures.kept) == (6, 3, 1)
    assert figures.near_copies == 2  # both pasted images, and only they
