"""How the express tier batches a pack on the tiny klein: sizes by aspect, rotating ref sets."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import torch
from PIL import Image

from engine.studio.express.backend import TINY_PX, ExpressOptions, ExpressStudio
from engine.studio.express.render import ExpressRender
from engine.studio.protocol import Identity, IdentityFile, RenderOrder, StageContext
from engine.studio.tiny_flux2 import write_tiny_flux2_klein

SHADES = (20, 70, 120, 170, 220)  # one grey per reference, so a call's references can be read


class RecordingPipe:
    """The real pipeline, noting each call's size, batch and references (by their grey)."""

    def __init__(self, pipe: Any) -> None:
        self.pipe = pipe
        self.calls: list[tuple[tuple[int, int], int, tuple[int, ...]]] = []

    def __call__(self, **call: Any) -> Any:
        greys = tuple(int(np.asarray(image)[0, 0, 0]) for image in call["image"])
        self.calls.append(((call["width"], call["height"]), len(call["prompt"]), greys))
        return self.pipe(**call)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[ExpressStudio, RecordingPipe]:
    from diffusers import DiffusionPipeline

    torch.set_num_threads(1)
    folder = write_tiny_flux2_klein(Path(tmp_path_factory.mktemp("klein")) / "model")
    pipe = DiffusionPipeline.from_pretrained(str(folder), dtype=torch.float32,
                                             local_files_only=True)  # fmt: skip
    pipe.set_progress_bar_config(disable=True)
    recorder = RecordingPipe(pipe)
    render = ExpressRender(TINY_PX, TINY_PX, steps=1, batch=4, reference_px=TINY_PX)
    options = ExpressOptions(render=render, references=3, select_faces=False)
    return ExpressStudio(recorder, cast(Any, None), options), recorder  # generate reads no faces


def _identity(count: int) -> Identity:
    files = []
    for n, grey in enumerate(SHADES[:count]):
        buffer = io.BytesIO()
        Image.new("RGB", (TINY_PX, TINY_PX), (grey,) * 3).save(buffer, format="PNG")
        files.append(IdentityFile(f"ref-{n:02d}.png", buffer.getvalue()))
    return Identity("references", tuple(files))


def _generate(studio: ExpressStudio, refs: int, styles: tuple[str, ...]) -> list[Any]:
    ctx = StageContext("woman", 5, lambda done, total: None, lambda: False)
    return studio.generate(_identity(refs), RenderOrder(styles, 8), ctx)


def test_four_by_five_shots_render_taller_in_whole_batches(
    recorded: tuple[ExpressStudio, RecordingPipe],
) -> None:
    studio, pipe = recorded
    pipe.calls.clear()
    images = _generate(studio, 3, ("medical",))  # its shots alternate 4:5 and 1:1
    sizes = [Image.open(io.BytesIO(image.png)).size for image in images]
    assert sizes == [(64, 80), (64, 64)] * 4
    assert [(size, batch) for size, batch, _ in pipe.calls] == [((64, 80), 4), ((64, 64), 4)]
    # Three selfies, three references per image: every call gets the same set, in one order.
    assert {greys for _, _, greys in pipe.calls} == {SHADES[:3]}


def test_more_selfies_than_references_give_the_batches_different_sets(
    recorded: tuple[ExpressStudio, RecordingPipe],
) -> None:
    studio, pipe = recorded
    pipe.calls.clear()
    _generate(studio, 5, ("medical", "office-window"))
    sets = [greys for _, _, greys in pipe.calls]
    assert [batch for _, batch, _ in pipe.calls] == [4, 4, 4, 4]  # no partial batches
    assert all(len(greys) == 3 for greys in sets)
    assert len(set(sets)) == 4 and len({frozenset(greys) for greys in sets}) == 4
    assert set().union(*sets) == set(SHADES)  # every good selfie serves the pack
